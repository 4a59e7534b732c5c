//! The input of the `store_load` target: raw entries of the store's trees, written into a
//! sled database on disk that `Store::open` then opens, as a restarted node would.
//!
//! Format, repeated to the end of the input: a tree number (an index into [`TREES`], modulo
//! its length), the key's length (one byte), the key, the value's length (two bytes,
//! little-endian), the value. A truncated entry ends the input.

use std::path::{Path, PathBuf};

/// The trees of the store, in the order tree numbers refer to them. `seeds` fails on a
/// store holding a tree missing here, so a new tree cannot go unfuzzed unnoticed.
pub const TREES: &[&str] = &[
    "profiles",
    "handles",
    "posts",
    "post_ids",
    "likes",
    "comments",
    "comment_index",
    "comment_deletes",
    "follows",
    "followers",
    "blobs",
    "conversations",
    "secrets",
    "chats",
    "messages",
    "message_index",
    "outbox",
    "blocked",
    "addresses",
    "key_changes",
    "other_profiles",
    "other_profile_index",
    "controls",
    "marks",
    "held_controls",
    "chat_meta",
    "settings",
    "quick_replies",
    "away",
    "away_sent",
    "chat_labels",
    "muted",
    "chat_photos",
    "chat_photo_bytes",
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
    "group_sent",
    "group_failed",
    "group_updates_seen",
    "group_rosters",
    "group_outgoing",
    "group_by_id",
    "mail_clients",
    "mail_items",
    "mail_dedup",
    "mail_usage",
    "mail_seqs",
    "mail_expiry",
];

/// One raw entry of a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Index into [`TREES`].
    pub tree: usize,
    /// The key's bytes.
    pub key: Vec<u8>,
    /// The value's bytes.
    pub value: Vec<u8>,
}

/// The entries an input describes.
pub fn parse(mut data: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    while let Some((&tree, rest)) = data.split_first() {
        let Some((&key_len, rest)) = rest.split_first() else {
            break;
        };
        let Some((key, rest)) = rest.split_at_checked(usize::from(key_len)) else {
            break;
        };
        let Some((len, rest)) = rest.split_at_checked(2) else {
            break;
        };
        let value_len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let Some((value, rest)) = rest.split_at_checked(value_len) else {
            break;
        };
        out.push(Entry {
            tree: usize::from(tree) % TREES.len(),
            key: key.to_vec(),
            value: value.to_vec(),
        });
        data = rest;
    }
    out
}

/// The input describing `entries`; `None` if a key or value is too long for the format.
pub fn write(entries: &[Entry]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        out.push(u8::try_from(e.tree).ok()?);
        out.push(u8::try_from(e.key.len()).ok()?);
        out.extend_from_slice(&e.key);
        out.extend_from_slice(&u16::try_from(e.value.len()).ok()?.to_le_bytes());
        out.extend_from_slice(&e.value);
    }
    Some(out)
}

/// Writes `entries` into a new sled database at `path` and closes it.
pub fn plant(path: &Path, entries: &[Entry]) -> sled::Result<()> {
    let db = sled::Config::new().path(path).flush_every_ms(None).open()?;
    for e in entries {
        db.open_tree(TREES[e.tree])?
            .insert(e.key.as_slice(), e.value.as_slice())?;
    }
    db.flush()?;
    Ok(())
}

/// Every entry of the database at `path`, tree by tree; an error names a tree that
/// [`TREES`] lacks.
pub fn dump(path: &Path) -> Result<Vec<Entry>, String> {
    let db = sled::Config::new()
        .path(path)
        .open()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for name in db.tree_names() {
        if name.as_ref() == b"__sled__default" {
            continue;
        }
        let tree = TREES
            .iter()
            .position(|t| t.as_bytes() == name.as_ref())
            .ok_or_else(|| {
                format!(
                    "the store has a tree {:?} that the fuzz input format lacks: add it to TREES",
                    String::from_utf8_lossy(&name)
                )
            })?;
        for item in db.open_tree(&name).map_err(|e| e.to_string())?.iter() {
            let (k, v) = item.map_err(|e| e.to_string())?;
            out.push(Entry {
                tree,
                key: k.to_vec(),
                value: v.to_vec(),
            });
        }
    }
    Ok(out)
}

/// A directory for the target's databases: in memory (`/dev/shm`) where there is one.
pub fn scratch_dir() -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("paperplane-fuzz-store-{}", std::process::id()))
}
