//! Tools for businesses answering inquiries, and conversation tools, between nodes on
//! loopback: the away message (once a day per conversation, across a restart), FAQ seen by a
//! stranger, quick replies, chat labels, muting and search.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use paperplane::{
    protocol::FaqEntry, BusinessError, Clock, Error, Event, Home, ProfileUpdate, Wait,
};

use crate::common::{eventually, start_with_clock, TestNode};

const AWAY: &str = "Back at 8 👋";

fn wall_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How many away messages `customer` holds from the business `shop`.
fn away_messages(customer: &TestNode, shop: paperplane::PeerId) -> usize {
    customer
        .node
        .messages(shop, None, 100)
        .expect("messages")
        .iter()
        .filter(|m| !m.outgoing && m.text == AWAY)
        .count()
}

async fn send(from: &TestNode, to: paperplane::PeerId, text: &str) {
    let m = from
        .node
        .send(to, text, Wait::Up(Duration::from_secs(10)))
        .await
        .expect("send");
    assert_eq!(m.state, "delivered", "{text}");
}

async fn received(n: &mut TestNode, text: &str) {
    n.wait_for(&format!("message {text:?}"), |e| match e {
        Event::Message { message, .. } if message.text == text => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_away_message_goes_once_a_day_and_a_stranger_sees_the_faq() {
    let offset = Arc::new(AtomicU64::new(0));
    let clock = {
        let offset = offset.clone();
        Clock::from_fn(move || wall_clock() + offset.load(Ordering::Relaxed))
    };
    let dir = tempfile::tempdir().expect("tempdir");
    paperplane::init(&Home::new(dir.path()), "bakery", Some("Bakery")).expect("init");
    let mut shop = start_with_clock(dir, clock.clone()).await;
    let bakery = shop.node.peer_id();

    // Away and FAQ are for business accounts.
    let err = shop
        .node
        .set_away(true, Some("x"))
        .await
        .expect_err("personal");
    assert!(
        matches!(err, Error::Business(BusinessError::NotABusiness)),
        "{err}"
    );
    let faq = vec![FaqEntry {
        question: "Open on Sunday?".into(),
        answer: "Yes, 8–12 🥐".into(),
    }];
    assert!(shop.node.set_faq(faq.clone()).await.is_err());
    shop.node
        .set_profile(ProfileUpdate {
            business: Some(Some("Bakery".into())),
            ..Default::default()
        })
        .await
        .expect("business");
    let view = shop.node.set_faq(faq.clone()).await.expect("faq");
    assert_eq!(view.faq.len(), 1);
    let too_many = vec![faq[0].clone(); 11];
    assert!(matches!(
        shop.node.set_faq(too_many).await,
        Err(Error::Invalid(_))
    ));
    let err = shop.node.set_away(true, None).await.expect_err("no text");
    assert!(
        matches!(err, Error::Business(BusinessError::NoAwayText)),
        "{err}"
    );

    // A stranger opening a first chat sees the FAQ.
    let mut customer = TestNode::start("carol").await;
    let carol = customer.node.peer_id();
    customer.meet(&mut shop).await;
    eventually("carol sees the FAQ", || {
        customer.node.faq(bakery).is_ok_and(|f| f.len() == 1)
    })
    .await;
    assert!(customer
        .node
        .messages(bakery, None, 10)
        .expect("chat")
        .is_empty());
    assert_eq!(
        customer.node.faq(bakery).expect("faq")[0].answer,
        "Yes, 8–12 🥐"
    );

    let status = shop
        .node
        .set_away(true, Some("Back at 8 :wave:"))
        .await
        .expect("away");
    assert!(status.away);
    assert_eq!(status.text.as_deref(), Some(AWAY));
    assert_eq!(shop.node.away().expect("away"), status);

    // The first message gets the away text back; the chat stays a request.
    send(&customer, bakery, "hello, any croissants left?").await;
    shop.wait_for("the away message", |e| match e {
        Event::AwayMessageSent { peer, .. } if *peer == carol => Some(()),
        _ => None,
    })
    .await;
    received(&mut customer, AWAY).await;
    assert!(shop
        .node
        .requests()
        .expect("requests")
        .iter()
        .any(|c| c.peer == carol));

    // The next one, the same day, does not — nor after a restart.
    send(&customer, bakery, "still there?").await;
    received(&mut shop, "still there?").await;
    let dir = shop.stop().await;
    let mut shop = start_with_clock(dir, clock).await;
    customer.connect(&shop).await;
    send(&customer, bakery, "after your restart").await;
    received(&mut shop, "after your restart").await;
    let answers = shop
        .node
        .messages(carol, None, 100)
        .expect("messages")
        .iter()
        .filter(|m| m.outgoing)
        .count();
    assert_eq!(answers, 1, "one away message a day");
    assert_eq!(away_messages(&customer, bakery), 1);

    // A day later, it goes again.
    offset.store(24 * 60 * 60 * 1000 + 60_000, Ordering::Relaxed);
    send(&customer, bakery, "a day later").await;
    received(&mut shop, "a day later").await;
    eventually("the second away message", || {
        away_messages(&customer, bakery) == 2
    })
    .await;

    // Back: no more answers.
    let status = shop.node.set_away(false, None).await.expect("back");
    assert!(!status.away);
    assert_eq!(status.text.as_deref(), Some(AWAY), "the text is kept");
    offset.store(3 * 24 * 60 * 60 * 1000, Ordering::Relaxed);
    send(&customer, bakery, "while you are back").await;
    received(&mut shop, "while you are back").await;
    assert_eq!(
        shop.node
            .messages(carol, None, 100)
            .expect("messages")
            .iter()
            .filter(|m| m.outgoing)
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_replies_labels_mute_and_search() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());

    // Quick replies.
    let saved = a
        .node
        .save_quick_reply("Hours", "Open 8–18 :bread:")
        .await
        .expect("save");
    assert_eq!(
        (saved.name.as_str(), saved.text.as_str()),
        ("hours", "Open 8–18 🍞")
    );
    a.wait_for("the quick reply event", |e| match e {
        Event::QuickReply {
            name,
            text: Some(_),
        } if name == "hours" => Some(()),
        _ => None,
    })
    .await;
    assert!(matches!(
        a.node.save_quick_reply("two words", "x").await,
        Err(Error::Business(BusinessError::Invalid(_)))
    ));
    assert!(a.node.save_quick_reply("empty", " ").await.is_err());
    assert_eq!(
        a.node.quick_replies().expect("list"),
        std::slice::from_ref(&saved)
    );
    let sent = a
        .node
        .send_quick_reply(bob, "HOURS", Wait::Up(Duration::from_secs(10)))
        .await
        .expect("send");
    assert_eq!(sent.text, "Open 8–18 🍞");
    received(&mut b, "Open 8–18 🍞").await;
    assert!(matches!(
        a.node.send_quick_reply(bob, "nope", Wait::Queued).await,
        Err(Error::Business(BusinessError::NoTemplate(_)))
    ));
    a.node.remove_quick_reply("hours").await.expect("remove");
    assert!(a.node.quick_replies().expect("list").is_empty());
    assert!(matches!(
        a.node.remove_quick_reply("hours").await,
        Err(Error::Business(BusinessError::NoTemplate(_)))
    ));

    // Labels.
    let marks = a.node.label_chat(bob, "VIP").await.expect("label");
    assert_eq!(marks.labels, ["vip"]);
    a.node.label_chat(bob, "orders").await.expect("label");
    a.wait_for("the marks event", |e| match e {
        Event::ChatMarks { marks } if marks.labels.len() == 2 => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(a.node.inbox().expect("inbox")[0].labels, ["orders", "vip"]);
    assert_eq!(a.node.inbox_labelled("vip").expect("inbox").len(), 1);
    assert!(a.node.inbox_labelled("other").expect("inbox").is_empty());
    let marks = a.node.unlabel_chat(bob, "vip").await.expect("unlabel");
    assert_eq!(marks.labels, ["orders"]);
    assert!(a.node.label_chat(bob, "no spaces").await.is_err());
    let stranger = TestNode::start("carol").await;
    assert!(matches!(
        a.node.label_chat(stranger.node.peer_id(), "x").await,
        Err(Error::NoConversation(_))
    ));

    // Muting: messages still arrive.
    let marks = a.node.mute(bob).await.expect("mute");
    assert!(marks.muted);
    assert!(a.node.inbox().expect("inbox")[0].muted);
    assert!(a.node.is_muted(bob).expect("muted"));
    send(&b, alice, "are you open tomorrow?").await;
    received(&mut a, "are you open tomorrow?").await;
    assert!(!a.node.unmute(bob).await.expect("unmute").muted);
    assert!(!a.node.inbox().expect("inbox")[0].muted);

    // Search: both directions, case-insensitive, newest first.
    let hits = a.node.search("OPEN", 10).expect("search");
    assert_eq!(
        hits.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["are you open tomorrow?", "Open 8–18 🍞"]
    );
    assert_eq!(a.node.search("open", 1).expect("search").len(), 1);
    assert!(a
        .node
        .search("nothing like this", 10)
        .expect("search")
        .is_empty());
    assert!(a.node.search("  ", 10).is_err());
    assert!(a.node.search("open", 0).is_err());
}
