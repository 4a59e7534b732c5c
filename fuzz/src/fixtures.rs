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
    Conversation, Envelope, Identity, MessagingIdentity, PrekeyStore, ReceiverChain, ReplayCache,
    SenderKey, SenderKeyShare,
};
use paperplane_protocol::{
    encode, BusinessInfo, Comment, CommentDelete, DirectMessage, Epoch, Follow, GroupEnvelope,
    GroupId, GroupKey, GroupUpdate, Handle, Like, Member, MessageBody, MessageId, MessagingKeys,
    PeerId, PhotoRef, Post, Profile, Roster, RosterChange, SealedEnvelope, Signed,
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
    /// The plaintexts of Alice's envelopes, in the order she sent them (then one of every
    /// other kind, a group update among them).
    pub plaintexts: Vec<Vec<u8>>,
    /// A group chat of the three.
    pub group: Group,
}

/// A group Alice created with Bob, then added Carol to. Alice sends to it with her sender
/// key; Bob holds her chain.
pub struct Group {
    /// The group's id.
    pub id: GroupId,
    /// Its key epoch.
    pub epoch: Epoch,
    /// The id of Alice's sender key.
    pub key_id: u64,
    /// Version 0: Alice creates the group with Bob.
    pub created: Signed<Roster>,
    /// Version 1: Alice adds Carol.
    pub roster: Signed<Roster>,
    /// Alice's sender key after sealing [`Group::payloads`].
    pub alice_key: SenderKey,
    /// Bob's own sender key, never used.
    pub bob_key: SenderKey,
    /// The share of Alice's key as she sent it (index 0).
    pub share: SenderKeyShare,
    /// What Alice sent Bob over their session: the roster and her key.
    pub update: GroupUpdate,
    /// Bob's chain of Alice's key, before any message.
    pub chain: ReceiverChain,
    /// The same after he opened the last message only (keys of the others skipped).
    pub chain_later: ReceiverChain,
    /// Alice's group messages, in the order she sealed them (index 0 first).
    pub messages: Vec<DirectMessage>,
    /// Their `SealedEnvelope` payloads (the tag, then the `GroupEnvelope`).
    pub payloads: Vec<Vec<u8>>,
}

/// The message id the outer envelope of the group message at `index` names. In this world it
/// follows from the index, so a target knows it from the group payload alone.
pub fn group_message_id(index: u32) -> MessageId {
    let mut id = [0x47; 16];
    id[..4].copy_from_slice(&index.to_be_bytes());
    MessageId(id)
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
    let group = group(&alice, &bob, &carol);
    let update = DirectMessage {
        body: MessageBody::GroupUpdate(Box::new(group.update.clone())),
        ..message(30, "")
    };
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
            .chain([&update])
            .map(DirectMessage::to_plaintext)
            .collect(),
        group,
    }
}

/// The group: its rosters, Alice's key and messages, Bob's chain. Its own RNG, so the rest of
/// the world is as it was before groups.
fn group(alice: &User, bob: &User, carol: &User) -> Group {
    let mut rng = ChaCha20Rng::seed_from_u64(0x6709);
    let (a, b, c) = (alice.peer(), bob.peer(), carol.peer());
    let id = GroupId(*b"bread club 2023!");
    let epoch = Epoch {
        number: 0,
        nonce: *b"epoch 0!",
    };
    let member = |peer, admin| Member { peer, admin };
    let roster = |version, parent, members, change| Roster {
        group: id,
        version,
        parent,
        epoch,
        name: "Bread club 🥖".into(),
        members: Roster::canonical_members(members),
        author: a,
        changed_at: NOW - 100 + version,
        change,
    };
    let created = alice.id.sign_record(roster(
        0,
        None,
        vec![member(a, true), member(b, false)],
        RosterChange::Create,
    ));
    let added = alice.id.sign_record(roster(
        1,
        Some(created.id()),
        vec![member(a, true), member(b, false), member(c, false)],
        RosterChange::Add(vec![c]),
    ));
    let key_id = 0x0123_4567_89ab_cdef;
    let mut alice_key = SenderKey::generate(&mut rng);
    let bob_key = SenderKey::generate(&mut rng);
    let share = alice_key.share();
    let update = GroupUpdate {
        group: id,
        roster: Some(added.clone()),
        key: Some(GroupKey {
            epoch,
            key_id,
            share: encode(&share),
        }),
    };
    let chain = ReceiverChain::from_share(&share)
        .unwrap_or_else(|e| panic!("the fixture's share makes a chain: {e}"));
    let target = group_message_id(0);
    let bodies = [
        MessageBody::Text("hi all 👋".into()),
        MessageBody::Text("🍞 ".repeat(600)),
        MessageBody::Reaction {
            target,
            emoji: Some("🔥".into()),
        },
        MessageBody::Edit {
            target,
            text: "hi all, edited".into(),
        },
        MessageBody::Typing { active: true },
    ];
    let mut messages = Vec::new();
    let mut payloads = Vec::new();
    for body in bodies {
        let index = alice_key.index();
        let m = DirectMessage {
            id: group_message_id(index),
            sent_at: NOW - 50 + u64::from(index),
            body,
        };
        let ad = GroupEnvelope::associated_data(&id, &a, key_id, &m.id);
        let sealed = alice_key
            .seal(&mut rng, &ad, &m.to_plaintext())
            .unwrap_or_else(|e| panic!("the fixture's group message seals: {e}"));
        payloads.push(
            GroupEnvelope {
                group: id,
                key_id,
                sealed: encode(&sealed),
            }
            .to_payload(),
        );
        messages.push(m);
    }
    // Bob opens the last message first: the others' keys are kept as skipped.
    let mut chain_later = chain.clone();
    let last = payloads.len() as u32 - 1;
    let env = GroupEnvelope::from_payload(&payloads[last as usize])
        .unwrap_or_else(|e| panic!("the fixture's payload decodes: {e}"));
    let sealed = paperplane_protocol::decode(&env.sealed, usize::MAX)
        .unwrap_or_else(|e| panic!("the fixture's ciphertext decodes: {e}"));
    let ad = GroupEnvelope::associated_data(&id, &a, key_id, &group_message_id(last));
    chain_later
        .open(&ad, &sealed)
        .unwrap_or_else(|e| panic!("Bob opens Alice's last group message: {e}"));
    Group {
        id,
        epoch,
        key_id,
        created,
        roster: added,
        alice_key,
        bob_key,
        share,
        update,
        chain,
        chain_later,
        messages,
        payloads,
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
