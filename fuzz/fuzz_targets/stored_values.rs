//! Every other value the store reads back: records (profiles, posts, likes, comments, comment
//! deletions, follows), peer addresses, messages, chats and outbox rows. The first byte
//! chooses the tree; the rest is its value, decoded as the store decodes it, round-tripped,
//! and used: records verified, an outbox row's envelope decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane::store::messages::{Chat, OutboxEntry, StoredMessage};
use paperplane_crypto::Envelope;
use paperplane_fuzz::{checks, seeds::STORED_VALUE_TREES};
use paperplane_protocol::{
    limits::MAX_FRAME_BYTES as MAX, Comment, CommentDelete, Follow, Like, Post, Profile, Signed,
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
        other => panic!("no decoder for the stored values of {other}"),
    }
});
