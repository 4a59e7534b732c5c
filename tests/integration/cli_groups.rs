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
