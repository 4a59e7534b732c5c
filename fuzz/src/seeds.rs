//! Seed corpora made of real values: the world's records, frames and envelopes encoded as the
//! node sends them, and the trees of a real store the node wrote through its own API.

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use paperplane::chat_rules::{MessageMarks, ReactionMark};
use paperplane::protocol::MessageBody;
use paperplane::store::{
    chat_state::{ChatItem, ControlRow},
    groups::{
        group_index_key, group_message_key, held_change_key, held_key, row_key, seen_key,
        update_seen_key, ChainRow, GTree, GroupBatch, GroupChat, GroupRecord, GroupStatus,
        HeldChange, HeldEnvelope, MyKey,
    },
    messages::{DeliveryState, Folder, OutboxEntry, StoredMessage},
    Store,
};
use paperplane_protocol::{
    encode, group::GROUP_PAYLOAD_TAG, BlobRequest, BlobResponse, DmRejection, DmRequest,
    DmResponse, DmResult, FeedMessage, MessageId, PeerId, PhotoRef, SealedEnvelope, SyncRequest,
    SyncResponse,
};

use crate::{
    fixtures::{message, sealed, world, World, NOW, PNG},
    store_input::{self, Entry, TREES},
};

/// The trees whose values `stored_values` decodes, in the order its first byte selects them.
pub const STORED_VALUE_TREES: &[&str] = &[
    "profiles",
    "posts",
    "likes",
    "comments",
    "comment_deletes",
    "follows",
    "addresses",
    "messages",
    "chats",
    "outbox",
    "group_records",
    "group_chats",
    "group_my_keys",
    "group_chains",
    "group_messages",
    "group_marks",
    "group_seen",
    "group_held",
    "group_held_changes",
    "group_sent",
    "group_failed",
    "group_rosters",
    "mail_items",
];

/// Writes every target's seeds under `root/<target>/`; returns each target with its number
/// of seeds.
pub fn write_all(root: &Path) -> Result<Vec<(&'static str, usize)>, String> {
    let w = world();
    let store = real_store(w)?;
    let mut out = Vec::new();
    for (target, seeds) in [
        ("gossip_profile", gossip_profile(w)),
        ("gossip_feed", gossip_feed(w)),
        ("sync_request", sync_request(w)),
        ("sync_response", sync_response(w)),
        ("blob_request", blob_request()),
        ("blob_response", blob_response()),
        ("dm_request", dm_request(w)),
        ("dm_response", dm_response()),
        ("direct_message", w.plaintexts.clone()),
        ("envelope", envelopes(w)),
        ("handshake", handshake(w)),
        ("ratchet", ratchet(w)),
        ("stored_session", stored_session(w)),
        (
            "stored_prekeys",
            vec![encode(&w.bob.prekeys), encode(&w.alice.prekeys)],
        ),
        (
            "stored_replay_cache",
            vec![
                encode(&w.replays),
                encode(&paperplane_crypto::ReplayCache::new()),
            ],
        ),
        ("stored_values", stored_values(w, &store)),
        ("store_load", store_load(&store)?),
        ("group_envelope", group_envelope(w)),
        ("mailbox_frames", mailbox_frames(w)),
    ] {
        let dir = root.join(target);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (i, seed) in seeds.iter().enumerate() {
            let path = dir.join(format!("seed-{i:02}"));
            fs::write(&path, seed).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        out.push((target, seeds.len()));
    }
    Ok(out)
}

fn feed_messages(w: &World) -> Vec<FeedMessage> {
    let r = &w.records;
    vec![
        FeedMessage::Post(r.post.clone()),
        FeedMessage::Like(r.like.clone()),
        FeedMessage::Comment(r.comment.clone()),
        FeedMessage::CommentDelete(r.comment_delete.clone()),
        FeedMessage::Follow(r.follow.clone()),
    ]
}

fn gossip_profile(w: &World) -> Vec<Vec<u8>> {
    vec![
        encode(&w.records.alice_profile),
        encode(&w.records.bob_profile),
    ]
}

fn gossip_feed(w: &World) -> Vec<Vec<u8>> {
    feed_messages(w).iter().map(encode).collect()
}

fn sync_request(w: &World) -> Vec<Vec<u8>> {
    vec![
        encode(&SyncRequest {
            author: w.alice.peer(),
            since_seq: 0,
            limit: 100,
        }),
        encode(&SyncRequest {
            author: w.bob.peer(),
            since_seq: 41,
            limit: 1,
        }),
    ]
}

fn sync_response(w: &World) -> Vec<Vec<u8>> {
    let reactions = feed_messages(w).into_iter().skip(1).collect();
    vec![
        encode(&SyncResponse {
            profile: Some(w.records.alice_profile.clone()),
            posts: vec![w.records.post.clone()],
            reactions,
            more: true,
        }),
        encode(&SyncResponse::default()),
    ]
}

fn photo() -> PhotoRef {
    PhotoRef::for_bytes(PNG).unwrap_or_else(|e| panic!("the fixture's PNG: {e}"))
}

fn blob_request() -> Vec<Vec<u8>> {
    let hash = photo().hash;
    vec![
        encode(&BlobRequest { hash, offset: 0 }),
        encode(&BlobRequest {
            hash,
            offset: 262_144,
        }),
    ]
}

fn blob_response() -> Vec<Vec<u8>> {
    vec![
        encode(&BlobResponse::Chunk {
            total_len: PNG.len() as u64,
            bytes: PNG.to_vec(),
        }),
        encode(&BlobResponse::NotFound),
        encode(&BlobResponse::Refused("offset past the end".into())),
    ]
}

fn dm_request(w: &World) -> Vec<Vec<u8>> {
    let ids = |from: u8| (from..).map(|n| MessageId([n; 16]));
    let batch = |envs: &[paperplane_crypto::Envelope], first: u8| DmRequest {
        envelopes: envs
            .iter()
            .zip(ids(first))
            .map(|(e, id)| sealed(w, e, id))
            .collect(),
    };
    vec![
        encode(&batch(&w.handshakes, 1)),
        encode(&batch(&w.ratchet[1..], 4)),
        encode(&batch(&w.carol_envelopes, 201)),
        encode(&DmRequest { envelopes: vec![] }),
    ]
}

fn dm_response() -> Vec<Vec<u8>> {
    use DmRejection::*;
    let mut results = vec![DmResult::Stored, DmResult::Duplicate];
    results.extend(
        [
            Blocked,
            Malformed,
            TooLarge,
            NotForMe,
            Undecryptable,
            RateLimited,
            Unavailable,
        ]
        .map(DmResult::Rejected),
    );
    vec![
        encode(&DmResponse { results }),
        encode(&DmResponse {
            results: vec![DmResult::Stored],
        }),
    ]
}

fn envelopes(w: &World) -> Vec<Vec<u8>> {
    w.handshakes
        .iter()
        .chain(&w.ratchet)
        .chain(&w.carol_envelopes)
        .map(|e| e.to_bytes())
        .collect()
}

/// `handshake` inputs: the sender (0 Alice, 1 Carol), then the envelope.
fn handshake(w: &World) -> Vec<Vec<u8>> {
    let from = |who: u8, e: &paperplane_crypto::Envelope| [vec![who], e.to_bytes()].concat();
    w.handshakes
        .iter()
        .map(|e| from(0, e))
        .chain(w.carol_envelopes.iter().map(|e| from(1, e)))
        .collect()
}

fn ratchet(w: &World) -> Vec<Vec<u8>> {
    w.ratchet
        .iter()
        .chain(&w.handshakes[..1])
        .map(|e| e.to_bytes())
        .collect()
}

fn stored_session(w: &World) -> Vec<Vec<u8>> {
    let (after_handshake, _) = crate::fixtures::open(w, &w.fresh, &w.handshakes[0]);
    vec![
        encode(&w.fresh),
        encode(&after_handshake),
        encode(&w.established),
        encode(&w.alice_side),
    ]
}

fn stored_values(w: &World, store: &[Entry]) -> Vec<Vec<u8>> {
    let tagged = |tree: &str, value: Vec<u8>| {
        let i = STORED_VALUE_TREES
            .iter()
            .position(|t| *t == tree)
            .unwrap_or_else(|| panic!("{tree} is a stored-value tree"));
        [vec![i as u8], value].concat()
    };
    let r = &w.records;
    let mut out = vec![
        tagged("comments", encode(&r.comment)),
        tagged("profiles", encode(&r.bob_profile)),
    ];
    for e in store {
        if STORED_VALUE_TREES.contains(&TREES[e.tree]) {
            out.push(tagged(TREES[e.tree], e.value.clone()));
        }
    }
    out
}

/// `mailbox_frames` inputs: a tag byte (0 request, 1 response, 2 address record), then a
/// deposit of Alice's envelopes for Bob, a challenge, Bob's signed fetch, their answers, and
/// Alice's address record.
fn mailbox_frames(w: &World) -> Vec<Vec<u8>> {
    use paperplane_protocol::{
        addresses::PeerAddresses,
        mailbox::{
            DepositResult, FetchProof, MailItem, MailboxRefusal, MailboxRequest,
            MailboxResponse, FETCH_PROOF_LABEL,
        },
    };
    let tagged = |tag: u8, bytes: Vec<u8>| {
        let mut out = vec![tag];
        out.extend(bytes);
        out
    };
    let bob = w.bob.id.peer_id();
    let mailbox = w.carol.id.peer_id();
    let envelopes: Vec<SealedEnvelope> = w
        .handshakes
        .iter()
        .zip(1u8..)
        .map(|(e, n)| sealed(w, e, MessageId([n; 16])))
        .collect();
    let proof = FetchProof {
        mailbox,
        recipient: bob,
        nonce: [9; 32],
    };
    let signature = w
        .bob
        .id
        .sign_labelled(FETCH_PROOF_LABEL, &proof.signing_bytes())
        .to_vec();
    let items = envelopes
        .iter()
        .zip(1u64..)
        .map(|(e, seq)| MailItem {
            seq,
            depositor: w.alice.id.peer_id(),
            envelope: e.clone(),
        })
        .collect();
    let record = w.alice.id.sign_record(PeerAddresses {
        peer: w.alice.id.peer_id(),
        addrs: vec![
            "/ip4/10.77.0.1/udp/4001/quic-v1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit".into(),
            "/ip4/192.0.2.7/tcp/4001".into(),
        ],
        published_at: NOW,
        expires_at: NOW + 60 * 60 * 1000,
    });
    vec![
        tagged(
            0,
            encode(&MailboxRequest::Deposit {
                recipient: bob,
                envelopes,
            }),
        ),
        tagged(0, encode(&MailboxRequest::Challenge)),
        tagged(
            0,
            encode(&MailboxRequest::Fetch {
                proof,
                signature,
                ack_up_to: Some(3),
            }),
        ),
        tagged(
            1,
            encode(&MailboxResponse::Deposited(vec![
                DepositResult::Stored,
                DepositResult::Duplicate,
                DepositResult::Refused(MailboxRefusal::RecipientFull),
            ])),
        ),
        tagged(1, encode(&MailboxResponse::Challenge([9; 32]))),
        tagged(1, encode(&MailboxResponse::Mail { items, more: true })),
        tagged(2, encode(&record)),
    ]
}

/// `group_envelope` inputs: Alice's group messages as payloads, then (after a tag byte)
/// her update with the roster and her key, both rosters and the key share alone.
fn group_envelope(w: &World) -> Vec<Vec<u8>> {
    let g = &w.group;
    let tagged = |bytes: Vec<u8>| [vec![GROUP_PAYLOAD_TAG], bytes].concat();
    let mut out = g.payloads.clone();
    out.extend([
        tagged(encode(&g.update)),
        tagged(encode(&g.roster)),
        tagged(encode(&g.created)),
        tagged(encode(&g.share)),
    ]);
    out
}

/// `store_load` inputs: the whole real store, each tree alone, and the store with its message
/// index in the first layout (keyed by the message id alone), which opening migrates.
fn store_load(store: &[Entry]) -> Result<Vec<Vec<u8>>, String> {
    let write = |entries: &[Entry]| {
        store_input::write(entries).ok_or("a stored key or value is too long for the format")
    };
    let mut out = vec![write(store)?];
    for tree in 0..TREES.len() {
        let alone: Vec<Entry> = store.iter().filter(|e| e.tree == tree).cloned().collect();
        if !alone.is_empty() {
            out.push(write(&alone)?);
        }
    }
    let index = TREES
        .iter()
        .position(|t| *t == "message_index")
        .ok_or("no message_index tree")?;
    let old_layout: Vec<Entry> = store
        .iter()
        .map(|e| match e.tree == index && e.key.len() > 16 {
            true => Entry {
                key: e.key[..16].to_vec(),
                ..e.clone()
            },
            false => e.clone(),
        })
        .collect();
    out.push(write(&old_layout)?);
    Ok(out)
}

/// A store the node wrote through its own API, holding every kind of value, as raw entries.
fn real_store(w: &World) -> Result<Vec<Entry>, String> {
    let dir = std::env::temp_dir().join(format!("paperplane-fuzz-seeds-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let result = fill(w, &dir).and_then(|()| dump_when_closed(&dir));
    let _ = fs::remove_dir_all(&dir);
    result
}

fn fill(w: &World, dir: &Path) -> Result<(), String> {
    let s = Store::open(dir).map_err(|e| e.to_string())?;
    let r = &w.records;
    let (alice, carol) = (w.alice.peer(), w.carol.peer());
    let e = |e: paperplane::store::StoreError| e.to_string();
    s.put_profile_if_newer(&r.alice_profile).map_err(e)?;
    s.put_profile_if_newer(&r.bob_profile).map_err(e)?;
    s.insert_post(&r.post).map_err(e)?;
    s.put_like_if_newer(&r.like).map_err(e)?;
    s.insert_comment(&r.comment).map_err(e)?;
    s.delete_comment(&r.comment_delete).map_err(e)?;
    s.put_follow_if_newer(&r.follow).map_err(e)?;
    s.put_blob(PNG).map_err(e)?;
    s.put_addresses(&alice, &["/ip4/127.0.0.1/tcp/4001".into()])
        .map_err(e)?;
    s.note_key_change(&alice, NOW).map_err(e)?;
    s.put_prekeys(&w.bob.prekeys).map_err(e)?;
    s.cache_other_profile(&carol, 10, |_| Ok(false))
        .map_err(e)?;

    let stored = |n: u8, peer, outgoing, state| {
        let m = message(n, &format!("stored message {n}"));
        StoredMessage {
            id: m.id,
            peer,
            outgoing,
            sent_at: m.sent_at,
            stored_at: NOW,
            body: m.body,
            state,
        }
    };
    // Received from Alice, then one of ours waiting in the outbox.
    let (after_handshake, _) = crate::fixtures::open(w, &w.fresh, &w.handshakes[0]);
    let me = w.bob.peer();
    let first = stored(1, alice, false, DeliveryState::Received);
    // Alice's message, then her reaction to it and one to a message not here yet (held).
    let reaction = |n: u8, target| {
        ChatItem::Control(ControlRow {
            id: message(n, "").id,
            peer: alice,
            outgoing: false,
            sent_at: NOW + u64::from(n),
            body: MessageBody::Reaction {
                target,
                emoji: Some("🔥".into()),
            },
        })
    };
    s.accept_incoming(
        &me,
        &alice,
        &after_handshake,
        &[
            ChatItem::Shown(first.clone()),
            reaction(2, first.id),
            reaction(3, message(99, "").id),
        ],
        Folder::Inbox,
    )
    .map_err(e)?;
    s.queue_outgoing(
        &me,
        &alice,
        &w.established,
        &[(
            ChatItem::Shown(stored(101, alice, true, DeliveryState::Pending)),
            w.ratchet[0].to_bytes(),
        )],
    )
    .map_err(e)?;
    // Carol's request, declined: the replay cache is written with the deletion; then
    // another request from her stays.
    let (carol_conv, _) = w
        .fresh_carol
        .decrypt_at(
            &w.bob.ik,
            &w.bob.prekeys,
            &paperplane_crypto::ReplayCache::new(),
            &w.carol_envelopes[0],
            NOW,
        )
        .map_err(|e| e.to_string())?;
    let request = [ChatItem::Shown(stored(201, carol, false, DeliveryState::Received))];
    s.accept_incoming(&me, &carol, &carol_conv, &request, Folder::Requests)
        .map_err(e)?;
    s.delete_chat(&carol, Some(&w.replays)).map_err(e)?;
    s.accept_incoming(
        &me,
        &carol,
        &carol_conv,
        &[ChatItem::Shown(stored(202, carol, false, DeliveryState::Received))],
        Folder::Requests,
    )
    .map_err(e)?;
    s.set_blocked(&carol, true, NOW).map_err(e)?;
    fill_group(w, &s).map_err(e)?;
    fill_mail(w, &s).map_err(e)?;
    s.flush_blocking().map_err(e)?;
    Ok(())
}

/// Mail Bob keeps for Alice: Carol's envelopes, the first acknowledged (so the sequence
/// runs ahead of the items); and the mailboxes Bob names in his own profile.
fn fill_mail(w: &World, s: &Store) -> Result<(), paperplane::store::StoreError> {
    let (alice, carol) = (w.alice.peer(), w.carol.peer());
    s.keep_mail_for(&alice, true)?;
    let envelopes: Vec<_> = w
        .carol_envelopes
        .iter()
        .take(2)
        .enumerate()
        .map(|(n, e)| SealedEnvelope {
            recipient: alice,
            ..sealed(w, e, message(150 + n as u8, "").id)
        })
        .collect();
    s.deposit_mail(&alice, &carol, &envelopes, NOW)?;
    s.ack_mail(&alice, 1)?;
    s.set_my_mailboxes(&[carol])
}

/// Bob's group with Alice and Carol, in every group tree: the roster, his key and Alice's
/// chain, her messages with a reaction, receipts, an envelope held for Carol's key not yet
/// here, a change held for a message not yet here, his rows to them (one failed, one a 1:1
/// update), an update seen.
fn fill_group(w: &World, s: &Store) -> Result<(), paperplane::store::StoreError> {
    let g = &w.group;
    let (alice, me, carol) = (w.alice.peer(), w.bob.peer(), w.carol.peer());
    let mut batch = GroupBatch::default();
    batch.record(&GroupRecord {
        roster: g.roster.clone(),
        mine: None,
        folder: Folder::Inbox,
        status: GroupStatus::Member,
    });
    batch.roster(&g.created, true);
    batch.roster(&g.roster, true);
    batch.my_key(
        &g.id,
        &MyKey {
            key_id: 0xfeed,
            epoch: g.epoch,
            key: g.bob_key.clone(),
            created_at: NOW - 60,
            sent: 0,
        },
    );
    batch.chain(
        &g.id,
        &alice,
        g.key_id,
        &ChainRow {
            epoch: g.epoch,
            chain: g.chain_later.clone(),
            retire_at: None,
        },
    );
    batch.chain(
        &g.id,
        &carol,
        7,
        &ChainRow {
            epoch: g.epoch,
            chain: g.chain.clone(),
            retire_at: Some(NOW + 86_400_000),
        },
    );
    let mut last = None;
    for m in g.messages.iter().filter(|m| m.body.is_shown()) {
        let key = group_message_key(&g.id, m.sent_at, &alice, &m.id);
        let stored = StoredMessage {
            id: m.id,
            peer: alice,
            outgoing: false,
            sent_at: m.sent_at,
            stored_at: NOW,
            body: m.body.clone(),
            state: DeliveryState::Received,
        };
        batch.put(GTree::Messages, key.clone(), encode(&stored));
        batch.put(GTree::Index, group_index_key(&g.id, &alice, &m.id), key.clone());
        batch.put(
            GTree::Marks,
            key,
            encode(&MessageMarks {
                reactions: vec![ReactionMark {
                    by: carol,
                    emoji: Some("🔥".into()),
                    at: m.sent_at + 1,
                }],
                edit: None,
                unsent_at: None,
            }),
        );
        last = Some((alice, m.id, m.sent_at));
    }
    // A change (Alice's reaction) is indexed with no message of its own.
    let reaction = &g.messages[2];
    batch.put(
        GTree::Index,
        group_index_key(&g.id, &alice, &reaction.id),
        Vec::new(),
    );
    batch.chat(
        &g.id,
        &GroupChat {
            last_activity: last.map_or(0, |l| l.2),
            unread: 2,
            last_message: last.map(|l| (l.0, l.1)),
            held: 1,
            last_receipt: last.map(|l| l.1),
            held_changes: 1,
        },
    );
    batch.put(GTree::Seen, seen_key(&g.id, &alice), encode(&(NOW - 40, NOW - 30)));
    let held = g
        .payloads
        .first()
        .and_then(|p| paperplane_protocol::GroupEnvelope::from_payload(p).ok())
        .expect("the fixture's payload decodes");
    let held_id = MessageId([0x48; 16]);
    batch.put(
        GTree::Held,
        held_key(&g.id, &carol, 7, &held_id),
        encode(&HeldEnvelope {
            id: held_id,
            envelope: held,
            held_at: NOW - 20,
        }),
    );
    let missing = MessageId([0x49; 16]);
    let change_id = MessageId([0x4a; 16]);
    batch.put(
        GTree::HeldChanges,
        held_change_key(&g.id, &missing, &carol, &change_id),
        encode(&HeldChange {
            author: carol,
            id: change_id,
            sent_at: NOW - 10,
            body: MessageBody::Reaction {
                target: missing,
                emoji: Some("👍".into()),
            },
        }),
    );
    // Bob's own message: its row to Alice failed, the one to Carol waits.
    let mine = MessageId([0x4b; 16]);
    let sent_at = NOW - 5;
    let key = group_message_key(&g.id, sent_at, &me, &mine);
    batch.put(
        GTree::Messages,
        key.clone(),
        encode(&StoredMessage {
            id: mine,
            peer: me,
            outgoing: true,
            sent_at,
            stored_at: sent_at,
            body: MessageBody::Text("count me in".into()),
            state: DeliveryState::Pending,
        }),
    );
    batch.put(GTree::Index, group_index_key(&g.id, &me, &mine), key);
    batch.put(
        GTree::Failed,
        row_bytes(&alice, sent_at, &mine),
        encode(&"no session with this member".to_string()),
    );
    batch.outbox(
        &row_key(&carol, sent_at, &mine),
        &OutboxEntry {
            peer: carol,
            message: mine,
            payload: g.payloads[0].clone(),
            queued_at: sent_at,
        },
    );
    // A 1:1 group update to Carol, kept to seal again.
    let update_id = MessageId([0x4c; 16]);
    batch.put(
        GTree::Sent,
        row_bytes(&carol, sent_at + 1, &update_id),
        encode(&(
            update_id,
            sent_at + 1,
            MessageBody::GroupUpdate(Box::new(g.update.clone())),
        )),
    );
    batch.put(
        GTree::UpdatesSeen,
        update_seen_key(&alice, &MessageId([30; 16])),
        Vec::new(),
    );
    s.commit_group_batch(&batch)
}

/// The bytes of the outbox key `row_key` makes (the store keeps them to itself): the member,
/// the time, the message.
fn row_bytes(member: &PeerId, sent_at: u64, id: &MessageId) -> Vec<u8> {
    [&member.to_bytes()[..], &sent_at.to_be_bytes(), &id.0].concat()
}

/// The store's entries once sled has released it (its background thread may hold the lock
/// a moment after the store is dropped).
fn dump_when_closed(dir: &Path) -> Result<Vec<Entry>, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match store_input::dump(dir) {
            Ok(entries) => return Ok(entries),
            Err(e) if e.contains("lock") || e.contains("WouldBlock") => {
                if Instant::now() > deadline {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}
