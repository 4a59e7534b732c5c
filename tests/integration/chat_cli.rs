//! The chat beyond text through the real `paperplane` binary, both ends checked: seen
//! receipts (and switching them off), likes and reactions with shortcodes, replies quoting
//! the original, edits, unsend, the paper-plane share sheet and a shared post, and the
//! clear errors for a message that is not yours, not an emoji, or not there.

use std::fs;

use serde_json::Value;

use crate::common_cli::{eventually, User, PNG};

/// Two daemons that met; bob follows alice (so nothing lands in requests).
fn pair() -> (User, User) {
    let mut alice = User::init("alice");
    let mut bob = User::init("bob");
    alice.start();
    bob.start();
    alice.meet(&bob);
    bob.ok(&["follow", "@alice"]);
    alice.ok(&["follow", "@bob"]);
    (alice, bob)
}

/// The message `id` in `user`'s chat with `peer` once `check` holds for it.
fn message_where(
    user: &User,
    peer: &str,
    id: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    eventually(what, || {
        let chat = user.json(&["chat", peer, "--limit", "100"]);
        chat.as_array()?
            .iter()
            .find(|m| m["id"] == id && check(m))
            .cloned()
    })
}

#[test]
fn seen_reactions_replies_edits_unsend_and_shares_through_the_cli() {
    let (alice, bob) = pair();
    let sent = alice.json(&["send", "@bob", "dinner at 8?", "--wait"]);
    let id = sent["id"].as_str().expect("id").to_owned();
    assert_eq!(sent["state"], "delivered");
    let short = &id[..8];

    // Bob opens the chat: alice sees her message seen, with when.
    let opened = bob.json(&["chat", "@alice"]);
    assert_eq!(opened[0]["id"], id.as_str());
    let seen = message_where(&alice, "@bob", &id, "alice's message seen", |m| {
        m["state"] == "seen"
    });
    assert!(seen["seen_at"].as_u64().is_some(), "{seen}");

    // A like (the default), then a shortcode that replaces it.
    let liked = bob.json(&["react", short]);
    assert_eq!(liked["reactions"][0]["emoji"], "❤️");
    message_where(&alice, "@bob", &id, "bob's like", |m| {
        m["reactions"][0]["emoji"] == "❤️" && m["reactions"][0]["count"] == 1
    });
    let fire = bob.json(&["react", short, ":fire:"]);
    assert_eq!(fire["reactions"].as_array().map(Vec::len), Some(1));
    assert_eq!(fire["reactions"][0]["emoji"], "🔥");
    message_where(&alice, "@bob", &id, "bob's fire replaces his like", |m| {
        m["reactions"].as_array().map(Vec::len) == Some(1) && m["reactions"][0]["emoji"] == "🔥"
    });
    assert!(bob.err(&["react", short, "ab"]).contains("not one emoji"));
    assert!(bob.err(&["react", "zz", "❤️"]).contains("message id"));

    // Alice edits; bob cannot.
    let edited = alice.json(&["edit", short, "dinner at 9?"]);
    assert_eq!(edited["text"], "dinner at 9?");
    message_where(&bob, "@alice", &id, "the edit reaches bob", |m| {
        m["text"] == "dinner at 9?" && m["edited_at"].as_u64().is_some()
    });
    assert!(bob
        .err(&["edit", short, "mine now"])
        .contains("only the author"));

    // Bob replies, quoting the edited text.
    let reply = bob.json(&["send", "@alice", "yes 👍", "--reply-to", short, "--wait"]);
    let reply_id = reply["id"].as_str().expect("reply id").to_owned();
    assert_eq!(reply["reply_to"]["excerpt"], "dinner at 9?");
    let got = message_where(&alice, "@bob", &reply_id, "the reply", |_| true);
    assert_eq!(got["kind"], "reply");
    assert_eq!(got["reply_to"]["id"], id.as_str());
    assert_eq!(got["reply_to"]["author"], alice.peer_id.as_str());
    assert_eq!(got["reply_to"]["excerpt"], "dinner at 9?");

    // Alice unsends: gone for both, reactions with it.
    assert!(bob.err(&["unsend", short]).contains("only the author"));
    let unsent = alice.json(&["unsend", short]);
    assert_eq!(unsent["kind"], "unsent");
    let gone = message_where(&bob, "@alice", &id, "the unsend reaches bob", |m| {
        m["kind"] == "unsent"
    });
    assert_eq!(gone["text"], "");
    assert_eq!(gone["reactions"].as_array().map(Vec::len), Some(0));
    assert!(bob.err(&["react", short]).contains("unsent"));

    // The paper plane: bob posts, alice sees the sheet and sends bob's post to bob.
    let photo = bob.scratch("p.png");
    fs::write(&photo, PNG).expect("photo");
    let post = bob.json(&[
        "post",
        photo.to_str().expect("path"),
        "--caption",
        "sunset 🌅",
    ]);
    let post_id = post["id"].as_str().expect("post id").to_owned();
    eventually("the post reaches alice", || {
        alice
            .json(&["feed"])
            .as_array()?
            .iter()
            .any(|p| p["id"] == post_id.as_str())
            .then_some(())
    });
    let sheet = alice.json(&["share", &post_id[..8]]);
    assert_eq!(sheet[0]["handle"], "bob", "{sheet}");
    let shared = alice.json(&["share", &post_id[..8], "--to", "@bob", "--text", "look"]);
    let shared_id = shared["id"].as_str().expect("id").to_owned();
    let card = message_where(&bob, "@alice", &shared_id, "the shared post", |_| true);
    assert_eq!(card["kind"], "shared_post");
    assert_eq!(card["text"], "look");
    assert_eq!(card["shared_post"]["caption"], "sunset 🌅");
    assert_eq!(card["shared_post"]["verified"], true);
}

#[test]
fn with_read_receipts_off_none_are_sent_but_others_are_still_shown() {
    let (alice, bob) = pair();
    assert!(bob.ok(&["receipts", "off"]).contains("off"));
    assert_eq!(bob.json(&["receipts"])["on"], false);
    assert!(bob.err(&["receipts", "default"]).contains("--peer"));
    let sent = alice.json(&["send", "@bob", "are you there?", "--wait"]);
    let id = sent["id"].as_str().expect("id").to_owned();
    bob.json(&["chat", "@alice"]);
    // Anything bob queued when he opened the chat leaves before this message does.
    let back = bob.json(&["send", "@alice", "here", "--wait"]);
    let back_id = back["id"].as_str().expect("id").to_owned();
    message_where(&alice, "@bob", &back_id, "bob's answer", |_| true);
    let mine = message_where(&alice, "@bob", &id, "alice's message", |_| true);
    assert_eq!(mine["state"], "delivered", "no receipt from bob: {mine}");
    // Bob still sees alice's receipt.
    message_where(&bob, "@alice", &back_id, "alice saw bob's answer", |m| {
        m["state"] == "seen"
    });
    // Per chat, the other way round.
    bob.ok(&["receipts", "on", "--peer", "@alice"]);
    bob.json(&["chat", "@alice"]);
    message_where(&alice, "@bob", &id, "now bob's receipt", |m| {
        m["state"] == "seen"
    });
}

/// `chat @peer --follow --json` as a child: its JSON lines arrive on a channel; its stdin
/// takes what the user types.
struct Following {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<Value>,
}

impl Following {
    fn start(user: &User, peer: &str) -> Following {
        use std::io::BufRead;
        let mut child = std::process::Command::new(crate::common_cli::binary())
            .arg("--home")
            .arg(&user.home)
            .args(["chat", peer, "--follow", "--json"])
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run paperplane chat --follow");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Following { child, lines }
    }

    /// The first line that `check` accepts, skipping others (waits up to 30 s).
    fn until(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + crate::common_cli::PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if check(&v) => return v,
                Ok(_) => continue,
                Err(_) => panic!("chat --follow never showed {what}"),
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("type a line");
        stdin.flush().expect("flush");
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chat_follow_shows_the_chat_live_and_sends_what_is_typed() {
    let (alice, bob) = pair();
    let first = alice.json(&["send", "@bob", "hi bob", "--wait"]);
    let mut follow = Following::start(&bob, "@alice");
    follow.until("the history", |v| {
        v["type"] == "history" && v["message"]["id"] == first["id"]
    });
    // Live: a new message, shown and marked seen at once (the chat is open).
    let second = alice.json(&["send", "@bob", "are you there?", "--wait"]);
    follow.until("alice's new message", |v| {
        v["type"] == "message" && v["message"]["id"] == second["id"]
    });
    let id = second["id"].as_str().expect("id").to_owned();
    message_where(&alice, "@bob", &id, "seen by the open chat", |m| {
        m["state"] == "seen"
    });
    // A reaction from alice shows live.
    alice.json(&["react", &id[..8], ":fire:"]);
    follow.until("alice's reaction", |v| {
        v["type"] == "reaction" && v["emoji"] == "🔥"
    });
    // What bob types is sent; an empty line says he is typing.
    follow.type_line("");
    follow.type_line("yes, here 🙂");
    let sent = follow.until("bob's own message", |v| v["text"] == "yes, here 🙂");
    let sent_id = sent["id"].as_str().expect("id").to_owned();
    message_where(&alice, "@bob", &sent_id, "bob's typed line", |m| {
        m["from"] == bob.peer_id.as_str()
    });
    // Commands work too.
    follow.type_line(&format!("/react {} ❤️", &id[..8]));
    follow.until("bob's like", |v| {
        v["id"] == id.as_str() && v["reactions"].to_string().contains("❤️")
    });
    follow.type_line("/frobnicate x");
    // Closing stdin ends it cleanly.
    drop(follow.child.stdin.take());
    let status = follow.child.wait().expect("wait");
    assert!(status.success(), "{status}");
}
