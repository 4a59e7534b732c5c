//! Every type that crosses paperplane's wire or is signed, with its encoding and validation.
//!
//! Pure: no I/O, no clock (callers pass `now` in), no randomness.
//!
//! Layout:
//! - [`encoding`]: the versioned, size-limited bincode 2 encoding every frame uses.
//! - [`ids`]: content hashes and identifiers ([`BlobHash`], [`RecordId`]).
//! - [`handle`]: Instagram-style user handles.
//! - [`records`]: the signed public records (profile, post, like, comment, follow) and
//!   [`Signed`], which carries a record with its author's signature.
//! - [`gossip`]: what is published on the gossipsub topics, and the topic names.
//! - [`sync`]: the `/paperplane/sync/1` catch-up request and response.
//! - [`dm`]: direct-message plaintext and the `/paperplane/dm/1` request and response.
//! - [`faq`]: a business's frequently asked questions and the profile layouts carrying them.
//! - [`emoji`]: emoji as graphemes, shortcodes, emoji-only messages.
//! - [`blob`]: the `/paperplane/blob/1` chunked media transfer and image sniffing.
//! - [`group`]: group rosters, keys and envelopes.
//! - [`addresses`]: the signed, expiring address record a node publishes in the DHT.
//! - [`mailbox`]: the `/paperplane/mailbox/1` store-and-forward request and response, and
//!   the profile layout naming a user's mailboxes.
//! - [`limits`]: every size and count bound in one place.
//! - [`error`]: typed decoding and validation errors.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod addresses;
pub mod blob;
pub mod dm;
pub mod emoji;
pub mod encoding;
pub mod error;
pub mod faq;
pub mod gossip;
pub mod group;
pub mod handle;
pub mod ids;
pub mod limits;
pub mod mailbox;
pub mod records;
pub mod sync;

pub use blob::{BlobRequest, BlobResponse, ImageKind};
pub use dm::{
    ChatPhoto, DirectMessage, DmRejection, DmRequest, DmResponse, DmResult, MessageBody, MessageId,
    Quote, SealedEnvelope,
};
pub use encoding::{decode, encode};
pub use error::{DecodeError, ValidationError};
pub use faq::FaqEntry;
pub use gossip::{FeedMessage, Topic};
pub use group::{
    Epoch, GroupEnvelope, GroupId, GroupKey, GroupUpdate, Member, Roster, RosterChange,
};
pub use handle::Handle;
pub use ids::{BlobHash, RecordId};
pub use libp2p_identity::PeerId;
pub use records::{
    BusinessInfo, Comment, CommentDelete, Follow, Like, MessagingKeys, PhotoRef, Post, Profile,
    Record, Signed, SignedPrekey,
};
pub use sync::{SyncRequest, SyncResponse};

/// A peer id no other test peer has, for tests of this crate.
#[cfg(test)]
pub(crate) fn fresh_test_peer() -> PeerId {
    use std::sync::atomic::{AtomicU8, Ordering};
    static NEXT: AtomicU8 = AtomicU8::new(1);
    let seed = [NEXT.fetch_add(1, Ordering::Relaxed); 32];
    libp2p_identity::Keypair::ed25519_from_bytes(seed)
        .expect("valid seed")
        .public()
        .to_peer_id()
}
