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
    let mine = client.posts_of("@alice", Some(5)).await.expect("posts of");
    assert_eq!(mine.iter().map(|p| p.id).collect::<Vec<_>>(), [post]);
    let e = client.posts_of("@nobody", None).await.expect_err("unknown");
    assert_eq!(api_status(&e), 404);

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
    let mut alice_events = a.events().await.expect("events");
    let sent = a.send_message("@bob", "hi 👋", wait).await.expect("send");
    assert_eq!(
        (sent.from, sent.to, sent.state.as_str()),
        (alice, bob, "delivered")
    );
    // Every client of alice's hears of what she sent, from wherever she sent it.
    let heard = next_sent(&mut alice_events).await;
    assert_eq!((heard.id, heard.text.as_str()), (sent.id, "hi 👋"));
    drop(alice_events);
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

/// The next `message_sent` event of `events` (others are skipped).
async fn next_sent(
    events: &mut (impl futures::Stream<Item = Result<Event, ClientError>> + Unpin),
) -> paperplane::MessageView {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.next())
            .await
            .expect("an event in time")
            .expect("an event")
            .expect("readable");
        if let Event::MessageSent { message } = event {
            return *message;
        }
    }
}

/// The address and token of the daemon in `dir`.
fn addr_and_token(dir: &std::path::Path) -> (String, String) {
    let home = Home::new(dir);
    let addr = home.read_api_addr().expect("api.addr");
    let token = home.read_api_token().expect("api.token");
    (addr, token.expose().to_owned())
}

/// One HTTP/1.1 request on a fresh connection, written as given; the answer's status and
/// body.
async fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A request head with the token, closing the connection after the answer.
fn head(method: &str, path: &str, host: &str, token: &str, extra: &str, len: usize) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\n{extra}Connection: close\r\n\r\n"
    )
}

#[tokio::test]
async fn web_pages_are_refused_even_with_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, _client, stop) = daemon(dir.path(), "alice").await;
    let (addr, token) = addr_and_token(dir.path());
    let port = addr.rsplit_once(':').expect("port").1.to_owned();
    let get = |host: &str, extra: &str| head("GET", "/v1/status", host, &token, extra, 0);
    // The same request passes from loopback, with or without a loopback Origin.
    assert_eq!(raw(&addr, &get(&addr, ""), b"").await.0, 200);
    for host in [format!("localhost:{port}"), format!("[::1]:{port}")] {
        assert_eq!(raw(&addr, &get(&host, ""), b"").await.0, 200, "{host}");
    }
    let own = format!("Origin: http://localhost:{port}\r\n");
    assert_eq!(raw(&addr, &get(&addr, &own), b"").await.0, 200);
    for (host, extra) in [
        (addr.clone(), "Origin: http://evil.example\r\n".to_owned()),
        (addr.clone(), "Origin: null\r\n".to_owned()),
        (
            addr.clone(),
            format!("Origin: http://127.0.0.1:{port}.evil.example\r\n"),
        ),
        ("evil.example".to_owned(), String::new()),
        (format!("evil.example:{port}"), String::new()),
        (format!("192.168.1.20:{port}"), String::new()),
    ] {
        let (status, body) = raw(&addr, &get(&host, &extra), b"").await;
        assert_eq!(status, 403, "Host {host}, {extra}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }
    let _ = stop.send(());
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn each_start_writes_a_new_token_and_the_old_one_stops_working() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, _client, stop) = daemon(dir.path(), "alice").await;
    let (_, first) = addr_and_token(dir.path());
    let _ = stop.send(());
    // The same node served again: a new token, written before the API answers.
    let server = Server::bind(node.clone(), "127.0.0.1:0")
        .await
        .expect("bind");
    let addr = server.local_addr().to_string();
    let (again, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let second = Home::new(dir.path())
        .read_api_token()
        .expect("token")
        .expose()
        .to_owned();
    assert_ne!(first, second, "the token did not change");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(Home::new(dir.path()).token_path())
            .expect("token file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let get = |token: &str| head("GET", "/v1/status", &addr, token, "", 0);
    assert_eq!(raw(&addr, &get(&first), b"").await.0, 401);
    assert_eq!(raw(&addr, &get(&second), b"").await.0, 200);
    let _ = again.send(());
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn connect_says_why_a_dial_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, client, stop) = daemon(dir.path(), "alice").await;
    let (addr, token) = addr_and_token(dir.path());
    let connect = |body: String| {
        let (addr, token) = (addr.clone(), token.clone());
        async move {
            let request = head("POST", "/v1/connect", &addr, &token, "", body.len());
            raw(&addr, &request, body.as_bytes()).await
        }
    };
    let peer = node.peer_id();
    for bad in [
        String::new(),
        format!("/p2p/{peer}"),
        "/ip4/127.0.0.1".to_owned(),
        "/dns4/localhost/tcp/1".to_owned(),
        "not a multiaddr".to_owned(),
    ] {
        let (status, body) = connect(serde_json::json!({ "addr": bad }).to_string()).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
    }
    let (status, body) = connect(r#"{"addr":"/ip4/127.0.0.1/tcp/1","timeout_ms":0}"#.into()).await;
    assert_eq!(status, 400, "{body}");

    // Nothing listens: refused, 502.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let e = client
        .connect(&format!("/ip4/127.0.0.1/tcp/{port}"))
        .await
        .expect_err("refused");
    assert_eq!(api_status(&e), 502, "{e}");

    // Something accepts and never answers: 504 once the request's timeout passes.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let body = serde_json::json!({
        "addr": format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", paperplane_crypto::Identity::from_seed([9; 32]).peer_id()),
        "timeout_ms": 300,
    });
    let (status, body) = connect(body.to_string()).await;
    assert_eq!(status, 504, "{body}");
    // With a longer timeout, the transport's own connection timeout (10 s) ends the dial: 504
    // too.
    let body = serde_json::json!({
        "addr": format!("/ip4/127.0.0.1/tcp/{port}"),
        "timeout_ms": 60_000,
    });
    let (status, body) = connect(body.to_string()).await;
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("dial failed"), "{body}");
    drop(silent);
    let _ = stop.send(());
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn request_bodies_must_have_their_documented_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, client, stop) = daemon(dir.path(), "alice").await;
    let (addr, token) = addr_and_token(dir.path());
    let before = client.profile(None).await.expect("profile");
    let send =
        |method: &'static str, path: &'static str, body: &'static str, extra: &'static str| {
            let (addr, token) = (addr.clone(), token.clone());
            async move {
                let request = head(method, path, &addr, &token, extra, body.len());
                raw(&addr, &request, body.as_bytes()).await
            }
        };
    for (body, status) in [
        (r#"["Alice","hello"]"#, 422),
        ("[]", 422),
        ("null", 422),
        ("42", 422),
        (r#"{"display_name":null}"#, 422),
        (r#"{"bio":null}"#, 422),
        (r#"{"avatar_base64":null}"#, 422),
        (r#"{"bio":["x"]}"#, 422),
        (r#"{"nmae":"x"}"#, 422),
        (r#"{"business_category":"  "}"#, 400),
        (r#"{"bio":"#, 400),
        ("", 400),
    ] {
        let (got, answer) = send("PUT", "/v1/profile", body, "").await;
        assert_eq!(got, status, "PUT /v1/profile {body}: {answer}");
        assert!(answer.contains("\"error\""), "{answer}");
    }
    assert_eq!(
        client.profile(None).await.expect("profile"),
        before,
        "a refused body changed the profile"
    );
    // Not sent as JSON.
    let request = format!(
        "PUT /v1/profile HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw(&addr, &request, b"{}").await.0, 415);
    for (path, body) in [
        ("/v1/messages", r#"["@bob","hi"]"#),
        (
            "/v1/messages",
            r#"{"to":"@bob","text":"hi","wait_ms":null}"#,
        ),
        ("/v1/messages", r#"{"to":"@bob","text":null}"#),
        ("/v1/posts", r#"[["AAAA"]]"#),
        ("/v1/posts", r#"{"photos_base64":["AAAA"],"caption":null}"#),
        ("/v1/connect", r#"["/ip4/127.0.0.1/tcp/1"]"#),
        (
            "/v1/connect",
            r#"{"addr":"/ip4/127.0.0.1/tcp/1","timeout_ms":null}"#,
        ),
    ] {
        let (got, answer) = send("POST", path, body, "").await;
        assert_eq!(got, 422, "POST {path} {body}: {answer}");
    }
    // Path parameters of the wrong shape are 400 before anything is looked up.
    for path in [
        "/v1/profiles/Bob",
        "/v1/profiles/@bob..x",
        "/v1/posts/ABCDEF",
        "/v1/posts/abc",
        "/v1/messages/xyz",
        "/v1/photos/abc",
    ] {
        let (got, answer) = send("GET", path, "", "").await;
        assert_eq!(got, 400, "GET {path}: {answer}");
    }
    // Of the right shape but naming nobody: 404.
    let (got, _) = send("GET", "/v1/profiles/@nobody.here", "", "").await;
    assert_eq!(got, 404);
    let _ = stop.send(());
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn bodies_are_bounded_and_uploads_take_turns() {
    use paperplane::api::server::{MAX_CONCURRENT_UPLOADS, MAX_POST_BODY, MAX_SMALL_BODY};
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, client, stop) = daemon(dir.path(), "alice").await;
    let (addr, token) = addr_and_token(dir.path());

    // A small route refuses a body over its bound.
    let big = format!(r#"{{"to":"@bob","text":"{}"}}"#, "x".repeat(MAX_SMALL_BODY));
    let request = head("POST", "/v1/messages", &addr, &token, "", big.len());
    assert_eq!(raw(&addr, &request, big.as_bytes()).await.0, 413);
    // The upload route refuses a body over what ten photos take, before reading it all.
    let mut over = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let request = head("POST", "/v1/posts", &addr, &token, "", MAX_POST_BODY + 1);
    over.write_all(request.as_bytes()).await.expect("write");
    let answer = read_answer(&mut over).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    drop(over);

    // Uploads that have sent their head and part of their body hold the upload slots.
    let mut slow = Vec::new();
    for _ in 0..MAX_CONCURRENT_UPLOADS {
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let request = head("POST", "/v1/posts", &addr, &token, "", 1000);
        s.write_all(request.as_bytes()).await.expect("write");
        s.write_all(b"{\"photos_base64\":[").await.expect("write");
        slow.push(s);
    }
    let body = serde_json::json!({ "photos_base64": [paperplane_cli::client::encode_base64(PNG)] })
        .to_string();
    let post = head("POST", "/v1/posts", &addr, &token, "", body.len());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, answer) = raw(&addr, &post, body.as_bytes()).await;
        if status == 429 {
            assert!(answer.contains("uploads are running"), "{answer}");
            break;
        }
        assert_eq!(status, 201, "{answer}");
        assert!(tokio::time::Instant::now() < deadline, "never 429");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Once they are gone, uploads are taken again (the client waits for its turn).
    drop(slow);
    client
        .post(&[PNG], "after")
        .await
        .expect("an upload after the others");
    let _ = stop.send(());
    node.shutdown().await.expect("shutdown");
}

/// Reads an answer's head (up to the blank line) from a connection kept open.
async fn read_answer(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, client, stop) = daemon(dir.path(), "alice").await;
    let (addr, token) = addr_and_token(dir.path());
    let doc = client.openapi().await.expect("openapi");
    let sample = |name: &str| match name {
        "peer" | "reference" => "@nobody".to_owned(),
        "hash" => "0".repeat(64),
        _ => "0".repeat(32),
    };
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let mut concrete = path.clone();
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().expect("name");
                    concrete = concrete.replace(&format!("{{{name}}}"), &sample(name));
                }
            }
            let body = if op.get("requestBody").is_some() {
                "{}"
            } else {
                ""
            };
            let method = method.to_uppercase();
            let (status, answer) = if path == "/v1/events" {
                let mut s = tokio::net::TcpStream::connect(&addr)
                    .await
                    .expect("connect");
                let request = head(&method, &concrete, &addr, &token, "", 0);
                tokio::io::AsyncWriteExt::write_all(&mut s, request.as_bytes())
                    .await
                    .expect("write");
                let answer = read_answer(&mut s).await;
                (answer[9..12].parse::<u16>().expect("status"), answer)
            } else {
                let request = head(&method, &concrete, &addr, &token, "", body.len());
                raw(&addr, &request, body.as_bytes()).await
            };
            assert!(
                status != 405 && !answer.contains("no such API route"),
                "{method} {path} is documented but not served: {status} {answer}"
            );
            assert!(status < 500, "{method} {concrete}: {status} {answer}");
            seen += 1;
        }
    }
    assert_eq!(seen, 85);
    // The check tells a served route from one that is not.
    let request = head("GET", "/v1/nothing", &addr, &token, "", 0);
    assert!(raw(&addr, &request, b"")
        .await
        .1
        .contains("no such API route"));
    let _ = stop.send(());
    node.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_through_the_api() {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (node_a, a, stop_a) = daemon(dir_a.path(), "alice").await;
    let (node_b, b, stop_b) = daemon(dir_b.path(), "bob").await;
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

    let group = a
        .create_group("book club", &["@bob".to_owned()])
        .await
        .expect("create");
    assert_eq!(group.name, "book club");
    assert_eq!(group.members.len(), 2);
    let id = group.id.to_hex();
    assert_eq!(a.group("book club").await.expect("by name").id, group.id);
    assert_eq!(a.group(&id[..8]).await.expect("by prefix").id, group.id);
    let mut alice_events = a.events().await.expect("events");
    let sent = a
        .send_group_message(&id, "first chapter?", None, Some(10_000))
        .await
        .expect("send");
    assert_eq!(sent.group, Some(group.id));
    assert_eq!(sent.state, "delivered");
    assert_eq!(next_sent(&mut alice_events).await.id, sent.id);
    drop(alice_events);
    eventually("bob gets the group and the text", || async {
        b.group_chat(&id, None, false)
            .await
            .is_ok_and(|m| m.iter().any(|m| m.text == "first chapter?"))
    })
    .await;
    // Bob does not follow alice: the group is a request until he accepts it.
    let listed = b.groups().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].folder, paperplane::Folder::Requests);
    let accepted = b.accept_group("book club").await.expect("accept");
    assert_eq!(accepted.folder, paperplane::Folder::Inbox);
    let read = b.group_chat(&id, Some(10), true).await.expect("read");
    assert_eq!(read.len(), 1);
    // One message by id (or prefix), and the page before it (none: it is the first).
    let one = b
        .group_message(&id, &sent.id.to_hex()[..8])
        .await
        .expect("one message");
    assert_eq!((one.id, one.text.as_str()), (sent.id, "first chapter?"));
    let older = b
        .group_chat_before(&id, &sent.id.to_hex(), Some(10))
        .await
        .expect("page");
    assert!(older.is_empty(), "{older:?}");
    let reply = b
        .send_group_message(&id, "yes!", Some(&sent.id.to_hex()[..8]), None)
        .await
        .expect("reply");
    assert_eq!(
        reply.reply_to.as_ref().map(|q| q.id),
        Some(sent.id),
        "{reply:?}"
    );
    let page = b
        .group_chat_before(&id, &reply.id.to_hex(), Some(10))
        .await
        .expect("page");
    assert_eq!(
        page.iter().map(|m| m.id).collect::<Vec<_>>(),
        [sent.id],
        "the page before the reply"
    );
    let liked = b
        .react_in_group(&id, &sent.id.to_hex(), None, false)
        .await
        .expect("react");
    assert_eq!(liked.reactions.len(), 1);
    eventually("alice sees seen-by, the reply and the like", || async {
        a.group_chat(&id, None, false).await.is_ok_and(|m| {
            m.iter().any(|m| m.text == "yes!")
                && m.iter()
                    .any(|m| m.id == sent.id && m.seen_by.len() == 1 && m.reactions.len() == 1)
        })
    })
    .await;
    let info = a.group(&id).await.expect("info");
    assert!(info
        .members
        .iter()
        .any(|m| m.admin && m.peer == node_a.peer_id()));

    // A member who is not an admin cannot change the roster.
    let e = b.rename_group(&id, "mine").await.expect_err("not an admin");
    assert_eq!(api_status(&e), 409);
    assert!(e.to_string().contains("admin"), "{e}");
    for (e, code) in [
        (a.group("no such group").await.expect_err("unknown"), 404),
        (a.group(&"0".repeat(32)).await.expect_err("unknown"), 404),
        (
            a.send_group_message("nope", "x", None, None)
                .await
                .expect_err("unknown"),
            404,
        ),
        (
            a.send_group_message(&id, " ", None, None)
                .await
                .expect_err("blank"),
            400,
        ),
        (
            a.create_group(" ", &["@bob".to_owned()])
                .await
                .expect_err("blank name"),
            400,
        ),
        (a.create_group("solo", &[]).await.expect_err("nobody"), 400),
        (
            a.create_group("x", &["@nobody".to_owned()])
                .await
                .expect_err("unknown peer"),
            404,
        ),
        (
            a.group_chat(&id, Some(0), false)
                .await
                .expect_err("limit 0"),
            400,
        ),
        (
            a.edit_in_group(&id, &reply.id.to_hex(), "mine now")
                .await
                .expect_err("not hers"),
            409,
        ),
    ] {
        assert_eq!(api_status(&e), code, "{e}");
    }
    let left = b.leave_group(&id).await.expect("leave");
    assert_eq!(serde_json::to_value(left.status).expect("json"), "left");

    let _ = (stop_a.send(()), stop_b.send(()));
    node_a.shutdown().await.expect("shutdown");
    node_b.shutdown().await.expect("shutdown");
}
