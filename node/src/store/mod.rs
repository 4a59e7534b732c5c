//! Durable state on sled: profiles, posts, likes, comments, follows and blobs.
//!
//! Keys are fixed-width so prefix scans work: a `PeerId` as its 38-byte encoding (every
//! accepted author has an ed25519 id), a sequence number as 8 big-endian bytes, a record id or
//! blob hash as 32 bytes. Values are protocol frames ([`paperplane_protocol::encode`]).
//!
//! Every "put" here decides acceptance in one place (newest profile version wins, likes and
//! follows are last-writer-wins by timestamp, a comment deleted by its author stays deleted)
//! and reports whether anything changed, so gossip validation and events follow from it.

pub mod business;
pub mod chat_photos;
pub mod chat_state;
pub mod groups;
mod keys;
pub mod mailbox;
pub mod messages;

use std::path::Path;

use paperplane_protocol::{
    decode, encode, limits::MAX_FRAME_BYTES, BlobHash, Comment, CommentDelete, Follow, Handle,
    Like, PeerId, Post, Profile, RecordId, Signed,
};
use serde::de::DeserializeOwned;

use keys::{peer_key, post_key, seq_of};

/// How long [`Store::open`] waits for a lock held by a store that is closing.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Errors of the store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process (a running daemon) holds the store.
    #[error("the store at {0} is in use by another paperplane process (is a daemon already running on this home?)")]
    Locked(String),
    /// The database failed.
    #[error("store failure: {0}")]
    Db(String),
    /// A stored value does not decode.
    #[error("corrupt store entry in {tree}: {reason}")]
    Corrupt {
        /// Which tree.
        tree: &'static str,
        /// Why it does not decode.
        reason: String,
    },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        Self::Db(e.to_string())
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// What happened to a post offered to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostInsert {
    /// Stored; it is new.
    New,
    /// The same post was already stored.
    Duplicate,
    /// A different post with the same author and sequence number is stored (equivocation).
    Conflict,
}

/// sled's page cache by default: 12 MiB. sled's own default (1 GiB) let a node grow by
/// hundreds of megabytes under a burst of messages. 16 MiB measured the same throughput with
/// 5–10 MiB more memory; 8 MiB cost about 10 % more CPU per message (README, "Memory").
pub const DEFAULT_CACHE_BYTES: u64 = 12 * 1024 * 1024;

/// The node's database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    profiles: sled::Tree,
    handles: sled::Tree,
    posts: sled::Tree,
    post_ids: sled::Tree,
    likes: sled::Tree,
    comments: sled::Tree,
    comment_index: sled::Tree,
    comment_deletes: sled::Tree,
    follows: sled::Tree,
    followers: sled::Tree,
    blobs: sled::Tree,
    conversations: sled::Tree,
    secrets: sled::Tree,
    chats: sled::Tree,
    messages: sled::Tree,
    message_index: sled::Tree,
    outbox: sled::Tree,
    blocked: sled::Tree,
    addresses: sled::Tree,
    key_changes: sled::Tree,
    /// Profiles of peers the user has nothing to do with, oldest first: arrival ‖ peer.
    other_profiles: sled::Tree,
    /// Where each of those peers stands in `other_profiles`: peer → arrival ‖ peer.
    other_profile_index: sled::Tree,
    /// Reactions, edits, unsends and receipts sent or received (see `chat_state`).
    controls: sled::Tree,
    /// Each changed message's reactions, edit and unsend.
    marks: sled::Tree,
    /// Changes waiting for their message.
    held_controls: sled::Tree,
    /// Per-chat receipts state and switches.
    chat_meta: sled::Tree,
    /// The user's global switches.
    settings: sled::Tree,
    /// Group chats (`groups.rs`).
    groups: groups::GroupTrees,
    /// Mail kept for others (`mailbox.rs`).
    mail: mailbox::MailTrees,
}

impl Store {
    /// Opens (or creates) the store at `path`. Fails with [`StoreError::Locked`] if another
    /// process has it open.
    ///
    /// A store closed a moment ago may still be locked while sled's background thread winds
    /// down, so a locked store is retried for up to [`LOCK_WAIT`] before giving up.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with sled's page cache bounded to `cache_bytes` (sled counts the
    /// bytes of the pages it holds; the process holds somewhat more for their bookkeeping).
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<Self> {
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(io))
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    if std::time::Instant::now() >= deadline {
                        return Err(StoreError::Locked(path.display().to_string()));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(other) => return Err(StoreError::Db(other.to_string())),
            }
        };
        let t = |name: &str| db.open_tree(name);
        let store = Self {
            profiles: t("profiles")?,
            handles: t("handles")?,
            posts: t("posts")?,
            post_ids: t("post_ids")?,
            likes: t("likes")?,
            comments: t("comments")?,
            comment_index: t("comment_index")?,
            comment_deletes: t("comment_deletes")?,
            follows: t("follows")?,
            followers: t("followers")?,
            blobs: t("blobs")?,
            conversations: t("conversations")?,
            secrets: t("secrets")?,
            chats: t("chats")?,
            messages: t("messages")?,
            message_index: t("message_index")?,
            outbox: t("outbox")?,
            blocked: t("blocked")?,
            addresses: t("addresses")?,
            key_changes: t("key_changes")?,
            other_profiles: t("other_profiles")?,
            other_profile_index: t("other_profile_index")?,
            controls: t("controls")?,
            marks: t("marks")?,
            held_controls: t("held_controls")?,
            chat_meta: t("chat_meta")?,
            settings: t("settings")?,
            groups: groups::GroupTrees::open(&db)?,
            mail: mailbox::MailTrees::open(&db)?,
            db,
        };
        store.migrate_message_index()?;
        Ok(store)
    }

    /// Writes everything to disk, blocking the calling thread (for code outside a runtime).
    pub fn flush_blocking(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// Writes everything to disk.
    ///
    /// Runs sled's synchronous flush on tokio's blocking pool: sled's own async flush uses a
    /// small shared thread pool that stalled with several stores in one process.
    pub async fn flush(&self) -> Result<()> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Db(format!("flush task failed: {e}")))??;
        Ok(())
    }

    // --- profiles ---

    /// Stores `profile` if its version is higher than the stored one; true if it was.
    pub fn put_profile_if_newer(&self, profile: &Signed<Profile>) -> Result<bool> {
        let key = peer_key(&profile.body.author);
        if let Some(old) = self.get::<Signed<Profile>>(&self.profiles, "profiles", &key)? {
            if old.body.version >= profile.body.version {
                return Ok(false);
            }
            self.handles
                .remove(handle_key(&old.body.handle, &old.body.author))?;
        }
        self.profiles.insert(key, encode(profile))?;
        self.handles
            .insert(handle_key(&profile.body.handle, &profile.body.author), &[])?;
        Ok(true)
    }

    /// Keeps the profile of `peer`, someone the user has nothing to do with, in a cache of at
    /// most `max` such profiles: the newest arrival goes last, and beyond `max` the oldest
    /// are removed (profile and handle), unless `relevant` says they have become someone the
    /// user knows (then they simply leave the cache). Returns the peers removed.
    pub fn cache_other_profile(
        &self,
        peer: &PeerId,
        max: usize,
        relevant: impl Fn(&PeerId) -> Result<bool>,
    ) -> Result<Vec<PeerId>> {
        let pk = peer_key(peer);
        if let Some(old) = self.other_profile_index.get(&pk)? {
            self.other_profiles.remove(old)?;
        }
        let slot = [&self.db.generate_id()?.to_be_bytes()[..], &pk].concat();
        self.other_profiles.insert(slot.as_slice(), &[])?;
        self.other_profile_index.insert(pk, slot)?;
        let mut removed = Vec::new();
        while self.other_profiles.len() > max {
            let Some((slot, _)) = self.other_profiles.pop_min()? else {
                break;
            };
            let Some(oldest) = slot.get(8..).and_then(|k| PeerId::from_bytes(k).ok()) else {
                continue;
            };
            self.other_profile_index.remove(peer_key(&oldest))?;
            if relevant(&oldest)? {
                continue;
            }
            if let Some(p) = self.profile(&oldest)? {
                self.handles.remove(handle_key(&p.body.handle, &oldest))?;
                self.profiles.remove(peer_key(&oldest))?;
            }
            removed.push(oldest);
        }
        Ok(removed)
    }

    /// Records that `peer`'s messaging identity key changed at `at` (Unix ms).
    pub fn note_key_change(&self, peer: &PeerId, at: u64) -> Result<()> {
        self.key_changes.insert(peer_key(peer), &at.to_be_bytes())?;
        Ok(())
    }

    /// When `peer`'s messaging identity key last changed, if it did since we first knew it.
    pub fn key_changed_at(&self, peer: &PeerId) -> Result<Option<u64>> {
        Ok(self
            .key_changes
            .get(peer_key(peer))?
            .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes)))
    }

    /// The newest stored profile of `peer`.
    pub fn profile(&self, peer: &PeerId) -> Result<Option<Signed<Profile>>> {
        self.get(&self.profiles, "profiles", &peer_key(peer))
    }

    /// Every known peer whose newest profile has `handle`.
    pub fn peers_with_handle(&self, handle: &Handle) -> Result<Vec<PeerId>> {
        let mut prefix = handle.as_str().as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for item in self.handles.scan_prefix(&prefix) {
            let (k, _) = item?;
            if let Ok(peer) = PeerId::from_bytes(&k[prefix.len()..]) {
                out.push(peer);
            }
        }
        Ok(out)
    }

    /// Every stored profile.
    pub fn profiles(&self) -> Result<Vec<Signed<Profile>>> {
        self.values(&self.profiles, "profiles", &[])
    }

    // --- posts ---

    /// Stores a post (already verified).
    pub fn insert_post(&self, post: &Signed<Post>) -> Result<PostInsert> {
        let key = post_key(&post.body.author, post.body.seq);
        let id = post.id();
        if let Some(old) = self.get::<Signed<Post>>(&self.posts, "posts", &key)? {
            return Ok(if old.id() == id {
                PostInsert::Duplicate
            } else {
                PostInsert::Conflict
            });
        }
        self.posts.insert(&key, encode(post))?;
        self.post_ids.insert(id.0, key)?;
        Ok(PostInsert::New)
    }

    /// The post with this id.
    pub fn post(&self, id: &RecordId) -> Result<Option<Signed<Post>>> {
        match self.post_ids.get(id.0)? {
            Some(key) => self.get(&self.posts, "posts", &key),
            None => Ok(None),
        }
    }

    /// Ids of stored posts whose hex form starts with `prefix` (at most 10).
    pub fn post_ids_with_prefix(&self, prefix: &str) -> Result<Vec<RecordId>> {
        ids_with_prefix(&self.post_ids, prefix)
    }

    /// Highest stored sequence number of `author`'s posts (0 if none).
    pub fn latest_seq(&self, author: &PeerId) -> Result<u64> {
        let prefix = peer_key(author);
        Ok(match self.posts.scan_prefix(prefix).next_back() {
            Some(item) => seq_of(&item?.0),
            None => 0,
        })
    }

    /// Posts of `author` with a sequence number above `since`, ascending, at most `limit`;
    /// and whether more follow.
    pub fn posts_since(
        &self,
        author: &PeerId,
        since: u64,
        limit: usize,
    ) -> Result<(Vec<Signed<Post>>, bool)> {
        let start = post_key(author, since.saturating_add(1));
        let end = post_key(author, u64::MAX);
        let mut out = Vec::new();
        for item in self.posts.range(start..=end) {
            let (_, v) = item?;
            if out.len() == limit {
                return Ok((out, true));
            }
            out.push(decode_value("posts", &v)?);
        }
        Ok((out, false))
    }

    /// The newest `limit` posts of each of `authors`.
    pub fn recent_posts(&self, author: &PeerId, limit: usize) -> Result<Vec<Signed<Post>>> {
        self.posts
            .scan_prefix(peer_key(author))
            .rev()
            .take(limit)
            .map(|item| decode_value("posts", &item?.1))
            .collect()
    }

    // --- likes ---

    /// Stores a like/unlike if it is newer than the liker's stored one for that post.
    pub fn put_like_if_newer(&self, like: &Signed<Like>) -> Result<bool> {
        let key = [&like.body.post.0[..], &peer_key(&like.body.author)].concat();
        if let Some(old) = self.get::<Signed<Like>>(&self.likes, "likes", &key)? {
            if (old.body.at, old.body.liked) >= (like.body.at, like.body.liked) {
                return Ok(false);
            }
        }
        self.likes.insert(key, encode(like))?;
        Ok(true)
    }

    /// The newest like record of every liker of `post` (some may be unlikes).
    pub fn likes_of(&self, post: &RecordId) -> Result<Vec<Signed<Like>>> {
        self.values(&self.likes, "likes", &post.0)
    }

    /// The newest like record of `liker` for `post`.
    pub fn like_of(&self, post: &RecordId, liker: &PeerId) -> Result<Option<Signed<Like>>> {
        let key = [&post.0[..], &peer_key(liker)].concat();
        self.get(&self.likes, "likes", &key)
    }

    // --- comments ---

    /// Stores a comment unless it is known, or was deleted by its author; true if stored.
    pub fn insert_comment(&self, comment: &Signed<Comment>) -> Result<bool> {
        let id = comment.id();
        if self.comment_index.contains_key(id.0)? {
            return Ok(false);
        }
        if let Some(del) = self.get::<Signed<CommentDelete>>(
            &self.comment_deletes,
            "comment_deletes",
            &[&comment.body.post.0[..], &id.0].concat(),
        )? {
            if del.body.author == comment.body.author {
                return Ok(false);
            }
        }
        let key = comment_key(&comment.body.post, comment.body.created_at, &id);
        self.comments.insert(&key, encode(comment))?;
        self.comment_index.insert(id.0, key)?;
        Ok(true)
    }

    /// Applies a deletion; true if a stored comment was removed. A deletion that arrives
    /// before its comment is kept, so the comment never appears.
    pub fn delete_comment(&self, del: &Signed<CommentDelete>) -> Result<bool> {
        let id = del.body.comment;
        let existing = self.comment(&id)?;
        if let Some(c) = &existing {
            if c.body.author != del.body.author {
                return Ok(false);
            }
        }
        self.comment_deletes
            .insert([&del.body.post.0[..], &id.0].concat(), encode(del))?;
        if let Some(key) = self.comment_index.remove(id.0)? {
            self.comments.remove(key)?;
        }
        Ok(existing.is_some())
    }

    /// The comment with this id, if stored and not deleted.
    pub fn comment(&self, id: &RecordId) -> Result<Option<Signed<Comment>>> {
        match self.comment_index.get(id.0)? {
            Some(key) => self.get(&self.comments, "comments", &key),
            None => Ok(None),
        }
    }

    /// Ids of stored comments whose hex form starts with `prefix` (at most 10).
    pub fn comment_ids_with_prefix(&self, prefix: &str) -> Result<Vec<RecordId>> {
        ids_with_prefix(&self.comment_index, prefix)
    }

    /// Comments of `post`, oldest first.
    pub fn comments_of(&self, post: &RecordId) -> Result<Vec<Signed<Comment>>> {
        self.values(&self.comments, "comments", &post.0)
    }

    /// Deletions recorded for comments of `post` (for sync).
    pub fn comment_deletes_of(&self, post: &RecordId) -> Result<Vec<Signed<CommentDelete>>> {
        self.values(&self.comment_deletes, "comment_deletes", &post.0)
    }

    // --- follows ---

    /// Stores a follow/unfollow if newer than the stored one for that pair; true if stored.
    pub fn put_follow_if_newer(&self, follow: &Signed<Follow>) -> Result<bool> {
        let key = [
            peer_key(&follow.body.author),
            peer_key(&follow.body.followee),
        ]
        .concat();
        if let Some(old) = self.get::<Signed<Follow>>(&self.follows, "follows", &key)? {
            if (old.body.at, old.body.following) >= (follow.body.at, follow.body.following) {
                return Ok(false);
            }
        }
        self.follows.insert(&key, encode(follow))?;
        let rev = [
            peer_key(&follow.body.followee),
            peer_key(&follow.body.author),
        ]
        .concat();
        self.followers.insert(rev, key)?;
        Ok(true)
    }

    /// Whom `follower` follows (newest record says following).
    pub fn following(&self, follower: &PeerId) -> Result<Vec<Signed<Follow>>> {
        let all: Vec<Signed<Follow>> =
            self.values(&self.follows, "follows", &peer_key(follower))?;
        Ok(all.into_iter().filter(|f| f.body.following).collect())
    }

    /// Whether `follower` follows `followee`.
    pub fn follows(&self, follower: &PeerId, followee: &PeerId) -> Result<bool> {
        Ok(self
            .follow_record(follower, followee)?
            .is_some_and(|f| f.body.following))
    }

    /// The newest follow or unfollow record of `follower` for `followee`.
    pub fn follow_record(
        &self,
        follower: &PeerId,
        followee: &PeerId,
    ) -> Result<Option<Signed<Follow>>> {
        let key = [peer_key(follower), peer_key(followee)].concat();
        self.get::<Signed<Follow>>(&self.follows, "follows", &key)
    }

    /// Every follow record aimed at `followee` (including unfollows, for sync).
    pub fn follow_records_of(&self, followee: &PeerId) -> Result<Vec<Signed<Follow>>> {
        let mut out = Vec::new();
        for item in self.followers.scan_prefix(peer_key(followee)) {
            let (_, key) = item?;
            if let Some(f) = self.get(&self.follows, "follows", &key)? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Who follows `followee` now.
    pub fn followers(&self, followee: &PeerId) -> Result<Vec<Signed<Follow>>> {
        Ok(self
            .follow_records_of(followee)?
            .into_iter()
            .filter(|f| f.body.following)
            .collect())
    }

    // --- blobs ---

    /// Stores bytes under their hash (the caller has checked them against it).
    pub fn put_blob(&self, bytes: &[u8]) -> Result<BlobHash> {
        let hash = BlobHash::of(bytes);
        self.blobs.insert(hash.0, bytes)?;
        Ok(hash)
    }

    /// The bytes of a blob.
    pub fn blob(&self, hash: &BlobHash) -> Result<Option<Vec<u8>>> {
        Ok(self.blobs.get(hash.0)?.map(|v| v.to_vec()))
    }

    /// Up to `max` bytes of a blob from `offset`, with the blob's whole length; `None` if the
    /// blob is not stored. An offset at or past the end gives no bytes.
    pub fn blob_chunk(
        &self,
        hash: &BlobHash,
        offset: u64,
        max: usize,
    ) -> Result<Option<(Vec<u8>, u64)>> {
        Ok(self.blobs.get(hash.0)?.map(|v| {
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(v.len());
            let end = start.saturating_add(max).min(v.len());
            (v[start..end].to_vec(), v.len() as u64)
        }))
    }

    /// Whether a blob is stored.
    pub fn has_blob(&self, hash: &BlobHash) -> Result<bool> {
        Ok(self.blobs.contains_key(hash.0)?)
    }

    // --- peer addresses ---

    /// Remembers where `peer` listens (at most 8 addresses), so the node can dial it again
    /// after a restart.
    pub fn put_addresses(&self, peer: &PeerId, addrs: &[String]) -> Result<()> {
        let addrs: Vec<&String> = addrs.iter().take(8).collect();
        self.addresses.insert(peer_key(peer), encode(&addrs))?;
        Ok(())
    }

    /// Every remembered peer with its addresses.
    pub fn addresses(&self) -> Result<Vec<(PeerId, Vec<String>)>> {
        let mut out = Vec::new();
        for item in self.addresses.iter() {
            let (k, v) = item?;
            if let Ok(peer) = PeerId::from_bytes(&k) {
                out.push((peer, decode_value("addresses", &v)?));
            }
        }
        Ok(out)
    }

    // --- helpers ---

    fn get<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        key: &[u8],
    ) -> Result<Option<T>> {
        tree.get(key)?.map(|v| decode_value(name, &v)).transpose()
    }

    fn values<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        prefix: &[u8],
    ) -> Result<Vec<T>> {
        tree.scan_prefix(prefix)
            .map(|item| decode_value(name, &item?.1))
            .collect()
    }
}

fn decode_value<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T> {
    decode(bytes, MAX_FRAME_BYTES).map_err(|e| StoreError::Corrupt {
        tree,
        reason: e.to_string(),
    })
}

/// Keys of `tree` (32-byte record ids) whose hex form starts with `prefix` (hex digits), at
/// most 10: a scan by the whole bytes the prefix fixes, filtered on an odd trailing digit.
/// A prefix with anything but hex digits matches nothing.
fn ids_with_prefix(tree: &sled::Tree, prefix: &str) -> Result<Vec<RecordId>> {
    if !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    let even = &prefix[..prefix.len() - prefix.len() % 2];
    let bytes = hex::decode(even).unwrap_or_default();
    let mut out = Vec::new();
    for item in tree.scan_prefix(&bytes) {
        let (k, _) = item?;
        if let Ok(arr) = <[u8; 32]>::try_from(&k[..]) {
            let id = RecordId(arr);
            if id.to_hex().starts_with(prefix) {
                out.push(id);
                if out.len() == 10 {
                    break;
                }
            }
        }
    }
    Ok(out)
}

fn handle_key(handle: &Handle, peer: &PeerId) -> Vec<u8> {
    let mut k = handle.as_str().as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&peer.to_bytes());
    k
}

fn comment_key(post: &RecordId, created_at: u64, id: &RecordId) -> Vec<u8> {
    [&post.0[..], &created_at.to_be_bytes(), &id.0].concat()
}

#[cfg(test)]
mod tests;
