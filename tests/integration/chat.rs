//! The chat beyond text, between nodes on loopback and from a hostile peer with a real
//! session: likes and reactions, emoji-only messages, replies, shared posts (verified or
//! forged), unsend, edit (and its 15-minute window), read receipts and their switches,
//! typing indicators, all of it after restarts, a kind from a newer version, the size of
//! changes on the wire, and changes naming messages that are missing or not the sender's.
//! Every step is checked on both ends.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use libp2p::Multiaddr;
use paperplane::{
    chat_rules::Refusal,
    protocol::{
        dm::EDIT_WINDOW_MS, DirectMessage, DmRequest, DmResult, ImageKind, MessageBody, MessageId,
        MessagingKeys, PhotoRef, Post, SealedEnvelope,
    },
    Clock, Error, Event, Home, MessageKind, MessageView, PeerId, ReactionView, SendError, Wait,
};
use paperplane_crypto::{Conversation, Identity, MessagingIdentity};

use crate::common::{eventually, messaging_keys, png, send_raw_dm, start_with_clock, TestNode};

const SETTLE: Wait = Wait::Up(Duration::from_secs(10));

fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// Two nodes that know each other and follow each other (so their chat is in both inboxes).
async fn friends() -> (TestNode, TestNode) {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    befriend(&mut a, &mut b).await;
    (a, b)
}

async fn befriend(a: &mut TestNode, b: &mut TestNode) {
    a.meet(b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    a.node.follow(bob).await.expect("follow");
    b.node.follow(alice).await.expect("follow");
    let (na, nb) = (a.node.clone(), b.node.clone());
    eventually("follows arrive", || {
        na.followers()
            .is_ok_and(|f| f.iter().any(|f| f.peer_id == bob))
            && nb
                .followers()
                .is_ok_and(|f| f.iter().any(|f| f.peer_id == alice))
    })
    .await;
}

/// Starts a node and returns it with the messaging keys its profile publishes.
async fn start_with_keys(handle: &str) -> (TestNode, MessagingKeys) {
    let n = TestNode::start(handle).await;
    let me = n.node.peer_id();
    let home = n.stop().await;
    let keys = messaging_keys(home.path(), &me);
    (TestNode::start_in(home).await, keys)
}

/// Sends `text` from `from` to `to`, waits until it is delivered and `to` announced it.
async fn exchange(from: &TestNode, to: &mut TestNode, text: &str) -> MessageView {
    let sent = from
        .node
        .send(to.node.peer_id(), text, SETTLE)
        .await
        .expect("send");
    assert_eq!(sent.state, "delivered", "{text:?}");
    let got = wait_message(to, text).await;
    assert_eq!(got.id, sent.id);
    sent
}

async fn wait_message(n: &mut TestNode, text: &str) -> MessageView {
    n.wait_for(&format!("message {text:?}"), |e| match e {
        Event::Message { message, .. } if message.text == text => Some((**message).clone()),
        _ => None,
    })
    .await
}

async fn wait_reaction(n: &mut TestNode, message: MessageId, by: PeerId, emoji: Option<&str>) {
    n.wait_for(&format!("{by}'s reaction {emoji:?}"), |e| match e {
        Event::Reaction {
            message: m,
            by: b,
            emoji: got,
            ..
        } if *m == message && *b == by && got.as_deref() == emoji => Some(()),
        _ => None,
    })
    .await;
}

fn reactions(entries: &[(&str, &[PeerId])]) -> Vec<ReactionView> {
    entries
        .iter()
        .map(|(emoji, by)| ReactionView {
            emoji: (*emoji).to_owned(),
            count: by.len(),
            by: by.to_vec(),
        })
        .collect()
}

/// The message as each end shows it.
fn both(a: &TestNode, b: &TestNode, id: &MessageId) -> (MessageView, MessageView) {
    (
        a.node.message(id).expect("on one end"),
        b.node.message(id).expect("on the other end"),
    )
}

fn refusal(e: &Error) -> Option<Refusal> {
    match e {
        Error::Send(SendError::Refused(r)) => Some(*r),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_and_reactions_show_on_both_sides() {
    let (mut a, mut b) = friends().await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let m = exchange(&a, &mut b, "dinner at 8?").await;

    // A like (double tap).
    let shown = b.node.like_message(&m.id).await.expect("like");
    assert_eq!(shown.reactions, reactions(&[("❤️", &[bob])]));
    wait_reaction(&mut a, m.id, bob, Some("❤️")).await;
    let (on_a, on_b) = both(&a, &b, &m.id);
    assert_eq!(on_a.reactions, reactions(&[("❤️", &[bob])]));
    assert_eq!(on_b.reactions, on_a.reactions);

    // Another emoji replaces it.
    let shown = b.node.react(&m.id, "😂").await.expect("react");
    assert_eq!(shown.reactions, reactions(&[("😂", &[bob])]));
    wait_reaction(&mut a, m.id, bob, Some("😂")).await;
    let (on_a, on_b) = both(&a, &b, &m.id);
    assert_eq!(on_a.reactions, reactions(&[("😂", &[bob])]));
    assert_eq!(on_b.reactions, on_a.reactions);

    // The same one again takes it back.
    let shown = b.node.react(&m.id, "😂").await.expect("react again");
    assert!(shown.reactions.is_empty(), "{:?}", shown.reactions);
    wait_reaction(&mut a, m.id, bob, None).await;
    let (on_a, on_b) = both(&a, &b, &m.id);
    assert!(on_a.reactions.is_empty() && on_b.reactions.is_empty());

    // A shortcode names an emoji; two letters are not one.
    let shown = b.node.react(&m.id, ":fire:").await.expect("shortcode");
    assert_eq!(shown.reactions, reactions(&[("🔥", &[bob])]));
    wait_reaction(&mut a, m.id, bob, Some("🔥")).await;
    let err = b.node.react(&m.id, "ab").await.expect_err("not an emoji");
    assert!(matches!(&err, Error::NotAnEmoji(s) if s == "ab"), "{err:?}");
    assert!(err.to_string().contains("not one emoji"), "{err}");
    assert_eq!(
        b.node.message(&m.id).expect("bob").reactions,
        reactions(&[("🔥", &[bob])]),
        "a refused reaction changes nothing"
    );

    // Both people react to one message: one emoji, two people, in the order they reacted.
    let shown = a.node.react(&m.id, "🔥").await.expect("alice reacts");
    assert_eq!(shown.reactions, reactions(&[("🔥", &[bob, alice])]));
    wait_reaction(&mut b, m.id, alice, Some("🔥")).await;
    let (on_a, on_b) = both(&a, &b, &m.id);
    assert_eq!(on_b.reactions, reactions(&[("🔥", &[bob, alice])]));
    assert_eq!(on_a.reactions, on_b.reactions);
    assert_eq!(on_a.reactions[0].count, 2);

    // Alice changes hers: two emoji, one person each.
    a.node.like_message(&m.id).await.expect("alice likes");
    wait_reaction(&mut b, m.id, alice, Some("❤️")).await;
    let (on_a, on_b) = both(&a, &b, &m.id);
    assert_eq!(
        on_b.reactions,
        reactions(&[("🔥", &[bob]), ("❤️", &[alice])])
    );
    assert_eq!(on_a.reactions, on_b.reactions);
    // Reactions are changes, not messages: the chat still holds one message on each end.
    assert_eq!(a.node.messages(bob, None, 50).expect("chat").len(), 1);
    assert_eq!(b.node.messages(alice, None, 50).expect("chat").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_to_three_emoji_are_marked_emoji_only() {
    let (a, mut b) = friends().await;
    for (text, large) in [
        ("🔥", true),
        ("😂😂😂", true),
        ("❤️ 👍🏽", true),
        ("🇫🇷", true),
        ("😂😂😂😂", false),
        ("ok 👍", false),
        ("lol", false),
    ] {
        let sent = exchange(&a, &mut b, text).await;
        assert_eq!(sent.emoji_only, large, "sender's view of {text:?}");
        let got = b.node.message(&sent.id).expect("received");
        assert_eq!(got.emoji_only, large, "recipient's view of {text:?}");
        assert_eq!(got.kind, MessageKind::Text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_quote_the_message_even_for_a_recipient_without_it() {
    let (mut a, mut b) = friends().await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let question = exchange(&a, &mut b, "are you coming to the party tonight?").await;

    let reply = b
        .node
        .reply(&question.id, "yes! 🎉", SETTLE)
        .await
        .expect("reply");
    assert_eq!(reply.kind, MessageKind::Reply);
    assert_eq!(reply.state, "delivered");
    let quote = reply.reply_to.clone().expect("a quote");
    assert_eq!(
        (quote.id, quote.author, quote.excerpt.as_str()),
        (question.id, alice, "are you coming to the party tonight?")
    );
    let got = wait_message(&mut a, "yes! 🎉").await;
    assert_eq!(got.kind, MessageKind::Reply);
    assert_eq!(got.reply_to, Some(quote));
    assert_eq!(got.from, bob);

    // A message bob never got (he had blocked alice when she sent it): her reply to it
    // still shows him what it answers.
    b.node.block(alice).await.expect("block");
    let lost = a
        .node
        .send(bob, "did you get my last message about Saturday?", SETTLE)
        .await
        .expect("queued");
    assert_eq!(lost.state, "failed");
    b.node.unblock(alice).await.expect("unblock");
    let again = a
        .node
        .reply(&lost.id, "never mind, found it", SETTLE)
        .await
        .expect("reply");
    assert_eq!(again.state, "delivered");
    let got = wait_message(&mut b, "never mind, found it").await;
    let quote = got.reply_to.expect("a quote");
    assert_eq!(quote.id, lost.id);
    assert_eq!(quote.author, alice);
    assert_eq!(quote.excerpt, "did you get my last message about Saturday?");
    assert!(
        matches!(b.node.message(&lost.id), Err(Error::NoSuch { .. })),
        "bob does not have the quoted message"
    );
    assert_eq!(
        a.node.message(&again.id).expect("alice").reply_to,
        Some(quote)
    );
}

/// A bare peer (no node) with a real end-to-end session to one node, sealing whatever it
/// likes: a client of a newer version, or an attacker.
struct RawSender {
    identity: Identity,
    conv: Conversation,
    to: PeerId,
    addr: Multiaddr,
    clock: u64,
}

impl RawSender {
    fn new(to: PeerId, keys: &MessagingKeys, addr: Multiaddr) -> Self {
        let identity = Identity::from_seed(rand::random());
        let mut rng = rand::rng();
        let messaging = MessagingIdentity::generate(&identity, &mut rng);
        let conv = Conversation::new(to)
            .start(&mut rng, &messaging, keys, wall_clock())
            .expect("handshake");
        Self {
            identity,
            conv,
            to,
            addr,
            clock: wall_clock(),
        }
    }

    fn peer_id(&self) -> PeerId {
        self.identity.peer_id()
    }

    /// The next timestamp, strictly increasing.
    fn tick(&mut self) -> u64 {
        self.clock = self.clock.max(wall_clock()) + 1;
        self.clock
    }

    fn seal_plaintext(&mut self, id: MessageId, plaintext: &[u8]) -> SealedEnvelope {
        let envelope = self
            .conv
            .encrypt_in_place(&mut rand::rng(), plaintext)
            .expect("seal");
        SealedEnvelope {
            recipient: self.to,
            id,
            payload: envelope.to_bytes(),
        }
    }

    /// Seals `body` as a new message; its id and the envelope.
    fn seal(&mut self, body: MessageBody) -> (MessageId, SealedEnvelope) {
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at: self.tick(),
            body,
        };
        let envelope = self.seal_plaintext(message.id, &message.to_plaintext());
        (message.id, envelope)
    }

    async fn send(&self, envelopes: Vec<SealedEnvelope>) -> Vec<DmResult> {
        send_raw_dm(
            &self.identity,
            self.addr.clone(),
            self.to,
            &DmRequest { envelopes },
        )
        .await
        .results
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_post_is_verified_and_fetched_and_a_forged_one_is_neither() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    let (mut c, carol_keys) = start_with_keys("carol").await;
    a.meet(&mut b).await;
    a.meet(&mut c).await;
    // Carol can reach bob, who holds every photo of his: a fetch she should not make
    // would succeed.
    c.connect(&b).await;
    let (bob, carol) = (b.node.peer_id(), c.node.peer_id());

    let (sunset, pier) = (png(1, 3000), png(2, 3000));
    let first = b
        .node
        .post(vec![sunset.clone()], "sunset at the pier 🌅".into())
        .await
        .expect("post");
    let second = b
        .node
        .post(vec![pier.clone()], "the pier at noon".into())
        .await
        .expect("post");
    // Alice follows bob and carol, and has bob's posts with their photos.
    assert!(a.node.share_targets().expect("targets").is_empty());
    a.node.follow(bob).await.expect("follow");
    a.node.follow(carol).await.expect("follow");
    let handles = |n: &TestNode| -> Vec<Option<String>> {
        n.node
            .share_targets()
            .expect("targets")
            .into_iter()
            .map(|t| t.handle)
            .collect()
    };
    assert_eq!(
        handles(&a),
        [Some("bob".to_owned()), Some("carol".to_owned())],
        "nobody messaged yet: by handle"
    );
    let na = a.node.clone();
    eventually("alice has bob's posts", || {
        na.post_view(&first).is_ok() && na.post_view(&second).is_ok()
    })
    .await;
    let sunset_hash = a.node.post_view(&first).expect("post").photos[0].hash;
    let pier_hash = a.node.post_view(&second).expect("post").photos[0].hash;
    assert_eq!(a.node.photo(sunset_hash).await.expect("photo"), sunset);
    assert_eq!(a.node.photo(pier_hash).await.expect("photo"), pier);

    let addr: Multiaddr = c.addr().await.parse().expect("addr");
    let mut mallory = RawSender::new(carol, &carol_keys, addr);

    // Alice messages bob, then shares bob's first post with carol, who does not follow bob.
    exchange(&a, &mut b, "sharing your sunset with carol").await;
    let shared = a
        .node
        .share(&first, carol, "look at this 😍", SETTLE)
        .await
        .expect("share");
    assert_eq!(shared.kind, MessageKind::SharedPost);
    assert_eq!(shared.state, "delivered");
    let card = shared.shared_post.clone().expect("a post card");
    assert!(card.verified);
    assert_eq!(card.caption, "sunset at the pier 🌅");
    assert_eq!((card.id, card.author), (first, bob));
    assert!(card.photos[0].local, "the sender has the photo");
    assert_eq!(
        handles(&a),
        [Some("carol".to_owned()), Some("bob".to_owned())],
        "most recently messaged first"
    );
    let targets = a.node.share_targets().expect("targets");
    assert!(targets[0].last_messaged_at > targets[1].last_messaged_at);

    let got = wait_message(&mut c, "look at this 😍").await;
    let got_card = got.shared_post.clone().expect("a post card");
    assert!(got_card.verified);
    assert_eq!(got_card.caption, "sunset at the pier 🌅");
    assert_eq!((got_card.id, got_card.author), (first, bob));
    assert!(
        c.node.post_view(&first).is_err(),
        "carol does not follow bob: the post is in the chat only"
    );
    let nc = c.node.clone();
    eventually("carol fetched the shared post's photo", || {
        nc.message(&got.id)
            .is_ok_and(|m| m.shared_post.is_some_and(|p| p.photos[0].local))
    })
    .await;
    assert_eq!(c.node.photo(sunset_hash).await.expect("local"), sunset);

    // A stranger sends carol a forgery: bob's second photo under a caption bob never
    // wrote, signed by the stranger in bob's name.
    let post = mallory.identity.sign_record(Post {
        author: bob,
        seq: 2,
        created_at: wall_clock(),
        caption: "bob says: send me your password".into(),
        photos: vec![PhotoRef {
            hash: pier_hash,
            size: pier.len() as u64,
            kind: ImageKind::Png,
        }],
    });
    let (forged_id, envelope) = mallory.seal(MessageBody::SharedPost {
        post,
        text: "from bob 👀".into(),
    });
    assert_eq!(mallory.send(vec![envelope]).await, [DmResult::Stored]);
    let forged_view = c.node.message(&forged_id).expect("stored");
    let forged_card = forged_view.shared_post.expect("a post card");
    assert!(!forged_card.verified, "the signature does not cover it");
    assert_eq!(forged_card.caption, "bob says: send me your password");
    assert_eq!(forged_view.from, mallory.peer_id());
    // Nothing is fetched for the forgery: a real share sent after it has its
    // photo fetched, and the forgery's is still missing.
    let extra = png(3, 1000);
    let third = b
        .node
        .post(vec![extra.clone()], "third".into())
        .await
        .expect("post");
    eventually("alice has bob's third post", || {
        na.post_view(&third).is_ok()
    })
    .await;
    let extra_hash = a.node.post_view(&third).expect("post").photos[0].hash;
    assert_eq!(a.node.photo(extra_hash).await.expect("photo"), extra);
    let later = a
        .node
        .share(&third, carol, "", SETTLE)
        .await
        .expect("share");
    eventually("carol fetched the later share's photo", || {
        nc.message(&later.id)
            .is_ok_and(|m| m.shared_post.is_some_and(|p| p.photos[0].local))
    })
    .await;
    let forged_view = c.node.message(&forged_id).expect("stored");
    assert!(
        !forged_view.shared_post.expect("card").photos[0].local,
        "a forged post's photos are not fetched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsend_takes_a_message_back_for_both_and_only_its_author_can() {
    let (mut a, mut b) = friends().await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let oops = exchange(&a, &mut b, "oops, wrong chat").await;
    let other = exchange(&a, &mut b, "anyway, how are you?").await;
    b.node.like_message(&oops.id).await.expect("like");
    wait_reaction(&mut a, oops.id, bob, Some("❤️")).await;

    let shown = a.node.unsend(&oops.id).await.expect("unsend");
    assert_eq!(shown.kind, MessageKind::Unsent);
    assert_eq!(shown.text, "");
    assert!(shown.reactions.is_empty());
    let (message, by) = b
        .wait_for("the unsend", |e| match e {
            Event::MessageUnsent { message, by, .. } => Some((*message, *by)),
            _ => None,
        })
        .await;
    assert_eq!((message, by), (oops.id, alice));
    let (on_a, on_b) = both(&a, &b, &oops.id);
    for view in [&on_a, &on_b] {
        assert_eq!(view.kind, MessageKind::Unsent);
        assert_eq!(view.text, "");
        assert!(view.reactions.is_empty());
        assert!(!view.emoji_only);
    }
    // Its place in the chat stays, on both ends.
    let texts = |n: &TestNode, peer| -> Vec<String> {
        n.node
            .messages(peer, None, 50)
            .expect("chat")
            .into_iter()
            .map(|m| m.text)
            .collect()
    };
    assert_eq!(texts(&a, bob), ["", "anyway, how are you?"]);
    assert_eq!(texts(&b, alice), ["", "anyway, how are you?"]);

    // Only the author can unsend; an unsent message takes no reaction or edit.
    let err = b.node.unsend(&other.id).await.expect_err("not bob's");
    assert_eq!(refusal(&err), Some(Refusal::NotTheAuthor), "{err:?}");
    assert!(err.to_string().contains("only the author"), "{err}");
    let err = b.node.react(&oops.id, "😂").await.expect_err("unsent");
    assert_eq!(refusal(&err), Some(Refusal::Unsent), "{err:?}");
    let err = a.node.edit(&oops.id, "fixed").await.expect_err("unsent");
    assert_eq!(refusal(&err), Some(Refusal::Unsent), "{err:?}");
    let (on_a, on_b) = both(&a, &b, &other.id);
    assert_eq!(on_a.kind, MessageKind::Text);
    assert_eq!(on_b.text, "anyway, how are you?");
}

/// Inits a home with `handle` and starts a node whose clock runs `offset` ms ahead of the
/// wall clock, `offset` moved by the test.
async fn start_clocked(handle: &str) -> (TestNode, Arc<AtomicU64>) {
    let dir = tempfile::tempdir().expect("tempdir");
    paperplane::init(&Home::new(dir.path()), handle, Some(handle)).expect("init");
    let offset = Arc::new(AtomicU64::new(0));
    let clock = {
        let offset = offset.clone();
        Clock::from_fn(move || wall_clock() + offset.load(Ordering::Relaxed))
    };
    (start_with_clock(dir, clock).await, offset)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_show_on_both_sides_within_fifteen_minutes_and_are_refused_after() {
    let (mut a, offset) = start_clocked("alice").await;
    let mut b = TestNode::start("bob").await;
    befriend(&mut a, &mut b).await;
    let alice = a.node.peer_id();
    let m = exchange(&a, &mut b, "see you at 7").await;

    let shown = a.node.edit(&m.id, "see you at 8").await.expect("edit");
    assert_eq!(shown.text, "see you at 8");
    let edited_at = shown.edited_at.expect("edited");
    assert!(edited_at > m.sent_at);
    let (message, text, at) = b
        .wait_for("the edit", |e| match e {
            Event::MessageEdited {
                message,
                text,
                edited_at,
                ..
            } => Some((*message, text.clone(), *edited_at)),
            _ => None,
        })
        .await;
    assert_eq!(
        (message, text.as_str(), at),
        (m.id, "see you at 8", edited_at)
    );
    let (on_a, on_b) = both(&a, &b, &m.id);
    for view in [&on_a, &on_b] {
        assert_eq!(view.text, "see you at 8");
        assert_eq!(view.edited_at, Some(edited_at));
        assert_eq!(view.kind, MessageKind::Text);
        assert_eq!(view.from, alice);
    }

    // Bob cannot edit alice's message.
    let err = b
        .node
        .edit(&m.id, "see you never")
        .await
        .expect_err("not his");
    assert_eq!(refusal(&err), Some(Refusal::NotTheAuthor), "{err:?}");

    let na = a.node.clone();
    eventually("the edit is acknowledged", || na.outbox_len() == 0).await;

    // Sixteen minutes later, alice cannot either.
    offset.store(EDIT_WINDOW_MS + 60_000, Ordering::Relaxed);
    let err = a
        .node
        .edit(&m.id, "see you at 9")
        .await
        .expect_err("too late");
    assert_eq!(refusal(&err), Some(Refusal::EditWindowPassed), "{err:?}");
    assert!(err.to_string().contains("15 minutes"), "{err}");
    let (on_a, on_b) = both(&a, &b, &m.id);
    assert_eq!(on_a.text, "see you at 8");
    assert_eq!(on_b.text, "see you at 8");
    assert_eq!(a.node.outbox_len(), 0, "nothing was queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_chat_sends_a_read_receipt_unless_switched_off() {
    let (mut a, mut b) = friends().await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let first = exchange(&a, &mut b, "first").await;
    let second = exchange(&a, &mut b, "second").await;
    assert!(b.node.read_receipts().expect("setting"));

    b.node.chat(alice, None, 50).await.expect("open");
    let (up_to, seen_at) = a
        .wait_for("bob's receipt", |e| match e {
            Event::MessagesSeen {
                peer,
                up_to,
                seen_at,
            } if *peer == bob => Some((*up_to, *seen_at)),
            _ => None,
        })
        .await;
    assert_eq!(up_to, second.id);
    for id in [first.id, second.id] {
        let (on_a, on_b) = both(&a, &b, &id);
        assert_eq!(on_a.state, "seen");
        assert_eq!(on_a.seen_at, Some(seen_at));
        assert_eq!(on_b.state, "received");
        assert_eq!(on_b.seen_at, None);
    }
    // The receipt is not a message on either end.
    assert_eq!(b.node.messages(alice, None, 50).expect("chat").len(), 2);
    assert_eq!(a.node.messages(bob, None, 50).expect("chat").len(), 2);

    // Bob switches receipts off: opening the chat sends nothing (his next message, sent
    // after, arrives with nothing before it)...
    b.node.set_read_receipts(false).await.expect("off");
    assert!(!b.node.read_receipts_to(&alice).expect("setting"));
    let third = exchange(&a, &mut b, "third").await;
    b.node.chat(alice, None, 50).await.expect("open");
    let marker = b
        .node
        .send(alice, "receipts are off", Wait::Queued)
        .await
        .expect("send");
    a.wait_for("bob's message", |e| match e {
        Event::MessagesSeen { .. } => panic!("a receipt with receipts off"),
        Event::Message { message, .. } if message.id == marker.id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(a.node.message(&third.id).expect("alice").state, "delivered");
    // ...but he still sees alice's.
    a.node.chat(bob, None, 50).await.expect("open");
    b.wait_for("alice's receipt", |e| match e {
        Event::MessagesSeen { up_to, .. } if *up_to == marker.id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(b.node.message(&marker.id).expect("bob").state, "seen");

    // On globally, off for this chat: still nothing.
    b.node.set_read_receipts(true).await.expect("on");
    b.node
        .set_chat_read_receipts(alice, Some(false))
        .await
        .expect("off here");
    assert!(!b.node.read_receipts_to(&alice).expect("setting"));
    let fourth = exchange(&a, &mut b, "fourth").await;
    b.node.chat(alice, None, 50).await.expect("open");
    let marker = b
        .node
        .send(alice, "still off here", Wait::Queued)
        .await
        .expect("send");
    a.wait_for("bob's message", |e| match e {
        Event::MessagesSeen { .. } => panic!("a receipt with receipts off for the chat"),
        Event::Message { message, .. } if message.id == marker.id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(
        a.node.message(&fourth.id).expect("alice").state,
        "delivered"
    );

    // Back to the global setting: the next open covers everything.
    b.node
        .set_chat_read_receipts(alice, None)
        .await
        .expect("global");
    assert!(b.node.read_receipts_to(&alice).expect("setting"));
    b.node.chat(alice, None, 50).await.expect("open");
    a.wait_for("bob's receipt", |e| match e {
        Event::MessagesSeen { up_to, .. } if *up_to == fourth.id => Some(()),
        _ => None,
    })
    .await;
    for id in [third.id, fourth.id] {
        assert_eq!(a.node.message(&id).expect("alice").state, "seen");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_shows_on_the_other_side_and_is_never_stored() {
    let (a, mut b) = friends().await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    exchange(&a, &mut b, "hey").await;
    let before = wall_clock();

    assert!(a.node.typing(bob, true).await.expect("typing"));
    let (active, expires_at) = b
        .wait_for("typing", |e| match e {
            Event::Typing {
                peer,
                active,
                expires_at,
            } if *peer == alice => Some((*active, *expires_at)),
            _ => None,
        })
        .await;
    assert!(active);
    assert!(expires_at > before, "{expires_at} ≤ {before}");
    assert!(a.node.typing(bob, false).await.expect("stopped"));
    b.wait_for("stopped typing", |e| match e {
        Event::Typing { active: false, .. } => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(a.node.messages(bob, None, 50).expect("chat").len(), 1);
    assert_eq!(b.node.messages(alice, None, 50).expect("chat").len(), 1);
    assert_eq!(a.node.outbox_len(), 0);
    assert_eq!(b.node.inbox().expect("inbox")[0].unread, 1);

    // With receipts off, typing is off too.
    a.node.set_read_receipts(false).await.expect("off");
    assert!(!a.node.typing(bob, true).await.expect("typing"));
    let marker = a
        .node
        .send(bob, "no typing shown", Wait::Queued)
        .await
        .expect("send");
    b.wait_for("alice's message", |e| match e {
        Event::Typing { .. } => panic!("typing with receipts off"),
        Event::Message { message, .. } if message.id == marker.id => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_edits_unsends_and_receipts_survive_restarts() {
    let (mut a, mut b) = friends().await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let keep = exchange(&a, &mut b, "keep this").await;
    let edit = exchange(&a, &mut b, "edit me").await;
    let gone = exchange(&a, &mut b, "take this back").await;
    let answer = b
        .node
        .reply(&keep.id, "kept 👍", SETTLE)
        .await
        .expect("reply");
    wait_message(&mut a, "kept 👍").await;

    b.node.like_message(&keep.id).await.expect("like");
    wait_reaction(&mut a, keep.id, bob, Some("❤️")).await;
    a.node.react(&answer.id, "😂").await.expect("react");
    wait_reaction(&mut b, answer.id, alice, Some("😂")).await;
    a.node.edit(&edit.id, "edited").await.expect("edit");
    b.wait_for("the edit", |e| {
        matches!(e, Event::MessageEdited { message, .. } if *message == edit.id).then_some(())
    })
    .await;
    a.node.unsend(&gone.id).await.expect("unsend");
    b.wait_for("the unsend", |e| {
        matches!(e, Event::MessageUnsent { message, .. } if *message == gone.id).then_some(())
    })
    .await;
    b.node.chat(alice, None, 50).await.expect("open");
    a.wait_for("bob's receipt", |e| {
        matches!(e, Event::MessagesSeen { up_to, .. } if *up_to == gone.id).then_some(())
    })
    .await;
    a.node.chat(bob, None, 50).await.expect("open");
    b.wait_for("alice's receipt", |e| {
        matches!(e, Event::MessagesSeen { up_to, .. } if *up_to == answer.id).then_some(())
    })
    .await;

    let a_view = a.node.messages(bob, None, 50).expect("chat");
    let b_view = b.node.messages(alice, None, 50).expect("chat");
    let summary = |v: &[MessageView]| -> Vec<(String, String, usize, bool, String)> {
        v.iter()
            .map(|m| {
                (
                    format!("{:?}", m.kind),
                    m.text.clone(),
                    m.reactions.len(),
                    m.edited_at.is_some(),
                    m.state.to_string(),
                )
            })
            .collect()
    };
    let expected = |ours: &str, theirs: &str| {
        vec![
            ("Text".into(), "keep this".into(), 1, false, ours.into()),
            ("Text".into(), "edited".into(), 0, true, ours.into()),
            ("Unsent".into(), String::new(), 0, false, ours.into()),
            ("Reply".into(), "kept 👍".into(), 1, false, theirs.into()),
        ]
    };
    assert_eq!(summary(&a_view), expected("seen", "received"));
    assert_eq!(summary(&b_view), expected("received", "seen"));

    // Each restarts in turn: both still show all of it, exactly.
    let a_home = a.stop().await;
    let a = TestNode::start_in(a_home).await;
    assert_eq!(a.node.messages(bob, None, 50).expect("chat"), a_view);
    assert_eq!(b.node.messages(alice, None, 50).expect("chat"), b_view);
    let b_home = b.stop().await;
    let mut b = TestNode::start_in(b_home).await;
    assert_eq!(b.node.messages(alice, None, 50).expect("chat"), b_view);
    assert_eq!(a.node.messages(bob, None, 50).expect("chat"), a_view);
    // And the chat goes on.
    b.connect(&a).await;
    exchange(&a, &mut b, "still here").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_from_a_newer_version_is_stored_and_shown_as_unsupported() {
    let (mut b, keys) = start_with_keys("bob").await;
    let bob = b.node.peer_id();
    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let mut newer = RawSender::new(bob, &keys, addr);
    let (id, sent_at) = (MessageId(rand::random()), newer.tick());
    let plaintext = DirectMessage::unknown_kind_plaintext(id, sent_at, 42, b"a poll, maybe");
    let envelope = newer.seal_plaintext(id, &plaintext);
    assert_eq!(newer.send(vec![envelope]).await, [DmResult::Stored]);

    let got = b
        .wait_for("the message", |e| match e {
            Event::Message { message, .. } => Some((**message).clone()),
            _ => None,
        })
        .await;
    let stored = b.node.message(&id).expect("stored");
    assert_eq!(got, stored);
    assert_eq!(stored.kind, MessageKind::Unsupported);
    assert_eq!(stored.from, newer.peer_id());
    assert_eq!(stored.sent_at, sent_at);
    assert_eq!(stored.text, paperplane::views::UNSUPPORTED_TEXT);
    assert!(!stored.emoji_only);
    // It counts as a message of the chat, and the session goes on.
    assert_eq!(b.node.requests().expect("requests")[0].unread, 1);
    let (_, envelope) = newer.seal(MessageBody::Text("did that show?".into()));
    assert_eq!(newer.send(vec![envelope]).await, [DmResult::Stored]);
    wait_message(&mut b, "did that show?").await;
    // Restarted, it is still there.
    let home = b.stop().await;
    let b = TestNode::start_in(home).await;
    assert_eq!(b.node.message(&id).expect("stored"), stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_edits_receipts_and_texts_of_one_length_seal_to_one_size() {
    let (mut a, mut b) = friends().await;
    let bob = b.node.peer_id();
    let alice = a.node.peer_id();
    let target = exchange(&a, &mut b, "target").await;
    // Bob answers, so alice's envelopes no longer carry the session's handshake.
    exchange(&b, &mut a, "answer").await;
    let b_home = b.stop().await;

    a.node.send(bob, "ok!", Wait::Queued).await.expect("text");
    a.node.react(&target.id, "❤️").await.expect("reaction");
    a.node.edit(&target.id, "ok!").await.expect("edit");
    a.node.chat(bob, None, 50).await.expect("open: a receipt");
    assert_eq!(a.node.outbox_len(), 4);
    let a_home = a.stop().await;
    let store =
        paperplane::store::Store::open(&Home::new(a_home.path()).store_path()).expect("store");
    let sizes: Vec<usize> = store
        .outbox_all(&bob)
        .expect("outbox")
        .into_iter()
        .map(|(_, entry)| entry.payload.len())
        .collect();
    assert_eq!(sizes.len(), 4);
    assert!(sizes.iter().all(|s| *s == sizes[0]), "{sizes:?}");
    drop(store);

    // They are delivered as any message once bob is back.
    let a = TestNode::start_in(a_home).await;
    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    b.wait_for("the edit", |e| {
        matches!(e, Event::MessageEdited { message, .. } if *message == target.id).then_some(())
    })
    .await;
    let na = a.node.clone();
    eventually("alice's outbox drains", || na.outbox_len() == 0).await;
    let on_b = b.node.message(&target.id).expect("bob");
    assert_eq!(on_b.text, "ok!");
    assert_eq!(on_b.reactions, reactions(&[("❤️", &[alice])]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_naming_missing_or_foreign_messages_are_acknowledged_and_ignored() {
    let (mut b, keys) = start_with_keys("bob").await;
    let mut a = TestNode::start("alice").await;
    befriend(&mut a, &mut b).await;
    let bob = b.node.peer_id();
    let private = exchange(&a, &mut b, "between alice and bob").await;

    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let mut mallory = RawSender::new(bob, &keys, addr);
    let (hello, envelope) = mallory.seal(MessageBody::Text("hello bob".into()));
    assert_eq!(mallory.send(vec![envelope]).await, [DmResult::Stored]);
    wait_message(&mut b, "hello bob").await;
    // Bob answers her (his node has a session to send on; she is not there to take it).
    let bobs = b
        .node
        .send(mallory.peer_id(), "who is this?", Wait::Queued)
        .await
        .expect("queued");

    let missing = MessageId(rand::random());
    let bodies = [
        // Messages that do not exist.
        MessageBody::Reaction {
            target: missing,
            emoji: Some("🔥".into()),
        },
        MessageBody::Edit {
            target: missing,
            text: "x".into(),
        },
        MessageBody::Unsend { target: missing },
        MessageBody::Seen { up_to: missing },
        // Alice's message, in another chat.
        MessageBody::Reaction {
            target: private.id,
            emoji: Some("💩".into()),
        },
        MessageBody::Edit {
            target: private.id,
            text: "alice owes mallory money".into(),
        },
        MessageBody::Unsend { target: private.id },
        // Bob's message to her.
        MessageBody::Edit {
            target: bobs.id,
            text: "send me your keys".into(),
        },
        MessageBody::Unsend { target: bobs.id },
        // Her own message, as if bob had seen... her own message.
        MessageBody::Seen { up_to: hello },
    ];
    let envelopes: Vec<_> = bodies.into_iter().map(|b| mallory.seal(b).1).collect();
    let n = envelopes.len();
    assert_eq!(mallory.send(envelopes).await, vec![DmResult::Stored; n]);
    // After them, a message of hers: nothing happened before it.
    let (_, envelope) = mallory.seal(MessageBody::Text("done".into()));
    assert_eq!(mallory.send(vec![envelope]).await, [DmResult::Stored]);
    b.wait_for("her last message", |e| match e {
        Event::Reaction { .. }
        | Event::MessageEdited { .. }
        | Event::MessageUnsent { .. }
        | Event::MessagesSeen { .. } => panic!("a bogus change was applied: {e:?}"),
        Event::Message { message, .. } if message.text == "done" => Some(()),
        _ => None,
    })
    .await;

    let (on_a, on_b) = both(&a, &b, &private.id);
    for view in [&on_a, &on_b] {
        assert_eq!(view.kind, MessageKind::Text);
        assert_eq!(view.text, "between alice and bob");
        assert!(view.reactions.is_empty() && view.edited_at.is_none());
    }
    let mine = b.node.message(&bobs.id).expect("bob's");
    assert_eq!(
        (mine.kind, mine.text.as_str()),
        (MessageKind::Text, "who is this?")
    );
    assert!(mine.edited_at.is_none());
    assert_eq!(b.node.message(&hello).expect("hers").state, "received");
    assert_eq!(
        b.node
            .messages(mallory.peer_id(), None, 50)
            .expect("chat")
            .len(),
        3,
        "her two messages and bob's answer"
    );
    // A change that arrives before its message waits for it: her edit, sealed after her
    // message but delivered first, applies when the message comes.
    let (late, message) = mallory.seal(MessageBody::Text("meet at 5".into()));
    let (_, edit) = mallory.seal(MessageBody::Edit {
        target: late,
        text: "meet at 6".into(),
    });
    assert_eq!(mallory.send(vec![edit]).await, [DmResult::Stored]);
    assert!(b.node.message(&late).is_err(), "not there yet");
    assert_eq!(mallory.send(vec![message]).await, [DmResult::Stored]);
    let got = wait_message(&mut b, "meet at 6").await;
    assert_eq!(got.id, late);
    assert!(got.edited_at.is_some());
    // A stranger whose first words are a change to a message bob never got opens no
    // request: there is nothing to show.
    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let mut stranger = RawSender::new(bob, &keys, addr);
    let (_, envelope) = stranger.seal(MessageBody::Reaction {
        target: missing,
        emoji: Some("👀".into()),
    });
    assert_eq!(stranger.send(vec![envelope]).await, [DmResult::Stored]);
    // Bob's node is none the worse.
    exchange(&a, &mut b, "still fine?").await;
    // (Bob's answer moved mallory's chat to his inbox.)
    assert!(b.node.requests().expect("requests").is_empty());
    let mut chats: Vec<PeerId> = b
        .node
        .inbox()
        .expect("inbox")
        .iter()
        .map(|c| c.peer)
        .collect();
    chats.sort();
    let mut expected = vec![a.node.peer_id(), mallory.peer_id()];
    expected.sort();
    assert_eq!(chats, expected);
}
