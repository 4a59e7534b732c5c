//! The business and conversation commands of the real `paperplane` binary: quick replies,
//! `send --template`, away, FAQ shown in a first chat, labels, `inbox --label`, mute, search,
//! and clear errors for wrong arguments.

use serde_json::Value;

use crate::common_cli::{cli, eventually, User};

fn texts(messages: &Value) -> Vec<&str> {
    messages
        .as_array()
        .expect("an array of messages")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect()
}

#[test]
fn business_and_conversation_commands() {
    let mut shop = User::init("bakery");
    let mut carol = User::init("carol");
    shop.start();
    carol.start();

    // Wrong arguments are refused with a clear message, before or by the daemon.
    let home = shop.scratch("unused");
    let err = String::from_utf8_lossy(&cli(&home, &["send", "@bob"]).stderr).into_owned();
    assert!(
        err.contains("required arguments were not provided"),
        "{err}"
    );
    let err =
        String::from_utf8_lossy(&cli(&home, &["send", "@bob", "hi", "--template", "x"]).stderr)
            .into_owned();
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(shop
        .err(&["reply-template", "add", "two words", "x"])
        .contains("not a quick-reply name"));
    assert!(shop
        .err(&["reply-template", "remove", "nope"])
        .contains("no quick reply named"));
    assert!(shop
        .err(&["away", "on", "back soon"])
        .contains("only a business account"));
    assert!(shop
        .err(&["faq", "add", "Open?", "Yes"])
        .contains("only a business account"));
    assert!(shop.err(&["search", " "]).contains("empty"));
    assert!(shop
        .err(&["search", "x", "--limit", "0"])
        .contains("between 1 and 1000"));
    assert!(shop
        .err(&["faq", "remove", "3"])
        .contains("there is no question 3"));

    shop.ok(&["profile", "set", "--business", "Bakery"]);
    let faq = shop.json(&["faq", "add", "Open on Sunday?", "Yes, 8–12"]);
    assert_eq!(faq[0]["answer"], "Yes, 8–12");
    let saved = shop.json(&["reply-template", "add", "Hours", "Open 8–18 :bread:"]);
    assert_eq!(saved["name"], "hours");
    assert_eq!(saved["text"], "Open 8–18 🍞");
    assert_eq!(shop.json(&["reply-template", "list"])[0]["name"], "hours");
    let away = shop.json(&["away", "on", "Back at 8 :wave:"]);
    assert_eq!(away["away"], true);

    carol.meet(&shop);
    // A first chat with a business shows its FAQ.
    eventually("carol sees the FAQ", || {
        let out = carol.ok(&["chat", "@bakery"]);
        out.contains("Open on Sunday?").then_some(())
    });
    carol.ok(&["send", "@bakery", "Hello! Any croissants?", "--wait"]);
    eventually("the away message", || {
        let chat = carol.json(&["chat", "@bakery"]);
        texts(&chat).contains(&"Back at 8 👋").then_some(())
    });
    let sent = shop.json(&["send", "@carol", "--template", "hours", "--wait"]);
    assert_eq!(sent["text"], "Open 8–18 🍞");
    assert!(shop
        .err(&["send", "@carol", "--template", "nope"])
        .contains("no quick reply named"));
    assert_eq!(shop.json(&["away", "off"])["away"], false);

    // Labels and muting.
    let marks = shop.json(&["label", "@carol", "Orders"]);
    assert_eq!(marks["labels"][0], "orders");
    let err = shop.err(&["label", "@carol", "not a label"]);
    assert!(err.contains("is not a label"), "{err}");
    let labelled = shop.json(&["inbox", "--label", "orders"]);
    assert_eq!(labelled[0]["labels"][0], "orders");
    assert_eq!(
        shop.json(&["inbox", "--label", "other"]),
        serde_json::json!([])
    );
    assert_eq!(shop.json(&["mute", "@carol"])["muted"], true);
    assert_eq!(shop.json(&["inbox"])[0]["muted"], true);
    assert!(shop.ok(&["unmute", "@carol"]).contains("not muted"));
    assert_eq!(
        shop.json(&["unlabel", "@carol", "orders"])["labels"],
        serde_json::json!([])
    );

    // Search: newest first, case-insensitive.
    let hits = shop.json(&["search", "CROISSANT"]);
    assert_eq!(texts(&hits), ["Hello! Any croissants?"]);
    let hits = shop.json(&["search", "8", "--limit", "1"]);
    assert_eq!(texts(&hits), ["Open 8–18 🍞"]);
    assert!(shop
        .ok(&["search", "nothing like it"])
        .contains("no messages match"));
    assert!(shop
        .ok(&["reply-template", "remove", "hours"])
        .contains("removed"));
}
