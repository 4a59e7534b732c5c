//! Every other value the store reads back: records (profiles, posts, likes, comments, comment
//! deletions, follows), peer addresses, messages, chats, outbox rows, and the group trees'
//! values. The first byte chooses the tree; the rest is its value, decoded as the store
//! decodes it, round-tripped, and used: records verified, an outbox row's envelope decoded, a
//! group's rosters verified, our sender key sealing a message its own share opens, a member's
//! chain opening a message of the fixture's group.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane::{
    chat_rules::MessageMarks,
    store::{
        groups::{ChainRow, GroupChat, GroupRecord, HeldChange, HeldEnvelope, MyKey},
        mailbox::StoredMail,
        messages::{Chat, OutboxEntry, StoredMessage},
    },
};
use paperplane_crypto::{Envelope, GroupCiphertext, ReceiverChain};
use paperplane_fuzz::{
    checks,
    fixtures::{group_message_id, rng, world},
    seeds::STORED_VALUE_TREES,
};
use paperplane_protocol::{
    decode, group::MAX_GROUP_PAYLOAD_BYTES, limits::MAX_FRAME_BYTES as MAX, Comment,
    CommentDelete, DirectMessage, Follow, GroupEnvelope, Like, MessageBody, MessageId, Post, Profile, Roster, Signed,
};

fuzz_target!(|data: &[u8]| {
    let Some((&which, v)) = data.split_first() else {
        return;
    };
    match STORED_VALUE_TREES[usize::from(which) % STORED_VALUE_TREES.len()] {
        "profiles" => {
            if let Some(p) = checks::decode_eq::<Signed<Profile>>(v, MAX) {
                checks::verify_profile(&p);
            }
        }
        "posts" => checks::decode_eq::<Signed<Post>>(v, MAX)
            .iter()
            .for_each(checks::verify),
        "likes" => checks::decode_eq::<Signed<Like>>(v, MAX)
            .iter()
            .for_each(checks::verify),
        "comments" => checks::decode_eq::<Signed<Comment>>(v, MAX)
            .iter()
            .for_each(checks::verify),
        "comment_deletes" => checks::decode_eq::<Signed<CommentDelete>>(v, MAX)
            .iter()
            .for_each(checks::verify),
        "follows" => checks::decode_eq::<Signed<Follow>>(v, MAX)
            .iter()
            .for_each(checks::verify),
        "addresses" => {
            let _ = checks::decode_eq::<Vec<String>>(v, MAX);
        }
        "messages" => {
            if let Some(m) = checks::decode_eq::<StoredMessage>(v, MAX) {
                let _ = m.body.text();
            }
        }
        "chats" => {
            let _ = checks::decode_eq::<Chat>(v, MAX);
        }
        "outbox" => {
            if let Some(row) = checks::decode_eq::<OutboxEntry>(v, MAX) {
                let _ = Envelope::from_bytes(&row.payload);
            }
        }
        "group_records" => {
            if let Some(g) = checks::decode_eq::<GroupRecord>(v, MAX) {
                let _ = g.id();
                checks::verify(&g.roster);
                let _ = g.mine;
            }
        }
        "group_rosters" => {
            if let Some((roster, _valid)) = checks::decode_eq::<(Signed<Roster>, bool)>(v, MAX) {
                checks::verify(&roster);
            }
        }
        "group_chats" => {
            let _ = checks::decode_eq::<GroupChat>(v, MAX);
        }
        "group_my_keys" => {
            if let Some(mine) = checks::decode_same::<MyKey>(v, MAX) {
                sender_key_opens(mine);
            }
        }
        "group_chains" => {
            if let Some(row) = checks::decode_same::<ChainRow>(v, MAX) {
                let mut chain = row.chain;
                let _ = (chain.next_index(), chain.stored_skipped());
                let g = &world().group;
                let ad = GroupEnvelope::associated_data(
                    &g.id,
                    &world().alice.peer(),
                    g.key_id,
                    &group_message_id(0),
                );
                if let Some(sealed) = first_sealed() {
                    let _ = chain.open(&ad, &sealed);
                }
            }
        }
        "group_messages" => {
            if let Some(m) = checks::decode_eq::<StoredMessage>(v, MAX) {
                let _ = (m.body.text(), m.body.target());
            }
        }
        "group_marks" => {
            let _ = checks::decode_eq::<MessageMarks>(v, MAX);
        }
        "group_seen" => {
            let _ = checks::decode_eq::<(u64, u64)>(v, MAX);
        }
        "group_held" => {
            if let Some(h) = checks::decode_eq::<HeldEnvelope>(v, MAX) {
                if let Ok(sealed) =
                    decode::<GroupCiphertext>(&h.envelope.sealed, MAX_GROUP_PAYLOAD_BYTES)
                {
                    let _ = sealed.validate();
                }
            }
        }
        "group_held_changes" => {
            if let Some(c) = checks::decode_eq::<HeldChange>(v, MAX) {
                let _ = c.body.target();
                let _ = DirectMessage {
                    id: c.id,
                    sent_at: c.sent_at,
                    body: c.body,
                }
                .validate();
            }
        }
        "group_sent" => {
            if let Some((id, sent_at, body)) =
                checks::decode_eq::<(MessageId, u64, MessageBody)>(v, MAX)
            {
                let _ = DirectMessage { id, sent_at, body }.validate();
            }
        }
        "group_failed" => {
            let _ = checks::decode_eq::<String>(v, MAX);
        }
        "mail_items" => {
            if let Some(mail) = checks::decode_eq::<StoredMail>(v, MAX) {
                let _ = Envelope::from_bytes(&mail.envelope.payload);
            }
        }
        other => panic!("no decoder for the stored values of {other}"),
    }
});

/// Our stored sender key seals a message that a chain made of its own share opens.
fn sender_key_opens(mut mine: MyKey) {
    let mut chain = ReceiverChain::from_share(&mine.key.share())
        .unwrap_or_else(|e| panic!("a sender key's own share makes no chain: {e}"));
    let ad = b"stored sender key";
    if let Ok(sealed) = mine.key.seal(&mut rng(), ad, b"hello group") {
        assert_eq!(chain.open(ad, &sealed).as_deref(), Ok(&b"hello group"[..]));
    }
}

/// The fixture group's first message, as sealed.
fn first_sealed() -> Option<GroupCiphertext> {
    let env = GroupEnvelope::from_payload(world().group.payloads.first()?).ok()?;
    decode(&env.sealed, MAX_GROUP_PAYLOAD_BYTES).ok()
}
