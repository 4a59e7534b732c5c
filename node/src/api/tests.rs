//! The server and client together over loopback, on one real node.

use futures::StreamExt;

use super::{types::ProfilePatch, Client, ClientError, Server};
use crate::{config::NodeConfig, event::Event, home::Home, node::Node};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn daemon(dir: &std::path::Path) -> (Node, Client, tokio::sync::oneshot::Sender<()>) {
    let home = Home::new(dir);
    crate::node::init(&home, "alice", Some("Alice")).expect("init");
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
    let (node, client, stop) = daemon(dir.path()).await;

    let status = client.status().await.expect("status");
    assert_eq!(status.peer_id, node.peer_id());
    assert_eq!(status.handle, "alice");

    let wrong = Client::new(
        &client_addr(dir.path()),
        "wrong".into(),
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
