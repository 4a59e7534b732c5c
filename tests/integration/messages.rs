//! End-to-end encrypted direct messages between nodes on loopback: delivery, order, offline
//! recipients, simultaneous starts, requests, blocking, limits.

use std::time::Duration;

use paperplane::{Event, Folder, MessageView, SendError, Wait};

use crate::common::{eventually, TestNode};

async fn wait_message(n: &mut TestNode, text: &str) -> (MessageView, bool) {
    n.wait_for(&format!("message {text:?}"), |e| match e {
        Event::Message { message, request } if message.text == text => {
            Some(((**message).clone(), *request))
        }
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_reply_between_friends() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    a.node.follow(bob).await.expect("follow");
    b.node.follow(alice).await.expect("follow");
    eventually("follows arrive", || {
        a.node.followers().is_ok_and(|f| f.len() == 1)
            && b.node.followers().is_ok_and(|f| f.len() == 1)
    })
    .await;

    let sent = a
        .node
        .send(bob, "hi bob 👋🏽", Wait::Up(Duration::from_secs(10)))
        .await
        .expect("send");
    assert_eq!(sent.state, "delivered");
    let (got, request) = wait_message(&mut b, "hi bob 👋🏽").await;
    assert!(!request, "alice is followed, so not a request");
    assert_eq!((got.id, got.from, got.to), (sent.id, alice, bob));

    let inbox = b.node.inbox().expect("inbox");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].unread, 1);
    assert_eq!(inbox[0].handle.as_deref(), Some("alice"));

    b.node
        .send(alice, "hey! ❤️", Wait::Queued)
        .await
        .expect("reply");
    wait_message(&mut a, "hey! ❤️").await;
    let history = b.node.chat(alice, None, 50).await.expect("chat");
    assert_eq!(
        history.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["hi bob 👋🏽", "hey! ❤️"]
    );
    assert_eq!(
        b.node.inbox().expect("inbox")[0].unread,
        0,
        "opening the chat read it"
    );
    eventually("bob's reply is delivered", || {
        b.node
            .message(&history[1].id)
            .is_ok_and(|m| m.state == "delivered")
    })
    .await;
    // Both ends derive the same safety number.
    assert_eq!(
        a.node.safety_number(bob).expect("safety"),
        b.node.safety_number(alice).expect("safety")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_wait_for_an_offline_recipient_and_arrive_in_order() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let bob = b.node.peer_id();
    let b_home = b.stop().await;

    let mut ids = Vec::new();
    for i in 0..30 {
        let m = a
            .node
            .send(bob, format!("message {i}"), Wait::Queued)
            .await
            .expect("queued");
        assert_eq!(m.state, "pending");
        ids.push(m.id);
    }
    assert_eq!(a.node.outbox_len(), 30);

    // Bob comes back (a new port); alice's outbox drains when they reconnect.
    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    eventually("outbox drained", || a.node.outbox_len() == 0).await;
    let history = b
        .node
        .chat(a.node.peer_id(), None, 100)
        .await
        .expect("chat");
    let texts: Vec<String> = history.iter().map(|m| m.text.clone()).collect();
    let expected: Vec<String> = (0..30).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, expected);
    for id in ids {
        assert_eq!(a.node.message(&id).expect("stored").state, "delivered");
    }
    // A stranger's messages are requests.
    assert_eq!(b.node.requests().expect("requests").len(), 1);
    assert!(b.node.inbox().expect("inbox").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_start_a_conversation_at_the_same_instant() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let (na, nb) = (a.node.clone(), b.node.clone());
    let (ra, rb) = tokio::join!(
        na.send(bob, "hello from alice", Wait::Queued),
        nb.send(alice, "hello from bob", Wait::Queued)
    );
    ra.expect("alice sends");
    rb.expect("bob sends");
    wait_message(&mut a, "hello from bob").await;
    wait_message(&mut b, "hello from alice").await;
    // The conversation keeps working in both directions afterwards.
    for round in 0..3 {
        a.node
            .send(bob, format!("a{round}"), Wait::Queued)
            .await
            .expect("send");
        wait_message(&mut b, &format!("a{round}")).await;
        b.node
            .send(alice, format!("b{round}"), Wait::Queued)
            .await
            .expect("send");
        wait_message(&mut a, &format!("b{round}")).await;
    }
    let history = a.node.chat(bob, None, 100).await.expect("chat");
    assert_eq!(history.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_can_be_accepted_declined_and_blocked() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    let mut c = TestNode::start("carol").await;
    a.meet(&mut b).await;
    c.meet(&mut b).await;
    let (alice, bob, carol) = (a.node.peer_id(), b.node.peer_id(), c.node.peer_id());

    a.node
        .send(bob, "can I ask about your prices?", Wait::Queued)
        .await
        .expect("send");
    let (_, request) = wait_message(&mut b, "can I ask about your prices?").await;
    assert!(request);
    let requests = b.node.requests().expect("requests");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].peer, alice);
    assert_eq!(
        requests[0].last_message.as_ref().map(|m| m.text.as_str()),
        Some("can I ask about your prices?")
    );
    b.node.accept(alice).await.expect("accept");
    assert_eq!(b.node.inbox().expect("inbox")[0].folder, Folder::Inbox);
    assert!(b.node.requests().expect("requests").is_empty());

    c.node
        .send(bob, "buy followers cheap", Wait::Queued)
        .await
        .expect("send");
    wait_message(&mut b, "buy followers cheap").await;
    b.node.decline(carol).await.expect("decline");
    assert!(b.node.requests().expect("requests").is_empty());
    assert!(b.node.chat(carol, None, 10).await.expect("chat").is_empty());

    b.node.block(carol).await.expect("block");
    assert_eq!(b.node.blocked().expect("blocked"), vec![carol]);
    let refused = c
        .node
        .send(bob, "hello??", Wait::Up(Duration::from_secs(10)))
        .await
        .expect("queued");
    assert_eq!(refused.state, "failed");
    assert!(refused.error.expect("reason").contains("does not accept"));
    assert!(b.node.chat(carol, None, 10).await.expect("chat").is_empty());
    assert_eq!(
        c.node.outbox_len(),
        0,
        "a refused message leaves the outbox"
    );

    b.node.unblock(carol).await.expect("unblock");
    c.node
        .send(bob, "sorry, wrong person", Wait::Queued)
        .await
        .expect("send");
    wait_message(&mut b, "sorry, wrong person").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_empty_messages_are_refused_with_a_clear_error() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let bob = b.node.peer_id();
    let err = a
        .node
        .send(bob, "x".repeat(4097), Wait::Queued)
        .await
        .expect_err("too large");
    assert!(matches!(err, SendError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("4096"), "{err}");
    // 4,096 bytes of emoji is fine.
    a.node
        .send(bob, "😀".repeat(1024), Wait::Queued)
        .await
        .expect("exactly at the limit");
    assert!(a.node.send(bob, "   ", Wait::Queued).await.is_err());
    assert!(a
        .node
        .send(a.node.peer_id(), "me", Wait::Queued)
        .await
        .is_err());
    assert_eq!(
        a.node.outbox_len()
            + a.node
                .messages(bob, None, 10)
                .expect("chat")
                .iter()
                .filter(|m| m.state == "delivered")
                .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_redials_known_peers_to_deliver() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let bob = b.node.peer_id();
    // Alice restarts on a new port; nobody dials anybody.
    let a_home = a.stop().await;
    let a = TestNode::start_in(a_home).await;
    let sent = a
        .node
        .send(
            bob,
            "still here after a restart",
            Wait::Up(Duration::from_secs(10)),
        )
        .await
        .expect("send");
    assert_eq!(sent.state, "delivered");
    wait_message(&mut b, "still here after a restart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_all_arrive_exactly_once() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    b.node
        .follow(alice)
        .await
        .expect("follow: no request rate limit");
    let sends = (0..200).map(|i| {
        let node = a.node.clone();
        async move { node.send(bob, format!("burst {i}"), Wait::Queued).await }
    });
    let sent = futures::future::join_all(sends).await;
    let mut ids: Vec<_> = sent.into_iter().map(|r| r.expect("queued").id).collect();
    eventually("all delivered", || a.node.outbox_len() == 0).await;
    let history = b.node.chat(alice, None, 1000).await.expect("chat");
    assert_eq!(history.len(), 200);
    let mut got: Vec<_> = history.iter().map(|m| m.id).collect();
    ids.sort();
    got.sort();
    assert_eq!(got, ids, "every message exactly once");
    // The chat is in the order the sender stamped, strictly increasing.
    assert!(history.windows(2).all(|w| w[0].sent_at < w[1].sent_at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_to_a_chat_is_announced() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    let mut c = TestNode::start("carol").await;
    a.meet(&mut b).await;
    c.meet(&mut b).await;
    let (alice, bob, carol) = (a.node.peer_id(), b.node.peer_id(), c.node.peer_id());
    a.node
        .send(bob, "hi, a question", Wait::Queued)
        .await
        .expect("send");
    wait_message(&mut b, "hi, a question").await;
    assert_eq!(b.node.requests().expect("requests")[0].unread, 1);

    // Opening the chat marks it read, once.
    b.node.chat(alice, None, 10).await.expect("chat");
    let read = b
        .wait_for("read", |e| match e {
            Event::ChatRead { peer } => Some(*peer),
            _ => None,
        })
        .await;
    assert_eq!(read, alice);
    assert_eq!(b.node.requests().expect("requests")[0].unread, 0);

    b.node.accept(alice).await.expect("accept");
    let accepted = b
        .wait_for("accepted", |e| match e {
            Event::RequestAccepted { peer } => Some(*peer),
            Event::ChatRead { .. } => panic!("an already read chat is not read again"),
            _ => None,
        })
        .await;
    assert_eq!(accepted, alice);
    assert!(
        b.node.accept(carol).await.is_err(),
        "no conversation with carol"
    );

    c.node.send(bob, "spam", Wait::Queued).await.expect("send");
    wait_message(&mut b, "spam").await;
    b.node.decline(carol).await.expect("decline");
    b.wait_for("declined", |e| match e {
        Event::RequestDeclined { peer } if *peer == carol => Some(()),
        _ => None,
    })
    .await;
    assert!(
        b.node.decline(alice).await.is_err(),
        "alice is in the inbox"
    );
    b.node.block(carol).await.expect("block");
    b.node.unblock(carol).await.expect("unblock");
    let mut changes = Vec::new();
    while changes.len() < 2 {
        let change = b
            .wait_for("blocking", |e| match e {
                Event::Blocked { peer, blocked } if *peer == carol => Some(*blocked),
                _ => None,
            })
            .await;
        changes.push(change);
    }
    assert_eq!(changes, vec![true, false]);
    assert!(b.node.block(bob).await.is_err(), "not yourself");
}
