//! Group chats through the real `paperplane` binary: three daemons that know each other,
//! `group create` and `group info`, `send`/`chat`/`react` with a group as the target,
//! the inbox, removing a member, and clear errors for an unknown group or a member who is
//! not an admin.

use serde_json::Value;

use crate::common_cli::{eventually, User};

/// Users with running daemons, each pair connected with keys exchanged.
fn circle(handles: &[&str]) -> Vec<User> {
    let mut users: Vec<User> = handles.iter().map(|h| User::init(h)).collect();
    for u in &mut users {
        u.start();
    }
    for i in 0..users.len() {
        for j in i + 1..users.len() {
            users[i].meet(&users[j]);
        }
    }
    users
}

fn texts(messages: &Value) -> Vec<&str> {
    messages
        .as_array()
        .expect("an array of messages")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect()
}

#[test]
fn groups_from_the_command_line() {
    let users = circle(&["ana", "ben", "cleo"]);
    let (ana, ben, cleo) = (&users[0], &users[1], &users[2]);
    // Ben and Cleo follow Ana: her group lands in their inbox, not in requests.
    ben.ok(&["follow", "@ana"]);
    cleo.ok(&["follow", "@ana"]);

    let id = ana
        .ok(&["group", "create", "climbing", "@ben", "@cleo"])
        .trim()
        .to_owned();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let info = ana.json(&["group", "info", "climbing"]);
    assert_eq!(info["id"], id.as_str());
    assert_eq!(info["name"], "climbing");
    assert_eq!(info["status"], "member");
    let members = info["members"].as_array().expect("members");
    assert_eq!(members.len(), 3);
    for m in members {
        let admin = m["peer"] == ana.peer_id.as_str();
        assert_eq!(m["admin"], admin, "{m}");
        assert!(m["handle"].is_string(), "{m}");
    }
    let shown = ana.ok(&["group", "info", "#climbing"]);
    assert!(
        shown.contains("#climbing") && shown.contains("@ben") && shown.contains("admin"),
        "{shown}"
    );
    for u in [ben, cleo] {
        eventually("the group arrives", || {
            let list = u.json(&["group", "list"]);
            list.as_array()?
                .iter()
                .any(|g| {
                    g["id"] == id.as_str() && g["members"].as_array().is_some_and(|m| m.len() == 3)
                })
                .then_some(())
        });
    }

    // A text to the group reaches both others; the target is a `#name`, a bare name or id.
    let sent = ana.json(&["send", "#climbing", "hi all 🧗"]);
    assert_eq!(sent["group"], id.as_str());
    let sent_id = sent["id"].as_str().expect("id").to_owned();
    for (u, target) in [(ben, "climbing"), (cleo, id.as_str())] {
        let chat = eventually("the text arrives", || {
            let chat = u.json(&["chat", target]);
            texts(&chat).contains(&"hi all 🧗").then_some(chat)
        });
        let m = &chat[0];
        assert_eq!(m["from"], ana.peer_id.as_str());
        assert_eq!(m["group"], id.as_str());
    }
    ben.ok(&["send", "climbing", "on my way"]);
    eventually("ben's answer reaches ana", || {
        let chat = ana.json(&["chat", "#climbing"]);
        texts(&chat).contains(&"on my way").then_some(())
    });
    // The page before a message, by its id prefix: the texts older than ben's answer.
    let answer = ana.json(&["chat", "#climbing"]);
    let answer_id = answer
        .as_array()
        .and_then(|m| m.iter().find(|m| m["text"] == "on my way"))
        .and_then(|m| m["id"].as_str())
        .expect("ben's answer")
        .to_owned();
    let page = ana.json(&["chat", "#climbing", "--before", &answer_id[..8]]);
    assert_eq!(texts(&page), ["hi all 🧗"], "{page}");
    // A reaction to a group message, found by its id prefix among the groups.
    let reacted = cleo.json(&["react", &sent_id[..8], "🔥"]);
    assert_eq!(reacted["id"], sent_id.as_str());
    eventually("ana sees the reaction", || {
        let chat = ana.json(&["chat", "#climbing"]);
        chat.as_array()?
            .iter()
            .any(|m| m["id"] == sent_id.as_str() && m["reactions"][0]["emoji"] == "🔥")
            .then_some(())
    });
    // Both opened the chat: Ana's text shows who saw it; the inbox lists the group.
    eventually("seen by both", || {
        let text = ana.ok(&["chat", "#climbing"]);
        (text.contains("Seen by") && text.contains("@ben") && text.contains("@cleo")).then_some(())
    });
    let inbox = ben.ok(&["inbox"]);
    assert!(inbox.contains("#climbing (3 members)"), "{inbox}");

    // Errors: clear, non-zero, no panic.
    let err = ben.err(&["group", "add", "climbing", "@cleo"]);
    assert!(err.contains("only a group admin"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let err = ana.err(&["group", "info", "nope"]);
    assert!(err.contains("no group \"nope\""), "{err}");
    let err = ana.err(&["send", "#nope", "x"]);
    assert!(err.contains("no group"), "{err}");
    let err = ana.err(&["send", "nosuchthing", "x"]);
    assert!(err.contains("no known peer or group"), "{err}");

    // Removing Cleo: her node shows her removed, and she can no longer send.
    let after = ana.json(&["group", "remove", "climbing", "@cleo"]);
    assert_eq!(after["members"].as_array().expect("members").len(), 2);
    eventually("cleo sees she was removed", || {
        (cleo.json(&["group", "info", &id])["status"] == "removed").then_some(())
    });
    let err = cleo.err(&["send", &format!("#{id}"), "still here?"]);
    assert!(err.contains("not a member"), "{err}");
}

#[test]
fn a_member_killed_mid_group_burst_gets_every_message_once_in_order() {
    const BURST: usize = 120;
    const KILL_AFTER: usize = 40;
    let mut users = circle(&["ana", "ben", "cleo"]);
    users[1].ok(&["follow", "@ana"]);
    users[2].ok(&["follow", "@ana"]);
    let id = users[0]
        .ok(&["group", "create", "burst", "@ben", "@cleo"])
        .trim()
        .to_owned();
    for u in &users[1..] {
        eventually("the group arrives", || {
            u.json(&["group", "list"])
                .as_array()?
                .iter()
                .any(|g| g["id"] == id.as_str())
                .then_some(())
        });
    }
    // Ben's daemon is killed with SIGKILL from another thread while Ana's sends go on.
    let mut ben = users.remove(1);
    let (kill_tx, kill_rx) = std::sync::mpsc::channel::<()>();
    let killer = std::thread::spawn(move || {
        kill_rx.recv().expect("the signal to kill");
        ben.kill();
        ben
    });
    let (ana, cleo) = (&users[0], &users[1]);
    let mut sent = Vec::new();
    for i in 0..BURST {
        if i == KILL_AFTER {
            kill_tx.send(()).expect("killer waits");
        }
        let m = ana.json(&["send", &id, &format!("burst {i:03}"), "--no-wait"]);
        sent.push(m["id"].as_str().expect("id").to_owned());
    }
    let mut ben = killer.join().expect("killer");
    ben.start();
    ana.ok(&["connect", &ben.addr()]);
    eventually("ana's outbox is empty", || {
        (ana.outbox() == 0).then_some(())
    });
    let expected: Vec<String> = (0..BURST).map(|i| format!("burst {i:03}")).collect();
    for u in [&ben, cleo] {
        let got = u.json(&["chat", &id, "--limit", "1000"]);
        assert_eq!(texts(&got), expected, "every message, once, in send order");
        let got_ids: Vec<&str> = got
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["id"].as_str().expect("id"))
            .collect();
        assert_eq!(got_ids, sent);
    }
}
