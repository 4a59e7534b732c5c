//! `/paperplane/sync/1`: catch-up on an author's profile, posts and the reactions to them.
//! Any peer holding the records may answer; the signatures make that safe.

use serde::{Deserialize, Serialize};

use crate::{
    gossip::FeedMessage,
    records::{Post, Profile, Signed},
    PeerId,
};

/// Asks for an author's profile and the posts after a sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Whose records.
    pub author: PeerId,
    /// Send posts with a sequence number above this (0: from the start).
    pub since_seq: u64,
    /// Most posts wanted (capped by [`crate::limits::MAX_SYNC_POSTS`]).
    pub limit: u32,
}

/// The answer to a [`SyncRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SyncResponse {
    /// The newest profile of the author the responder has.
    pub profile: Option<Signed<Profile>>,
    /// Posts in ascending sequence order.
    pub posts: Vec<Signed<Post>>,
    /// Likes, comments and comment deletions of those posts, and follows of the author.
    pub reactions: Vec<FeedMessage>,
    /// True if the responder has more posts after the last one sent.
    pub more: bool,
}
