//! Identity keys people can rely on: a changed messaging key is announced and shown, safety
//! numbers come from the key the conversation really uses, and a handle someone else also
//! claims resolves to the person the user already knows.

use paperplane::{Event, Home, Wait};

use crate::common::TestNode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_messaging_key_is_announced_and_changes_the_safety_number() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    b.node.send(alice, "hi", Wait::Queued).await.expect("send");
    a.wait_for("bob's message", |e| {
        matches!(e, Event::Message { .. }).then_some(())
    })
    .await;
    let before = a.node.safety_number(bob).expect("safety number");
    assert_eq!(before, b.node.safety_number(alice).expect("safety number"));
    assert_eq!(a.node.requests().expect("requests")[0].key_changed_at, None);

    // Bob reinstalls: a new messaging key, no sessions.
    let home = b.stop().await;
    std::fs::remove_file(Home::new(home.path()).messaging_key_path()).expect("remove key");
    crate::common::forget_sessions(home.path(), &alice);
    let mut b = TestNode::start_in(home).await;
    b.connect(&a).await;
    let changed = a
        .wait_for("the key change", |e| match e {
            Event::KeyChanged { profile } => Some(profile.peer_id),
            _ => None,
        })
        .await;
    assert_eq!(changed, bob);
    assert!(
        a.node.requests().expect("requests")[0]
            .key_changed_at
            .is_some(),
        "the chat shows the change"
    );

    // Alice's session with bob still runs on the key she verified: that is the number the
    // conversation really has, whatever the new profile says.
    assert_eq!(a.node.safety_number(bob).expect("safety number"), before);

    // Bob writes on a fresh session made with his new key: both see the same, new number.
    b.node
        .send(alice, "new phone", Wait::Queued)
        .await
        .expect("send");
    a.wait_for("bob's message", |e| match e {
        Event::Message { message, .. } if message.text == "new phone" => Some(()),
        _ => None,
    })
    .await;
    let after = a.node.safety_number(bob).expect("safety number");
    assert_ne!(after, before);
    assert_eq!(after, b.node.safety_number(alice).expect("safety number"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_handle_resolves_to_the_person_the_user_knows() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    let mut m = TestNode::start("bob").await; // someone else calls themselves @bob
    a.meet(&mut b).await;
    a.meet(&mut m).await;
    let (bob, mallory) = (b.node.peer_id(), m.node.peer_id());
    let err = a.node.resolve("@bob").expect_err("two know @bob");
    assert!(err.to_string().contains("ambiguous"), "{err}");
    a.node.follow(bob).await.expect("follow");
    assert_eq!(a.node.resolve("@bob").expect("resolve"), bob);
    // Knowing both again is ambiguous again.
    a.node.follow(mallory).await.expect("follow");
    assert!(a.node.resolve("@bob").is_err());
}
