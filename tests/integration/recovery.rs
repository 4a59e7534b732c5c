//! Broken sessions are replaced: one side loses its session state, or restores an older copy
//! of its home; the conversation recovers in both directions, and nothing sent afterwards is
//! lost or shows twice.

use std::{path::Path, time::Duration};

use paperplane::{protocol::PeerId, Event, Wait};

use crate::common::TestNode;

/// Sends `text` from `from` to `to` and waits until `to` has stored it.
async fn deliver(from: &mut TestNode, to: &mut TestNode, text: &str) {
    let peer = to.node.peer_id();
    let sent = from
        .node
        .send(peer, text, Wait::Queued)
        .await
        .expect("send");
    to.wait_for(&format!("message {text:?}"), |e| match e {
        Event::Message { message, .. } if message.text == text => Some(()),
        _ => None,
    })
    .await;
    // The sender hears of it too (the acknowledgement settles it as delivered).
    let mut state = from.node.message(&sent.id).expect("stored").state;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state != "delivered" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{text:?} not settled"
        );
        from.wait_for("a delivery", |e| {
            matches!(e, Event::MessageDelivered { id, .. } if *id == sent.id).then_some(())
        })
        .await;
        state = from.node.message(&sent.id).expect("stored").state;
    }
}

async fn texts(n: &TestNode, with: PeerId) -> Vec<String> {
    n.node
        .messages(with, None, 100)
        .expect("chat")
        .into_iter()
        .map(|m| m.text)
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lost_on_one_side_is_replaced_in_both_directions() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    deliver(&mut a, &mut b, "1").await;
    deliver(&mut b, &mut a, "2").await;

    // Bob loses his session state (not his messages).
    let home = b.stop().await;
    crate::common::forget_sessions(home.path(), &alice);
    let mut b = TestNode::start_in(home).await;
    b.connect(&a).await;

    // Alice's next message is on the old session: bob cannot read it, so alice starts a
    // fresh session and seals it again.
    deliver(&mut a, &mut b, "3").await;
    deliver(&mut b, &mut a, "4").await;
    deliver(&mut a, &mut b, "5").await;
    deliver(&mut b, &mut a, "6").await;
    assert_eq!(texts(&a, bob).await, ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(texts(&b, alice).await, ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(a.node.outbox_len() + b.node.outbox_len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_restored_from_an_older_copy_recovers_in_both_directions() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    deliver(&mut a, &mut b, "1").await;
    deliver(&mut b, &mut a, "2").await;

    // Bob copies his home while stopped, then the conversation goes on (both ratchets
    // turn), then he restores the copy.
    let home = b.stop().await;
    let backup = tempfile::tempdir().expect("tempdir");
    copy_dir(home.path(), backup.path());
    let mut b = TestNode::start_in(home).await;
    b.connect(&a).await;
    deliver(&mut a, &mut b, "3").await;
    deliver(&mut b, &mut a, "4").await;
    deliver(&mut a, &mut b, "5").await;
    let home = b.stop().await;
    std::fs::remove_dir_all(home.path()).expect("remove");
    copy_dir(backup.path(), home.path());
    let mut b = TestNode::start_in(home).await;
    b.connect(&a).await;

    // Bob's restored sending chain reuses keys alice has used up, and alice's chain
    // turned on a key bob no longer holds: each side starts a fresh session.
    deliver(&mut a, &mut b, "6").await;
    deliver(&mut b, &mut a, "7").await;
    deliver(&mut a, &mut b, "8").await;
    deliver(&mut b, &mut a, "9").await;
    assert_eq!(
        texts(&a, bob).await,
        ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    // What bob received after his copy was made went with the copy.
    assert_eq!(texts(&b, alice).await, ["1", "2", "6", "7", "8", "9"]);
    assert_eq!(a.node.outbox_len() + b.node.outbox_len(), 0);
}

/// The same through the command line, with real daemons: bob's daemon is killed, his home
/// copied, the conversation goes on, his daemon is killed again and the copy restored.
#[test]
fn daemons_recover_after_one_side_restores_an_older_home() {
    use crate::common_cli::User;
    let send = |from: &User, to: &User, text: &str| {
        let sent = from.json(&["send", &to.peer_id, text, "--wait"]);
        assert_eq!(sent["state"], "delivered", "{text:?}: {sent}");
    };
    let chat = |user: &User, with: &User| -> Vec<String> {
        let got = user.json(&["chat", &with.peer_id, "--limit", "100"]);
        got.as_array()
            .expect("messages")
            .iter()
            .map(|m| m["text"].as_str().expect("text").to_owned())
            .collect()
    };
    let mut alice = User::init("alice");
    let mut bob = User::init("bob");
    alice.start();
    bob.start();
    alice.meet(&bob);
    send(&alice, &bob, "1");
    send(&bob, &alice, "2");

    bob.kill();
    let backup = bob.scratch("backup");
    copy_dir(&bob.home, &backup);
    bob.start();
    alice.ok(&["connect", &bob.addr()]);
    send(&alice, &bob, "3");
    send(&bob, &alice, "4");
    send(&alice, &bob, "5");

    bob.kill();
    std::fs::remove_dir_all(&bob.home).expect("remove");
    copy_dir(&backup, &bob.home);
    bob.start();
    alice.ok(&["connect", &bob.addr()]);
    send(&alice, &bob, "6");
    send(&bob, &alice, "7");
    send(&alice, &bob, "8");
    send(&bob, &alice, "9");
    assert_eq!(
        chat(&alice, &bob),
        ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    assert_eq!(chat(&bob, &alice), ["1", "2", "6", "7", "8", "9"]);
}
