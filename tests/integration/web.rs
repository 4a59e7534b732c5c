//! The web app the daemon serves: its files, the one-time sign-in link, the session cookie and
//! what a cookie may do, over raw HTTP against the real binary. (The pages themselves are
//! tested in a browser: node/web/e2e.)

use std::{fs, time::Duration};

use crate::common_cli::{command_wrapped, User};

/// A user with a running daemon.
fn running(handle: &str) -> User {
    let mut user = User::init(handle);
    user.start();
    user
}

/// The address of `user`'s local API.
fn api(user: &User) -> String {
    fs::read_to_string(user.home.join("api.addr"))
        .expect("api.addr")
        .trim()
        .to_owned()
}

/// An answer: status, head (lowercase header lines) and body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    /// The value of header `name` (lowercase), if present.
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One HTTP/1.1 request on a fresh connection to `addr` with `Host: addr`, `extra` header
/// lines and `body`.
async fn request(addr: &str, method: &str, path: &str, extra: &[String], body: &str) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// The `/signin?code=…` part of a link.
fn path_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http link");
    let slash = rest.find('/').expect("a path");
    rest[slash..].to_owned()
}

/// The link `paperplane open --print` prints.
fn link(user: &User) -> String {
    let out = user.ok(&["open", "--print"]);
    let url = out.trim().to_owned();
    assert!(
        url.starts_with(&format!("http://{}/signin?code=", api(user))),
        "{url}"
    );
    url
}

/// Signs in with a fresh link; the `Cookie:` header line it earns.
async fn sign_in(user: &User) -> String {
    let addr = api(user);
    let answer = request(&addr, "GET", &path_of(&link(user)), &[], "").await;
    assert_eq!(answer.status, 303, "{}", answer.head);
    let set_cookie = answer.header("set-cookie").expect("a cookie");
    let pair = set_cookie.split(';').next().expect("name=value");
    format!("Cookie: {pair}")
}

#[tokio::test]
async fn the_app_is_served_with_a_strict_policy() {
    let alice = running("alice");
    let addr = api(&alice);
    let page = request(&addr, "GET", "/", &[], "").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    // The page's script is served, for good (its name carries its hash).
    let script = page
        .body
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("the page names its script")
        .to_owned();
    let js = request(&addr, "GET", &script, &[], "").await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js
        .header("cache-control")
        .is_some_and(|c| c.contains("immutable")));
    assert!(!js.body.is_empty());
    for missing in [
        "/assets/nothing.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/x",
    ] {
        assert_eq!(request(&addr, "GET", missing, &[], "").await.status, 404);
    }
    // A page elsewhere may not load it, nor a name rebound to loopback.
    let foreign = ["Origin: http://evil.example".to_owned()];
    assert_eq!(request(&addr, "GET", "/", &foreign, "").await.status, 403);
    assert_eq!(request_with_host(&addr, "evil.example").await, 403);
}

/// The status of `GET /` with `Host: host`.
async fn request_with_host(addr: &str, host: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_one_time_link_exchanges_for_a_session_cookie() {
    let alice = running("alice");
    let addr = api(&alice);
    let port = addr.rsplit_once(':').expect("port").1.to_owned();
    let url = link(&alice);
    let first = request(&addr, "GET", &path_of(&url), &[], "").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), Some("/"));
    let set_cookie = first.header("set-cookie").expect("a cookie");
    assert!(set_cookie.starts_with(&format!("paperplane_session_{port}=")));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Domain"), "host-only: {set_cookie}");
    let cookie = format!(
        "Cookie: {}",
        set_cookie.split(';').next().expect("name=value")
    );

    // A link works once.
    let again = request(&addr, "GET", &path_of(&url), &[], "").await;
    assert_eq!(again.status, 403);
    assert!(again.body.contains("paperplane open"), "{}", again.body);
    assert!(again.header("set-cookie").is_none());
    for bad in ["/signin", "/signin?code=", "/signin?code=00ff"] {
        let answer = request(&addr, "GET", bad, &[], "").await;
        assert!(
            matches!(answer.status, 400 | 403),
            "{bad}: {}",
            answer.status
        );
        assert!(answer.header("set-cookie").is_none());
    }

    // The cookie reads the API like the token does; a wrong one does not.
    let status = request(
        &addr,
        "GET",
        "/v1/status",
        std::slice::from_ref(&cookie),
        "",
    )
    .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert!(status.body.contains(&alice.peer_id));
    assert_eq!(
        status.header("cross-origin-resource-policy"),
        Some("same-origin"),
        "no other origin may embed an answer"
    );
    // A page on another port of 127.0.0.1 is the same site, so its <img> would carry the
    // cookie: the browser's Sec-Fetch-Site gives it away.
    for site in ["same-site", "cross-site"] {
        let embedded = [cookie.clone(), format!("Sec-Fetch-Site: {site}")];
        let answer = request(&addr, "GET", "/v1/status", &embedded, "").await;
        assert_eq!(answer.status, 403, "{site}");
    }
    let forged = format!("Cookie: paperplane_session_{port}={}", "0".repeat(64));
    assert_eq!(
        request(&addr, "GET", "/v1/status", &[forged], "")
            .await
            .status,
        401
    );
    assert_eq!(
        request(&addr, "GET", "/v1/status", &[], "").await.status,
        401
    );

    // Changing something with the cookie needs this page's own Origin, and no other site's.
    let own = format!("Origin: http://127.0.0.1:{port}");
    let body = r#"{"on":false}"#;
    let path = "/v1/settings/read-receipts";
    let no_origin = request(&addr, "PUT", path, std::slice::from_ref(&cookie), body).await;
    assert_eq!(no_origin.status, 403, "{}", no_origin.body);
    let foreign = [cookie.clone(), "Origin: http://evil.example".to_owned()];
    assert_eq!(
        request(&addr, "PUT", path, &foreign, body).await.status,
        403
    );
    let cross_site = [
        cookie.clone(),
        own.clone(),
        "Sec-Fetch-Site: cross-site".to_owned(),
    ];
    assert_eq!(
        request(&addr, "PUT", path, &cross_site, body).await.status,
        403
    );
    let same = [
        cookie.clone(),
        own.clone(),
        "Sec-Fetch-Site: same-origin".to_owned(),
    ];
    let changed = request(&addr, "PUT", path, &same, body).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(alice.ok(&["receipts"]).contains("off"), "the change took");

    // A signed-in page cannot mint links (only the token can).
    let minted = request(&addr, "POST", "/v1/web/link", &same, "").await;
    assert_eq!(minted.status, 403, "{}", minted.body);

    // Signing out ends the session and clears the cookie.
    let out = request(&addr, "POST", "/v1/web/signout", &same, "").await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("\"ended\":true"), "{}", out.body);
    assert!(out
        .header("set-cookie")
        .is_some_and(|c| c.contains("Max-Age=0")));
    assert_eq!(
        request(&addr, "GET", "/v1/status", &[cookie], "")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn sessions_end_when_the_daemon_restarts() {
    let mut alice = running("alice");
    let cookie = sign_in(&alice).await;
    let addr = api(&alice);
    assert_eq!(
        request(&addr, "GET", "/v1/inbox", std::slice::from_ref(&cookie), "")
            .await
            .status,
        200
    );
    alice.kill();
    alice.start();
    let addr = api(&alice);
    assert_eq!(
        request(&addr, "GET", "/v1/inbox", &[cookie], "")
            .await
            .status,
        401
    );
}

#[test]
fn open_starts_the_browser_named_by_browser() {
    let alice = running("alice");
    let seen = alice.scratch("seen-url");
    let script = alice.scratch("browser.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > {}\n", seen.display()),
    )
    .expect("script");
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let out = command_wrapped(&[])
        .arg("--home")
        .arg(&alice.home)
        .arg("open")
        .env(
            "BROWSER",
            format!("/nonexistent/browser:{}", script.display()),
        )
        .env_remove("PAPERPLANE_HOME")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = fs::read_to_string(&seen).expect("the browser was started with the link");
    assert!(url.starts_with(&format!("http://{}/signin?code=", api(&alice))));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("code="),
        "the link is not printed when a browser took it"
    );

    // With no browser at all, the link is printed instead.
    let out = command_wrapped(&[])
        .arg("--home")
        .arg(&alice.home)
        .arg("open")
        .env("BROWSER", "/nonexistent/browser")
        .env("PATH", "/nonexistent")
        .env_remove("PAPERPLANE_HOME")
        .output()
        .expect("run");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("no browser could be started"), "{stdout}");
    assert!(stdout.contains("/signin?code="), "{stdout}");
}
