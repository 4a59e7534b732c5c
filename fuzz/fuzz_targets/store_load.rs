//! The store's state loader: raw entries (see `store_input`) written into a sled database on
//! disk, then `Store::open` on it (with its migration of the message index), and every read
//! the node makes at start, the API serves and the actor relies on, groups' included. A
//! corrupt entry must be an error, never a panic.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use paperplane::{
    feed, profile,
    store::{messages::Folder, Store},
};
use paperplane_fuzz::{
    fixtures::{rng, world, NOW},
    store_input::{self, Entry, TREES},
};
use paperplane_protocol::{GroupId, MessageId, PeerId, RecordId};

/// The group trees: their keys start with the group's id (16 bytes), except
/// `group_updates_seen` (peer ‖ id) and `group_sent`, `group_failed` (outbox keys).
const GROUP_TREES: &[&str] = &[
    "group_records",
    "group_chats",
    "group_my_keys",
    "group_chains",
    "group_messages",
    "group_index",
    "group_marks",
    "group_seen",
    "group_held",
    "group_held_changes",
    "group_rosters",
    "group_by_id",
];

fuzz_target!(|data: &[u8]| {
    let entries = store_input::parse(data);
    let dir = store_input::scratch_dir();
    let _ = std::fs::remove_dir_all(&dir);
    if store_input::plant(&dir, &entries).is_ok() {
        if let Ok(store) = Store::open(&dir) {
            load(&store, &entries);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
});

/// Up to 8 distinct values `f` finds in the keys of the trees named.
fn from_keys<T: Ord>(entries: &[Entry], trees: &[&str], f: impl Fn(&[u8]) -> Option<T>) -> Vec<T> {
    let found: BTreeSet<T> = entries
        .iter()
        .filter(|e| trees.contains(&TREES[e.tree]))
        .filter_map(|e| f(&e.key))
        .collect();
    found.into_iter().take(8).collect()
}

fn load(store: &Store, entries: &[Entry]) {
    let w = world();
    let me = w.bob.peer();
    // What the node reads as it starts.
    if let Ok(Some(mut prekeys)) = store.prekeys() {
        prekeys.rotate_if_due(&mut rng(), NOW);
        let _ = prekeys.messaging_keys(&w.bob.id, &w.bob.ik);
    }
    let _ = store.replay_cache();
    let waiting = store.outbox_peers().unwrap_or_default();
    let _ = (store.addresses(), store.profile(&me), store.following(&me));
    // What the API and the actor read.
    let _ = (
        feed::feed(store, &me, 20),
        feed::following(store, &me),
        feed::followers(store, &me),
    );
    let _ = (store.chats(Folder::Inbox), store.chats(Folder::Requests));
    let _ = (store.profiles(), store.blocked(), store.outbox_len());
    let _ = profile::resolve(store, &me, "@alice");
    // References as a user types them: the first keys, read as text.
    for e in entries.iter().take(4) {
        let text = String::from_utf8_lossy(&e.key);
        let _ = profile::resolve(store, &me, &text);
        let _ = (
            store.post_ids_with_prefix(&text),
            store.comment_ids_with_prefix(&text),
        );
    }
    for (peer, last) in &waiting {
        let _ = store.outbox_for(peer, None, last, 10);
        let _ = store.sealed_item_at(last);
    }
    let mut peers = vec![w.alice.peer(), me, w.carol.peer()];
    peers.extend(from_keys(entries, TREES, |k| {
        let at = |i: usize| k.get(i..i + 38).and_then(|b| PeerId::from_bytes(b).ok());
        at(0).or_else(|| at(k.len().saturating_sub(38)))
    }));
    for peer in &peers {
        let _ = (
            store.profile(peer),
            store.conversation(peer),
            store.chat(peer),
        );
        let _ = (store.messages(peer, None, 20), store.first_message(peer));
        let _ = (
            store.outbox_all(peer),
            store.following(peer),
            store.followers(peer),
        );
        let _ = (store.recent_posts(peer, 5), store.latest_seq(peer));
        let _ = store.posts_since(peer, 0, 5);
        let _ = (store.is_blocked(peer), store.key_changed_at(peer));
        let _ = (store.chat_meta(peer), store.receipts_to(peer));
        let _ = store.newest_received(peer);
        let _ = (store.follows(&me, peer), store.follow_records_of(peer));
    }
    let records = from_keys(
        entries,
        &["post_ids", "comment_index", "likes", "comments"],
        |k| k.get(..32)?.try_into().ok().map(RecordId),
    );
    for id in &records {
        if let Ok(Some(post)) = store.post(id) {
            let _ = feed::post_view(store, &post, &me);
        }
        let _ = (
            store.likes_of(id),
            store.comments_of(id),
            store.comment_deletes_of(id),
        );
        let _ = store.comment(id);
        let prefix = &id.to_hex()[..6];
        let _ = (
            store.post_ids_with_prefix(prefix),
            store.comment_ids_with_prefix(prefix),
        );
    }
    groups(store, entries, &peers);
    let messages = from_keys(entries, &["message_index"], |k| {
        k.get(..16)?.try_into().ok().map(MessageId)
    });
    for id in &messages {
        let _ = store.message(id);
        for peer in &peers {
            let _ = (
                store.has_message_with(peer, id),
                store.messages(peer, Some(id), 5),
            );
        }
    }
}

/// What the node reads of its groups: at start, for the API, and as the actor receives, on
/// the group ids, message ids, times and key ids found in the group trees' keys.
fn groups(store: &Store, entries: &[Entry], peers: &[PeerId]) {
    let w = world();
    let mut groups = vec![w.group.id];
    groups.extend(from_keys(entries, GROUP_TREES, |k| {
        k.get(..16)?.try_into().ok().map(GroupId)
    }));
    let _ = (store.groups(), store.group_ids());
    // Members: the peer after the group id in a key.
    let mut members = peers.to_vec();
    members.extend(from_keys(entries, GROUP_TREES, |k| {
        PeerId::from_bytes(k.get(16..54)?).ok()
    }));
    let peers = &members[..];
    // Message ids: the last 16 bytes of a message's or index entry's key, the target of a
    // held change, the fixture's.
    let mut ids = vec![w.group.messages[0].id];
    ids.extend(from_keys(entries, &["group_messages", "group_index", "group_updates_seen"], |k| {
        k.len()
            .checked_sub(16)
            .and_then(|at| k.get(at..))
            .and_then(|b| b.try_into().ok())
            .map(MessageId)
    }));
    ids.extend(from_keys(entries, &["group_held_changes"], |k| {
        k.get(16..32)?.try_into().ok().map(MessageId)
    }));
    let times = from_keys(entries, &["group_messages"], |k| {
        k.get(16..24)?.try_into().ok().map(u64::from_be_bytes)
    });
    let key_ids = from_keys(entries, &["group_chains", "group_held"], |k| {
        k.get(54..62)?.try_into().ok().map(u64::from_be_bytes)
    });
    for group in &groups {
        let _ = (store.group(group), store.group_chat(group));
        let _ = (store.my_group_key(group), store.group_chains(group));
        let _ = (store.group_messages(group, 20), store.group_seen(group));
        let _ = store.held_in(group);
        for id in &ids {
            let _ = (
                store.group_message_by_id(group, id),
                store.held_changes_for(group, id),
            );
            for peer in peers.iter().rev().take(4) {
                let _ = (
                    store.group_message(group, peer, id),
                    store.has_group_item(group, peer, id),
                );
            }
        }
        for peer in peers.iter().rev().take(4) {
            for key_id in key_ids.iter().chain([&w.group.key_id]) {
                let _ = (
                    store.group_chain(group, peer, *key_id),
                    store.held_for(group, peer, *key_id),
                );
            }
        }
    }
    for peer in peers.iter().rev().take(4) {
        for id in &ids {
            let _ = store.group_update_seen(peer, id);
            for at in &times {
                let _ = store.group_row_state(peer, *at, id);
            }
        }
    }
}
