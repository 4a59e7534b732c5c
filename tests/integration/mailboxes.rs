//! Mailboxes on loopback: a recipient offline, the sender leaves the messages with the
//! recipient's mailbox and goes offline too; the recipient comes back, fetches them exactly
//! once and in order, and the sender later sees them delivered.

use std::time::Duration;

use paperplane::{Event, MessageState};

use crate::common::{eventually, TestNode};

async fn eventually_long(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn mail_waits_in_the_mailbox_while_both_ends_are_offline() {
    let mut alice = TestNode::start("alice").await;
    let mut bob = TestNode::start("bob").await;
    let mailbox = TestNode::start("mailbox").await;
    let (a, b, m) = (
        alice.node.peer_id(),
        bob.node.peer_id(),
        mailbox.node.peer_id(),
    );
    // The mailbox agrees to keep Alice's mail; Alice names it in her profile.
    mailbox.node.keep_mail_for(a, true).await.expect("keep");
    alice.connect(&mailbox).await;
    let view = alice.node.set_mailboxes(vec![m]).await.expect("use");
    assert_eq!(view.mailboxes, vec![m]);
    // Bob meets Alice (and so gets her profile naming the mailbox) and knows the mailbox.
    bob.meet(&mut alice).await;
    bob.connect(&mailbox).await;
    let nb = bob.node.clone();
    eventually("bob holds alice's mailbox list", || {
        nb.profile(Some(a)).is_ok_and(|p| p.mailboxes == vec![m])
    })
    .await;
    drop(nb); // (a handle keeps the store open past a stop)

    // Alice goes offline; Bob writes three messages.
    let alice_home = alice.stop().await;
    let texts = ["one ✉️", "two", "three"];
    let mut ids = Vec::new();
    for t in texts {
        ids.push(
            bob.node
                .send(a, t, paperplane::Wait::Queued)
                .await
                .expect("queued")
                .id,
        );
    }
    for _ in 0..texts.len() {
        bob.wait_for("stored by the mailbox", |e| match e {
            Event::MessageStored { peer, .. } if *peer == a => Some(()),
            _ => None,
        })
        .await;
    }
    let chat = bob.node.messages(a, None, 100).expect("chat");
    assert!(
        chat.iter().all(|m| m.state == MessageState::Stored),
        "{:?}",
        chat.iter().map(|m| m.state).collect::<Vec<_>>()
    );
    assert_eq!(
        mailbox.node.mailboxes().expect("view").keeping_for[0].messages,
        3
    );
    // Bob goes offline too; Alice comes back and fetches (at start, from her mailbox).
    let bob_home = bob.stop().await;
    let alice = TestNode::start_in(alice_home).await;
    let na2 = alice.node.clone();
    eventually_long("alice has the three messages", || {
        na2.messages(b, None, 100).is_ok_and(|c| c.len() == 3)
    })
    .await;
    // Asking again brings nothing twice.
    alice.node.fetch_mail().await.expect("fetch");
    let mb = mailbox.node.clone();
    eventually_long("the mailbox deleted what alice stored", || {
        mb.mailboxes().is_ok_and(|v| v.keeping_for[0].messages == 0)
    })
    .await;
    drop((na2, mb));
    let chat = alice.node.messages(b, None, 100).expect("chat");
    assert_eq!(
        chat.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        texts,
        "exactly once, in order"
    );
    assert_eq!(chat.iter().map(|m| m.id).collect::<Vec<_>>(), ids);

    // Bob comes back and meets Alice: his messages turn delivered (her node answers the
    // retries as duplicates).
    let mut bob = TestNode::start_in(bob_home).await;
    bob.connect(&alice).await;
    let nb = bob.node.clone();
    eventually_long("bob sees them delivered", || {
        nb.messages(a, None, 100).is_ok_and(|c| {
            c.len() == 3
                && c.iter()
                    .all(|m| matches!(m.state, MessageState::Delivered | MessageState::Seen))
        })
    })
    .await;
    assert_eq!(
        alice.node.messages(b, None, 100).expect("chat").len(),
        3,
        "still once"
    );
}

#[tokio::test]
async fn a_mailbox_list_is_checked() {
    let alice = TestNode::start("alice").await;
    let me = alice.node.peer_id();
    assert!(
        alice.node.set_mailboxes(vec![me]).await.is_err(),
        "not herself"
    );
    let others: Vec<paperplane::PeerId> = (0..5)
        .map(|_| {
            paperplane::PeerId::from_public_key(
                &libp2p::identity::Keypair::generate_ed25519().public(),
            )
        })
        .collect();
    assert!(
        alice.node.set_mailboxes(others.clone()).await.is_err(),
        "at most four"
    );
    assert!(alice
        .node
        .set_mailboxes(vec![others[0], others[0]])
        .await
        .is_err());
    let view = alice
        .node
        .set_mailboxes(others[..4].to_vec())
        .await
        .expect("four");
    assert_eq!(view.mailboxes, others[..4]);
    let profile = alice.node.profile(None).expect("profile");
    assert_eq!(profile.mailboxes, others[..4], "published in the profile");
    assert!(alice.node.keep_mail_for(me, true).await.is_err());
}
