//! The library's API server and the CLI's API client together over loopback, on real nodes.

use std::time::Duration;

use futures::StreamExt;
use paperplane::{
    api::{
        types::{Decision, ProfilePatch},
        Server,
    },
    Event, Home, Node, NodeConfig,
};
use paperplane_cli::client::{Client, ClientError};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn daemon(
    dir: &std::path::Path,
    handle: &str,
) -> (Node, Client, tokio::sync::oneshot::Sender<()>) {
    let home = Home::new(dir);
    paperplane::init(&home, handle, Some("Alice")).expect("init");
    let node = Node::start(NodeConfig::loopback(home.clone()))
        .await
        .expect("start");
    let server = Server::bind(node.clone(), "127.0.0.1:0")
        .await
        .expect("bind");
    home.write_api_addr(&server.local_addr().to_string())
        .expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let client = Client::for_home(&home).expect("client");
    (node, client, stop)
}

fn api_status(e: &ClientError) -> u16 {
    match e {
        ClientError::Api { status, .. } => *status,
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test]
async fn the_api_serves_a_node_to_its_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, client, stop) = daemon(dir.path(), "alice").await;

    let status = client.status().await.expect("status");
    assert_eq!(status.node.peer_id, node.peer_id());
    assert_eq!(status.node.handle, "alice");
    assert_eq!(status.outbox, 0);

    let wrong = Client::new(
        &client_addr(dir.path()),
        paperplane::home::ApiToken::new("wrong"),
        dir.path().display().to_string(),
    )
    .expect("client");
    let e = wrong.status().await.expect_err("401");
    assert_eq!(api_status(&e), 401);
    assert!(e.to_string().contains("API token"), "{e}");

    let patch = ProfilePatch {
        bio: Some("hello".into()),
        business_category: Some(Some("Bakery".into())),
        ..ProfilePatch::default()
    };
    let before = client.profile(None).await.expect("own profile").version;
    let p = client.set_profile(&patch).await.expect("set profile");
    assert_eq!((p.bio.as_str(), p.version), ("hello", before + 1));
    assert_eq!(p.business_category.as_deref(), Some("Bakery"));
    let p = client.profile(Some("@alice")).await.expect("by handle");
    assert_eq!(p.display_name, "Alice");
    let e = client.profile(Some("@nobody")).await.expect_err("unknown");
    assert_eq!(api_status(&e), 404);

    let mut events = client.events().await.expect("events");
    let e = client
        .post(&[b"not an image".to_vec()], "x")
        .await
        .expect_err("not an image");
    assert_eq!(api_status(&e), 400);
    assert!(e.to_string().contains("not a JPEG"), "{e}");
    let post = client.post(&[PNG], "first").await.expect("post").id;
    match events.next().await.expect("an event").expect("readable") {
        Event::Post { post: p } => assert_eq!(p.id, post),
        other => panic!("unexpected event {other:?}"),
    }

    let prefix = &post.to_hex()[..8];
    let like = client.like(prefix).await.expect("like");
    assert!(like.liked);
    let comment = client.comment(prefix, "nice").await.expect("comment").id;
    let feed = client.feed(Some(10)).await.expect("feed");
    assert_eq!(feed.len(), 1);
    assert!(feed[0].liked_by_me);
    assert_eq!(feed[0].comments[0].id, comment);
    client
        .delete_comment(&comment.to_hex())
        .await
        .expect("uncomment");
    assert!(client
        .post_view(prefix)
        .await
        .expect("post")
        .comments
        .is_empty());
    let e = client.feed(Some(0)).await.expect_err("limit 0");
    assert_eq!(api_status(&e), 400);

    let hash = feed[0].photos[0].hash.to_hex();
    let (bytes, mime) = client.photo(&hash).await.expect("photo");
    assert_eq!((bytes.as_slice(), mime.as_str()), (PNG, "image/png"));
    let e = client.photo("abc").await.expect_err("bad hash");
    assert_eq!(api_status(&e), 400);

    let doc = client.openapi().await.expect("openapi");
    assert_eq!(doc["openapi"], "3.1.0");

    let _ = stop.send(());
    // The event stream ends when the server stops.
    let rest = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(e) = events.next().await {
            if e.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(rest.is_ok(), "the event stream did not end at shutdown");
    node.shutdown().await.expect("shutdown");
}

fn client_addr(dir: &std::path::Path) -> String {
    Home::new(dir).read_api_addr().expect("api.addr")
}

/// Polls `check` until it holds, for at most 10 s.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_through_the_api() {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (node_a, a, stop_a) = daemon(dir_a.path(), "alice").await;
    let (node_b, b, stop_b) = daemon(dir_b.path(), "bob").await;
    let (alice, bob) = (node_a.peer_id(), node_b.peer_id());
    let addr = b.status().await.expect("status").node.listen_addrs[0].clone();
    a.connect(&addr).await.expect("connect");
    eventually("both know each other's keys", || async {
        a.profile(Some("@bob"))
            .await
            .is_ok_and(|p| p.messaging_keys)
            && b.profile(Some("@alice"))
                .await
                .is_ok_and(|p| p.messaging_keys)
    })
    .await;

    let wait = Some(10_000);
    let sent = a.send_message("@bob", "hi 👋", wait).await.expect("send");
    assert_eq!(
        (sent.from, sent.to, sent.state.as_str()),
        (alice, bob, "delivered")
    );
    let by_id = a.message(&sent.id.to_hex()).await.expect("by id");
    assert_eq!(by_id, sent);

    // Bob does not follow alice: a request, not an inbox chat.
    assert!(b.inbox().await.expect("inbox").is_empty());
    let requests = b.requests().await.expect("requests");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].handle.as_deref(), Some("alice"));
    assert_eq!(requests[0].unread, 1);
    let chat = b.chat("@alice", Some(10), None).await.expect("chat");
    assert_eq!(chat.len(), 1);
    assert_eq!((chat[0].id, chat[0].state.as_str()), (sent.id, "received"));
    assert_eq!(b.requests().await.expect("requests")[0].unread, 0, "read");
    let older = b
        .chat(&alice.to_string(), None, Some(&sent.id.to_hex()))
        .await
        .expect("page before");
    assert!(older.is_empty());

    let status_of = |e: ClientError| api_status(&e);
    for (e, code) in [
        (
            b.chat("@alice", Some(0), None).await.expect_err("limit 0"),
            400,
        ),
        (
            b.chat("@alice", None, Some("xyz"))
                .await
                .expect_err("bad id"),
            400,
        ),
        (a.message("nothex").await.expect_err("bad id"), 400),
        (a.message(&"00".repeat(16)).await.expect_err("no such"), 404),
        (
            a.send_message("@nobody", "x", None)
                .await
                .expect_err("unknown"),
            404,
        ),
        (
            a.send_message("@bob", &"x".repeat(4097), None)
                .await
                .expect_err("too long"),
            400,
        ),
        (
            a.send_message("@bob", "x", Some(25 * 3600 * 1000))
                .await
                .expect_err("wait too long"),
            400,
        ),
        (b.safety_number("@nobody").await.expect_err("unknown"), 404),
    ] {
        assert_eq!(status_of(e), code);
    }

    let decision = b.accept("@alice").await.expect("accept");
    assert_eq!(
        (decision.peer_id, decision.decision),
        (alice, Decision::Accepted)
    );
    assert_eq!(b.inbox().await.expect("inbox").len(), 1);
    assert!(b.requests().await.expect("requests").is_empty());
    let e = b.decline("@alice").await.expect_err("not a request");
    assert_eq!(api_status(&e), 400);

    assert_eq!(
        a.safety_number("@bob").await.expect("safety").safety_number,
        b.safety_number("@alice")
            .await
            .expect("safety")
            .safety_number
    );

    let blocked = b.block("@alice").await.expect("block");
    assert!(blocked.blocked);
    let list = b.blocked().await.expect("blocked");
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].peer_id, list[0].handle.as_deref()),
        (alice, Some("alice"))
    );
    let refused = a
        .send_message(&bob.to_string(), "still there?", wait)
        .await
        .expect("send");
    assert_eq!(refused.state, "failed");
    assert!(
        refused
            .error
            .as_deref()
            .is_some_and(|e| e.contains("does not accept")),
        "{refused:?}"
    );
    assert!(!b.unblock("@alice").await.expect("unblock").blocked);
    assert!(b.blocked().await.expect("blocked").is_empty());
    assert_eq!(a.status().await.expect("status").outbox, 0);

    let _ = (stop_a.send(()), stop_b.send(()));
    node_a.shutdown().await.expect("shutdown");
    node_b.shutdown().await.expect("shutdown");
}
