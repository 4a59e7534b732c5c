//! The real `paperplane` binary end to end: daemons on loopback driven by CLI commands, as a
//! user would. Feed and social commands; direct messages, requests, blocking, notifications;
//! and the delivery guarantees when the receiver or the sender is killed with SIGKILL in the
//! middle of a burst of 500 `paperplane send` commands.

use std::{collections::HashSet, fs, sync::mpsc, thread};

use serde_json::Value;

use crate::common_cli::{self, cli, eventually, User, PNG};

/// Messages in each burst.
const BURST: usize = 500;
/// After how many sends the victim is killed.
const KILL_AFTER: usize = 150;

fn texts(messages: &Value) -> Vec<&str> {
    messages
        .as_array()
        .expect("an array of messages")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect()
}

fn ids(messages: &Value) -> Vec<&str> {
    messages
        .as_array()
        .expect("an array of messages")
        .iter()
        .map(|m| m["id"].as_str().expect("id"))
        .collect()
}

#[test]
fn two_daemons_follow_post_and_comment_through_the_cli() {
    let mut alice = User::init("alice");
    let mut bob = User::init("bob");
    alice.start();
    bob.start();

    let status = bob.json(&["status"]);
    assert_eq!(status["handle"], "bob");
    assert_eq!(status["peer_id"], bob.peer_id.as_str());
    let addr = status["listen_addrs"][0].as_str().expect("listen address");
    assert!(
        addr.starts_with("/ip4/127.0.0.1/tcp/") && addr.ends_with(&format!("/p2p/{}", bob.peer_id)),
        "{addr}"
    );
    let connected = alice.json(&["connect", addr]);
    assert_eq!(connected["peer_id"], bob.peer_id.as_str());
    eventually("alice knows @bob", || {
        alice
            .cli(&["profile", "show", "@bob"])
            .status
            .success()
            .then_some(())
    });
    let follow = alice.json(&["follow", "@bob"]);
    assert_eq!(follow["following"], true);

    let photo = bob.scratch("sunset.png");
    fs::write(&photo, PNG).expect("write the photo");
    let post = bob.json(&["post", photo.to_str().expect("path"), "--caption", "sunset"]);
    let post_id = post["id"].as_str().expect("post id").to_owned();
    let seen = eventually("the post reaches alice's feed", || {
        let feed = alice.json(&["feed"]);
        feed.as_array()?
            .iter()
            .find(|p| p["id"] == post_id.as_str())
            .cloned()
    });
    assert_eq!(seen["caption"], "sunset");
    assert_eq!(seen["author_handle"], "bob");
    let hash = seen["photos"][0]["hash"].as_str().expect("photo hash");
    let saved = alice.scratch("saved.png");
    alice.ok(&["photo", hash, "--out", saved.to_str().expect("path")]);
    assert_eq!(fs::read(&saved).expect("saved photo"), PNG);

    let liked = alice.json(&["like", &post_id[..8]]);
    assert_eq!(liked["liked"], true);
    let comment = alice.json(&["comment", &post_id, "what a view"]);
    let comment_id = comment["id"].as_str().expect("comment id").to_owned();
    eventually("bob sees alice's like and comment", || {
        let feed = bob.json(&["feed"]);
        let p = feed
            .as_array()?
            .iter()
            .find(|p| p["id"] == post_id.as_str())?;
        let liked = p["liked_by"]
            .as_array()?
            .iter()
            .any(|l| l == alice.peer_id.as_str());
        let commented = p["comments"]
            .as_array()?
            .iter()
            .any(|c| c["id"] == comment_id.as_str() && c["text"] == "what a view");
        (liked && commented).then_some(())
    });
    let human = alice.ok(&["feed"]);
    assert!(
        human.contains("@bob") && human.contains("sunset") && human.contains("1 like"),
        "{human}"
    );

    // Errors: non-zero exit and one line on stderr.
    let err = alice.err(&["follow", "@nobody"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: unknown peer @nobody"), "{err}");
    let err = alice.err(&["like", "zzzzzz"]);
    assert_eq!(err.lines().count(), 1, "{err}");

    // No daemon: the plain message, naming the home and how to start one.
    let carol = User::init("carol");
    let err = carol.err(&["status"]);
    let home = carol.home.display().to_string();
    assert_eq!(
        err,
        format!(
            "error: no paperplane daemon is running for {home}; start one with \
             `paperplane --home {home} daemon`\n"
        )
    );
}

#[test]
fn direct_messages_requests_notifications_and_blocking_through_the_cli() {
    let mut alice = User::init("alice");
    // Bob's daemon runs a notification command that records its arguments, one a line. The
    // shell only runs the fixed script; the values arrive as positional parameters.
    let notified_dir = tempfile::tempdir().expect("tempdir");
    let notified = notified_dir.path().join("notified");
    let notified_arg = notified.to_str().expect("path").to_owned();
    let mut bob = User::init_with(
        "bob",
        &[
            "--",
            "sh",
            "-c",
            r#"printf '%s\n' "$@" >> "$0""#,
            &notified_arg,
            "{kind}",
            "{sender}",
            "{preview}",
        ],
    );
    alice.start();
    bob.start();
    alice.meet(&bob);

    // Bob does not follow alice: her messages are a request.
    let pwned = notified_dir.path().join("pwned");
    let hostile = format!(
        "hi bob $(touch {}); \"quoted\" 'single'; ok",
        pwned.display()
    );
    let first = alice.json(&["send", "@bob", &hostile]);
    assert!(
        ["delivered", "pending"].contains(&first["state"].as_str().expect("state")),
        "{first}"
    );
    let second = alice.json(&["send", &bob.peer_id, "are you there? 👋", "--wait"]);
    assert_eq!(second["state"], "delivered", "{second}");
    assert_eq!(second["from"], alice.peer_id.as_str());
    assert_eq!(second["to"], bob.peer_id.as_str());
    let human = alice.ok(&["send", "@bob", "third", "--wait"]);
    let (id, state) = human.trim().split_once("  ").expect("id and state");
    assert_eq!((id.len(), state), (32, "delivered"), "{human}");

    let inbox = bob.json(&["inbox"]);
    assert_eq!(
        inbox,
        Value::Array(Vec::new()),
        "a request, not an inbox chat"
    );
    let requests = bob.json(&["requests"]);
    assert_eq!(requests.as_array().expect("requests").len(), 1);
    assert_eq!(requests[0]["peer"], alice.peer_id.as_str());
    assert_eq!(requests[0]["handle"], "alice");
    assert_eq!(requests[0]["unread"], 3);
    assert_eq!(requests[0]["last_message"]["text"], "third");
    assert!(requests[0]["first_message"]["text"]
        .as_str()
        .is_some_and(|t| t.starts_with("hi bob")));
    // People see what the stranger wrote first.
    let listed = bob.ok(&["requests"]);
    assert!(
        listed.contains("@alice") && listed.contains("FIRST MESSAGE") && listed.contains("hi bob"),
        "{listed}"
    );

    let chat = bob.json(&["chat", "@alice"]);
    assert_eq!(
        texts(&chat),
        [hostile.as_str(), "are you there? 👋", "third"]
    );
    for m in chat.as_array().expect("messages") {
        assert_eq!(m["from"], alice.peer_id.as_str());
        assert_eq!(m["state"], "received");
        assert!(m["sent_at"].as_u64().is_some_and(|t| t > 0), "{m}");
    }
    assert_eq!(chat[1]["id"], second["id"]);
    assert_eq!(
        bob.json(&["requests"])[0]["unread"],
        0,
        "opening the chat read it"
    );

    // Each message ran bob's notification command once, the text as one argument.
    let lines = eventually("three notifications ran", || {
        let text = fs::read_to_string(&notified).ok()?;
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        (lines.len() >= 9).then_some(lines)
    });
    let mut expected_previews: HashSet<String> =
        HashSet::from([hostile.clone(), "are you there? 👋".into(), "third".into()]);
    for n in lines.chunks(3) {
        assert_eq!(
            (n[0].as_str(), n[1].as_str()),
            ("request", "@alice"),
            "{lines:?}"
        );
        assert!(
            expected_previews.remove(&n[2]),
            "unexpected preview {:?}",
            n[2]
        );
    }
    assert!(!pwned.exists(), "the message text was executed");

    // Decline deletes the request; a later message is a new request, which bob accepts.
    let declined = bob.json(&["decline", "@alice"]);
    assert_eq!(declined["decision"], "declined");
    assert_eq!(bob.json(&["requests"]), Value::Array(Vec::new()));
    assert_eq!(bob.json(&["chat", "@alice"]), Value::Array(Vec::new()));
    alice.json(&["send", "@bob", "please?", "--wait"]);
    assert_eq!(texts(&bob.json(&["chat", "@alice"])), ["please?"]);
    let accepted = bob.json(&["accept", "@alice"]);
    assert_eq!(accepted["decision"], "accepted");
    assert!(
        bob.ok(&["accept", "@alice"]).contains("accepted"),
        "idempotent"
    );
    assert_eq!(bob.json(&["requests"]), Value::Array(Vec::new()));
    let inbox = bob.json(&["inbox"]);
    assert_eq!(inbox[0]["peer"], alice.peer_id.as_str());
    assert_eq!(inbox[0]["folder"], "inbox");

    // `watch` prints the next message as it arrives; now it is a plain message.
    let mut watch = std::process::Command::new(common_cli::binary())
        .arg("--home")
        .arg(&bob.home)
        .args(["watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("watch");
    let (lines_tx, lines_rx) = mpsc::channel();
    let stdout = watch.stdout.take().expect("watch output");
    thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // Events are not replayed to late subscribers and nothing tells when `watch` has
    // subscribed: send until one of the messages shows up.
    let event = eventually("watch prints a message event", || {
        alice.json(&["send", "@bob", "watched", "--wait"]);
        while let Ok(line) = lines_rx.recv_timeout(std::time::Duration::from_millis(500)) {
            let e: Value = serde_json::from_str(&line).expect("JSON event");
            if e["type"] == "message" && e["message"]["text"] == "watched" {
                return Some(e);
            }
        }
        None
    });
    assert_eq!(event["request"], false);
    assert_eq!(event["message"]["from"], alice.peer_id.as_str());
    let _ = watch.kill();
    let _ = watch.wait();

    // Both ends show the same safety number: 60 digits, three lines of four groups.
    let theirs = alice.json(&["safety-number", "@bob"]);
    let ours = bob.json(&["safety-number", "@alice"]);
    assert_eq!(theirs["safety_number"], ours["safety_number"]);
    let shown = bob.ok(&["safety-number", "@alice"]);
    let groups: Vec<Vec<&str>> = shown
        .lines()
        .skip_while(|l| !l.is_empty())
        .skip(1)
        .map(|l| l.split(' ').collect())
        .collect();
    assert_eq!(groups.len(), 3, "{shown}");
    for line in &groups {
        assert_eq!(line.len(), 4, "{shown}");
        assert!(
            line.iter()
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())),
            "{shown}"
        );
    }

    // Blocked: alice's next message ends failed, and `send` says so.
    let blocked = bob.json(&["block", "@alice"]);
    assert_eq!(blocked["blocked"], true);
    let list = bob.json(&["blocked"]);
    assert_eq!(list[0]["peer_id"], alice.peer_id.as_str());
    assert_eq!(list[0]["handle"], "alice");
    let out = alice.cli(&["send", "@bob", "blocked?", "--wait", "--json"]);
    assert!(!out.status.success(), "a refused message is a failure");
    let refused: Value = serde_json::from_slice(&out.stdout).expect("JSON message");
    assert_eq!(refused["state"], "failed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: message ") && err.contains("does not accept"),
        "{err}"
    );
    let history = alice.json(&["chat", "@bob"]);
    let last = history
        .as_array()
        .and_then(|h| h.last())
        .expect("a message");
    assert_eq!(
        (last["id"].clone(), last["state"].clone()),
        (refused["id"].clone(), "failed".into())
    );
    assert!(!texts(&bob.json(&["chat", "@alice"])).contains(&"blocked?"));
    assert_eq!(bob.json(&["unblock", "@alice"])["blocked"], false);
    assert_eq!(bob.json(&["blocked"]), Value::Array(Vec::new()));
}

/// Alice and bob met; bob follows alice, so her messages go to his inbox (a stranger's
/// requests are rate-limited).
#[test]
fn a_message_that_looks_like_an_option_reaches_the_notification_command_as_an_argument() {
    // Bob's command parses options the way most commands do (anything starting with `-`
    // before `--` is one) and records what it saw. It is given as the README writes it: `--`
    // before the placeholders, after the daemon's own `--`.
    let dir = tempfile::tempdir().expect("tempdir");
    let seen = dir.path().join("seen");
    let script = r#"
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    -*) printf 'option %s\n' "$1" >> "$0"; shift ;;
    *) break ;;
  esac
done
for a in "$@"; do printf 'argument %s\n' "$a" >> "$0"; done
printf 'environment %s\n' "$PAPERPLANE_PREVIEW" >> "$0""#;
    let seen_arg = seen.to_str().expect("path").to_owned();
    let mut alice = User::init("alice");
    let mut bob = User::init_with(
        "bob",
        &["--", "sh", "-c", script, &seen_arg, "--", "{preview}"],
    );
    alice.start();
    bob.start();
    alice.meet(&bob);
    alice.wait_for_keys_of(&bob);
    alice.ok(&["--json", "send", "--wait", "@bob", "--", "--foo bar"]);
    let lines = eventually("the notification ran", || {
        let text = fs::read_to_string(&seen).ok()?;
        text.contains("environment").then_some(text)
    });
    assert_eq!(lines, "argument --foo bar\nenvironment --foo bar\n");
}

#[test]
fn the_cli_does_not_send_the_token_off_this_machine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    common_cli::cli_json(&home, &["init", "--handle", "alice"]);
    fs::write(home.join("api.addr"), "192.0.2.7:7878").expect("api.addr");
    fs::write(home.join("api.token"), "0123456789abcdef").expect("api.token");
    let err = common_cli::cli_err(&home, &["status"]);
    assert!(
        err.contains("refusing to send the API token to 192.0.2.7:7878"),
        "{err}"
    );
}

fn friends() -> (User, User) {
    let mut alice = User::init("alice");
    let mut bob = User::init("bob");
    alice.start();
    bob.start();
    alice.meet(&bob);
    bob.ok(&["follow", "@alice"]);
    (alice, bob)
}

/// `paperplane send --no-wait` of burst message `i`: its id if the command succeeded.
/// Without waiting for acknowledgements the daemon pipelines the outbox, so a kill finds
/// envelopes in flight, some stored by the receiver but not yet acknowledged.
fn send_burst(home: &std::path::Path, to: &str, i: usize) -> Option<String> {
    let out = cli(
        home,
        &["send", to, &format!("burst {i:03}"), "--no-wait", "--json"],
    );
    if !out.status.success() {
        return None;
    }
    let m: Value = serde_json::from_slice(&out.stdout).expect("JSON message");
    assert!(
        ["pending", "delivered"].contains(&m["state"].as_str().expect("state")),
        "{m}"
    );
    Some(m["id"].as_str().expect("id").to_owned())
}

/// Waits until alice's outbox is empty, then checks that every message of her chat with bob
/// is delivered.
fn drained(alice: &User, bob: &User) {
    eventually("alice's outbox is empty", || {
        (alice.outbox() == 0).then_some(())
    });
    let ours = alice.json(&["chat", &bob.peer_id, "--limit", "1000"]);
    for m in ours.as_array().expect("messages") {
        assert_eq!(m["state"], "delivered", "{m}");
    }
}

#[test]
fn receiver_killed_mid_burst_gets_all_500_exactly_once_in_order() {
    let (alice, mut bob) = friends();
    let bob_id = bob.peer_id.clone();

    // Bob's daemon is killed from another thread while alice's sends go on.
    let (kill_tx, kill_rx) = mpsc::channel::<()>();
    let killer = thread::spawn(move || {
        kill_rx.recv().expect("the signal to kill");
        bob.kill();
        bob
    });
    let mut sent = Vec::with_capacity(BURST);
    for i in 0..BURST {
        if i == KILL_AFTER {
            kill_tx.send(()).expect("killer waits");
        }
        let id = send_burst(&alice.home, &bob_id, i)
            .unwrap_or_else(|| panic!("send {i} failed while alice's daemon runs"));
        sent.push(id);
    }
    let mut bob = killer.join().expect("killer");
    assert!(alice.outbox() > 0, "messages wait for bob");

    // Bob comes back on the same home and a new port; alice is told where.
    bob.start();
    alice.ok(&["connect", &bob.addr()]);
    drained(&alice, &bob);

    let got = bob.json(&["chat", "@alice", "--limit", "1000"]);
    let expected: Vec<String> = (0..BURST).map(|i| format!("burst {i:03}")).collect();
    assert_eq!(texts(&got), expected, "all 500, once each, in send order");
    assert_eq!(ids(&got), sent);
}

#[test]
fn sender_killed_mid_burst_delivers_every_queued_message_exactly_once_in_order() {
    let (mut alice, bob) = friends();
    let alice_home = alice.home.clone();
    let bob_id = bob.peer_id.clone();
    // Alice comes back after this many send attempts; those in between may fail.
    let restart_at = KILL_AFTER + 10;

    let (kill_tx, kill_rx) = mpsc::channel::<()>();
    let killer = thread::spawn(move || {
        kill_rx.recv().expect("the signal to kill");
        alice.kill();
        alice
    });
    let mut killer = Some(killer);
    let mut alice = None;
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for i in 0..BURST {
        if i == KILL_AFTER {
            kill_tx.send(()).expect("killer waits");
        }
        if i == restart_at {
            let mut a = killer.take().expect("once").join().expect("killer");
            a.start();
            a.ok(&["connect", &bob.addr()]);
            alice = Some(a);
        }
        match send_burst(&alice_home, &bob_id, i) {
            Some(id) => succeeded.push((i, id)),
            None => {
                assert!(
                    (KILL_AFTER..restart_at).contains(&i),
                    "send {i} failed while alice's daemon runs"
                );
                failed.push(i);
            }
        }
    }
    let alice = alice.expect("restarted");
    assert!(
        succeeded.len() >= BURST - (restart_at - KILL_AFTER),
        "only sends while alice was down may fail"
    );

    drained(&alice, &bob);
    let got = bob.json(&["chat", "@alice", "--limit", "1000"]);
    let got_ids = ids(&got);
    let got_texts = texts(&got);
    let unique: HashSet<&str> = got_ids.iter().copied().collect();
    assert_eq!(unique.len(), got_ids.len(), "a message arrived twice");
    // In send order; besides the sends that succeeded, only a send cut off by the kill
    // (its message queued, its answer lost) may show up.
    let indices: Vec<usize> = got_texts
        .iter()
        .map(|t| {
            t.strip_prefix("burst ")
                .and_then(|n| n.parse().ok())
                .expect("a burst message")
        })
        .collect();
    assert!(
        indices.windows(2).all(|w| w[0] < w[1]),
        "out of order: {indices:?}"
    );
    let succeeded_ids: HashSet<&str> = succeeded.iter().map(|(_, id)| id.as_str()).collect();
    for (id, i) in got_ids.iter().zip(&indices) {
        assert!(
            succeeded_ids.contains(id) || failed.contains(i),
            "message {i} was never sent"
        );
    }
    for (i, id) in &succeeded {
        assert!(unique.contains(id.as_str()), "message {i} was lost");
    }
}

/// A post is on disk before anyone sees it: bob's daemon is killed with SIGKILL the moment
/// `post` returns, and after the restart his next post takes the next sequence number, which
/// alice accepts (a lost post would have its number reused, refused as equivocation).
#[test]
fn a_post_survives_sigkill_right_after_it_is_published() {
    let mut alice = User::init("alice");
    let mut bob = User::init("bob");
    alice.start();
    bob.start();
    alice.meet(&bob);
    alice.json(&["follow", "@bob"]);
    let photo = bob.scratch("p.png");
    fs::write(&photo, PNG).expect("write the photo");
    let path = photo.to_str().expect("path");
    let first = bob.json(&["post", path, "--caption", "first"]);
    bob.kill();
    let first_id = first["id"].as_str().expect("post id").to_owned();
    bob.start();
    let own = bob.json(&["feed"]);
    assert!(
        own.as_array()
            .expect("feed")
            .iter()
            .any(|p| p["id"] == first_id.as_str()),
        "the post survived the kill"
    );
    alice.ok(&["connect", &bob.addr()]);
    eventually("the first post reaches alice", || {
        let feed = alice.json(&["feed"]);
        feed.as_array()?
            .iter()
            .any(|p| p["id"] == first_id.as_str())
            .then_some(())
    });
    let second = bob.json(&["post", path, "--caption", "second"]);
    let second_id = second["id"].as_str().expect("post id").to_owned();
    eventually("the second post reaches alice", || {
        let feed = alice.json(&["feed"]);
        feed.as_array()?
            .iter()
            .any(|p| p["id"] == second_id.as_str())
            .then_some(())
    });
    assert_eq!(alice.json(&["status"])["rejected_records"], 0);
}
