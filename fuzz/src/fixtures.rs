//! A fixed world of real values: three users, their signed records, and the end-to-end
//! sessions between them at the points a node stores or receives them.
//!
//! Bob is the node under test. Alice writes to him: her first envelopes carry the handshake,
//! later ones ride the ratchet (one on a chain Bob has a skipped key for, some on his current
//! receiving chain, one on a chain he has not seen). Carol wrote to Bob too, and he declined:
//! that conversation is retired into his replay cache, so her first envelope is a replay and
//! her second one (never read) opens the session again.

use std::sync::OnceLock;

use chacha20::ChaCha20Rng;
use paperplane_crypto::{
    Conversation, Envelope, Identity, MessagingIdentity, PrekeyStore, ReplayCache,
};
use paperplane_protocol::{
    BusinessInfo, Comment, CommentDelete, DirectMessage, Follow, Handle, Like, MessageBody,
    MessageId, MessagingKeys, PeerId, PhotoRef, Post, Profile, SealedEnvelope, Signed,
};
use rand_core::SeedableRng;

/// The clock of the whole world (Unix ms).
pub const NOW: u64 = 1_700_000_000_000;

/// The first bytes of a PNG file and a few more: what a post's photo looks like.
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
];

/// One user: signing identity, X25519 identity key and prekeys.
pub struct User {
    /// The ed25519 identity (its PeerId is the user's id).
    pub id: Identity,
    /// The certified X25519 identity key.
    pub ik: MessagingIdentity,
    /// The user's own prekeys, secrets included.
    pub prekeys: PrekeyStore,
}

impl User {
    fn new(seed: u8, rng: &mut ChaCha20Rng) -> Self {
        let id = Identity::from_seed([seed; 32]);
        let ik = MessagingIdentity::generate(&id, rng);
        let prekeys = PrekeyStore::new(rng, NOW);
        Self { id, ik, prekeys }
    }

    /// The user's id.
    pub fn peer(&self) -> PeerId {
        self.id.peer_id()
    }

    /// The keys the user publishes in their profile.
    pub fn keys(&self) -> MessagingKeys {
        self.prekeys.messaging_keys(&self.id, &self.ik)
    }
}

/// Direct message number `n` (its id is `n` repeated, its clock `NOW + n`).
pub fn message(n: u8, text: &str) -> DirectMessage {
    DirectMessage {
        id: MessageId([n; 16]),
        sent_at: NOW + u64::from(n),
        body: MessageBody::Text(text.to_owned()),
    }
}

/// Every signed record kind, once.
pub struct Records {
    /// Alice's profile, with an avatar and her messaging keys.
    pub alice_profile: Signed<Profile>,
    /// Bob's profile, a business without messaging keys.
    pub bob_profile: Signed<Profile>,
    /// Alice's first post.
    pub post: Signed<Post>,
    /// Bob likes it.
    pub like: Signed<Like>,
    /// Bob comments on it.
    pub comment: Signed<Comment>,
    /// Bob deletes the comment.
    pub comment_delete: Signed<CommentDelete>,
    /// Bob follows Alice.
    pub follow: Signed<Follow>,
}

/// The whole world; built once per process ([`world`]).
pub struct World {
    /// Writes to Bob; initiator of their session.
    pub alice: User,
    /// The node under test.
    pub bob: User,
    /// Wrote to Bob, who declined.
    pub carol: User,
    /// Every record kind.
    pub records: Records,
    /// Bob's conversation with Alice before anything arrived.
    pub fresh: Conversation,
    /// Bob's conversation with Carol before anything arrived.
    pub fresh_carol: Conversation,
    /// Bob's conversation with Alice after her first envelope and two of his replies.
    pub established: Conversation,
    /// Alice's side of it, as she stores it (with messages Bob has not read).
    pub alice_side: Conversation,
    /// Bob's replay cache, holding the session Carol opened.
    pub replays: ReplayCache,
    /// Alice's envelopes carrying the handshake (the first one opened `established`).
    pub handshakes: Vec<Envelope>,
    /// Alice's envelopes on the ratchet that `established` has not read.
    pub ratchet: Vec<Envelope>,
    /// Carol's envelopes: the first one Bob read (a replay now), the second he never did.
    pub carol_envelopes: Vec<Envelope>,
    /// The plaintexts of Alice's envelopes, in the order she sent them.
    pub plaintexts: Vec<Vec<u8>>,
}

/// The world, built on first use.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(build)
}

/// The RNG a target draws from (fixed, so a run is reproducible).
pub fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(7)
}

/// Bob's conversation state and the plaintext after he opens `envelope` from its sender.
pub fn open(w: &World, conv: &Conversation, envelope: &Envelope) -> (Conversation, Vec<u8>) {
    conv.decrypt_at(&w.bob.ik, &w.bob.prekeys, &w.replays, envelope, NOW)
        .unwrap_or_else(|e| panic!("the fixture's envelope opens: {e}"))
}

fn seal(rng: &mut ChaCha20Rng, conv: &mut Conversation, m: &DirectMessage) -> Envelope {
    conv.encrypt_in_place(rng, &m.to_plaintext())
        .unwrap_or_else(|e| panic!("the fixture's conversation encrypts: {e}"))
}

fn build() -> World {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
    let alice = User::new(1, &mut rng);
    let bob = User::new(2, &mut rng);
    let carol = User::new(3, &mut rng);
    let records = records(&alice, &bob);

    let mut a = Conversation::new(bob.peer())
        .start(&mut rng, &alice.ik, &bob.keys(), NOW)
        .unwrap_or_else(|e| panic!("Alice starts a session: {e}"));
    let plain: Vec<DirectMessage> = (1..=6)
        .map(|n| message(n, &format!("message {n} from Alice 👋")))
        .collect();
    // Two envelopes with the handshake; Bob reads the first.
    let h1 = seal(&mut rng, &mut a, &plain[0]);
    let h2 = seal(&mut rng, &mut a, &plain[1]);
    let fresh = Conversation::new(alice.peer());
    let replays_empty = ReplayCache::new();
    let (mut b, _) = fresh
        .decrypt_at(&bob.ik, &bob.prekeys, &replays_empty, &h1, NOW)
        .unwrap_or_else(|e| panic!("Bob answers the handshake: {e}"));
    // Bob replies; Alice turns the ratchet and sends on a new chain: Bob reads the first of
    // those, which stores a skipped key for `h2`.
    let r1 = seal(&mut rng, &mut b, &message(101, "hello Alice"));
    a = a
        .decrypt_at(&alice.ik, &alice.prekeys, &replays_empty, &r1, NOW)
        .unwrap_or_else(|e| panic!("Alice reads Bob's reply: {e}"))
        .0;
    let m3 = seal(&mut rng, &mut a, &plain[2]);
    let m4 = seal(&mut rng, &mut a, &plain[3]);
    let m5 = seal(&mut rng, &mut a, &plain[4]);
    b = b
        .decrypt_at(&bob.ik, &bob.prekeys, &replays_empty, &m3, NOW)
        .unwrap_or_else(|e| panic!("Bob reads Alice's third message: {e}"))
        .0;
    // Bob replies again; Alice reads it and sends on a third chain Bob has not seen.
    let r2 = seal(&mut rng, &mut b, &message(102, "still here"));
    a = a
        .decrypt_at(&alice.ik, &alice.prekeys, &replays_empty, &r2, NOW)
        .unwrap_or_else(|e| panic!("Alice reads Bob's second reply: {e}"))
        .0;
    let m6 = seal(&mut rng, &mut a, &plain[5]);

    // Carol writes twice; Bob reads the first and declines: her conversation is retired.
    let mut c = Conversation::new(bob.peer())
        .start(&mut rng, &carol.ik, &bob.keys(), NOW)
        .unwrap_or_else(|e| panic!("Carol starts a session: {e}"));
    let c1 = seal(&mut rng, &mut c, &message(201, "hi, a request"));
    let c2 = seal(&mut rng, &mut c, &message(202, "hello?"));
    let fresh_carol = Conversation::new(carol.peer());
    let (declined, _) = fresh_carol
        .decrypt_at(&bob.ik, &bob.prekeys, &replays_empty, &c1, NOW)
        .unwrap_or_else(|e| panic!("Bob reads Carol's request: {e}"));
    let mut replays = ReplayCache::new();
    replays.retire(&declined, NOW);

    let kinds = every_kind(&records, alice.peer());
    World {
        alice,
        bob,
        carol,
        records,
        fresh,
        fresh_carol,
        established: b,
        alice_side: a,
        replays,
        handshakes: vec![h1, h2.clone()],
        ratchet: vec![h2, m4, m5, m6],
        carol_envelopes: vec![c1, c2],
        plaintexts: plain
            .iter()
            .chain(&kinds)
            .map(DirectMessage::to_plaintext)
            .collect(),
    }
}

/// A message of every kind a chat carries, beyond plain text.
fn every_kind(records: &Records, author: PeerId) -> Vec<DirectMessage> {
    let target = MessageId([1; 16]);
    let bodies = [
        MessageBody::Reply {
            text: "yes 🙂".into(),
            quote: paperplane_protocol::Quote {
                id: target,
                author,
                excerpt: "message 1 from Alice 👋".into(),
            },
        },
        MessageBody::SharedPost {
            post: records.post.clone(),
            text: "look".into(),
        },
        MessageBody::Reaction {
            target,
            emoji: Some("🔥".into()),
        },
        MessageBody::Reaction {
            target,
            emoji: None,
        },
        MessageBody::Unsend { target },
        MessageBody::Edit {
            target,
            text: "message 1, edited".into(),
        },
        MessageBody::Seen { up_to: target },
        MessageBody::Typing { active: true },
    ];
    bodies
        .into_iter()
        .zip(10u8..)
        .map(|(body, n)| DirectMessage {
            body,
            ..message(n, "")
        })
        .collect()
}

fn records(alice: &User, bob: &User) -> Records {
    let (a, b) = (alice.peer(), bob.peer());
    let photo = PhotoRef::for_bytes(PNG).unwrap_or_else(|e| panic!("the fixture's PNG: {e}"));
    let handle = |h: &str| Handle::parse(h).unwrap_or_else(|e| panic!("handle {h}: {e}"));
    let alice_profile = alice.id.sign_record(Profile {
        author: a,
        version: 3,
        updated_at: NOW,
        handle: handle("alice"),
        display_name: "Alice ✨".into(),
        bio: "Photos of bread".into(),
        avatar: Some(photo),
        business: None,
        messaging: Some(alice.keys()),
    });
    let bob_profile = bob.id.sign_record(Profile {
        author: b,
        version: 1,
        updated_at: NOW - 1,
        handle: handle("bobs.bakery"),
        display_name: "Bob's Bakery".into(),
        bio: String::new(),
        avatar: None,
        business: Some(BusinessInfo {
            category: "Bakery".into(),
            faq: vec![paperplane_protocol::FaqEntry {
                question: "Open on Sunday?".into(),
                answer: "8–12".into(),
            }],
        }),
        messaging: None,
    });
    let post = alice.id.sign_record(Post {
        author: a,
        seq: 1,
        created_at: NOW - 10,
        caption: "Fresh out of the oven 🍞".into(),
        photos: vec![photo],
    });
    let like = bob.id.sign_record(Like {
        author: b,
        post: post.id(),
        post_author: a,
        liked: true,
        at: NOW - 5,
    });
    let comment = bob.id.sign_record(Comment {
        author: b,
        post: post.id(),
        post_author: a,
        created_at: NOW - 4,
        text: "Saving one for me? 😍".into(),
    });
    let comment_delete = bob.id.sign_record(CommentDelete {
        author: b,
        comment: comment.id(),
        post: post.id(),
        post_author: a,
        at: NOW - 3,
    });
    let follow = bob.id.sign_record(Follow {
        author: b,
        followee: a,
        following: true,
        at: NOW - 2,
    });
    Records {
        alice_profile,
        bob_profile,
        post,
        like,
        comment,
        comment_delete,
        follow,
    }
}

/// An envelope as it travels to Bob inside a `/paperplane/dm/1` request.
pub fn sealed(w: &World, envelope: &Envelope, message: MessageId) -> SealedEnvelope {
    SealedEnvelope {
        recipient: w.bob.peer(),
        id: message,
        payload: envelope.to_bytes(),
    }
}
