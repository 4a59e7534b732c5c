//! The signed public records: profile, post, like, comment (and its deletion), follow.
//!
//! A record travels as [`Signed<T>`]: the body and its author's ed25519 signature over the
//! record's canonical signing bytes ([`Signed::signing_bytes`]), which start with a
//! domain-separation label per record kind, so a signature over one kind can never be
//! replayed as another. This crate only builds those bytes and validates the fields;
//! `paperplane-crypto` signs and verifies.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{
    blob::ImageKind,
    encoding::encode_body,
    error::ValidationError,
    handle::Handle,
    ids::{BlobHash, RecordId},
    limits::*,
    PeerId,
};

/// What every signed record kind provides.
pub trait Record: Serialize + DeserializeOwned + Clone {
    /// The domain-separation label for this kind's signatures.
    const LABEL: &'static str;
    /// The peer whose key must have signed the record.
    fn author(&self) -> &PeerId;
    /// Checks lengths, counts and timestamps (`now_ms`: the validator's clock, Unix ms).
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError>;
}

/// A record with its author's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed<T> {
    /// The record.
    pub body: T,
    /// 64-byte ed25519 signature over [`Signed::signing_bytes`] of `body`.
    pub signature: Vec<u8>,
}

const SIGNING_PREFIX: &[u8] = b"paperplane/record-signature/v1\0";

impl<T: Record> Signed<T> {
    /// The canonical bytes a signature over `body` covers: a fixed prefix, the kind's label,
    /// a NUL, then the body's encoding.
    pub fn signing_bytes(body: &T) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(SIGNING_PREFIX);
        out.extend_from_slice(T::LABEL.as_bytes());
        out.push(0);
        out.extend_from_slice(&encode_body(body));
        out
    }

    /// The record's id: SHA-256 of its signing bytes.
    pub fn id(&self) -> RecordId {
        RecordId::of(&Self::signing_bytes(&self.body))
    }

    /// The author of the record.
    pub fn author(&self) -> &PeerId {
        self.body.author()
    }
}

fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), ValidationError> {
    let len = s.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    Ok(())
}

pub(crate) fn check_time(at: u64, now: u64) -> Result<(), ValidationError> {
    if at > now.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(ValidationError::FromTheFuture { at, now });
    }
    Ok(())
}

/// A business account's public details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessInfo {
    /// What kind of business, e.g. "Bakery".
    pub category: String,
    /// Frequently asked questions, shown to someone opening a first chat (at most
    /// [`MAX_FAQ_ENTRIES`]; see [`crate::faq`] for how they are encoded).
    #[serde(default)]
    pub faq: Vec<crate::faq::FaqEntry>,
}

/// An X25519 prekey signed by the identity key, with an id and an expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedPrekey {
    /// Identifies the prekey in a session handshake.
    pub id: u32,
    /// The X25519 public key.
    pub public: [u8; 32],
    /// Unix ms after which the prekey must not be used to start a session.
    pub expires_at: u64,
    /// ed25519 signature by the identity key over the prekey (see `paperplane-crypto`).
    pub signature: Vec<u8>,
}

/// The key material others need to open an end-to-end encrypted session with the author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagingKeys {
    /// Long-term X25519 identity key.
    pub identity_key: [u8; 32],
    /// ed25519 signature by the identity (signing) key certifying `identity_key`.
    pub identity_key_signature: Vec<u8>,
    /// The current signed prekey first, then up to two previous ones.
    pub prekeys: Vec<SignedPrekey>,
    /// The nodes that keep mail for the author while it is offline (at most
    /// [`crate::mailbox::MAX_MAILBOXES`]). Encoded with the keys by
    /// `Profile::messaging`'s layout (see [`crate::mailbox`]), not by this derive, so the
    /// keys alone keep their first encoding.
    #[serde(skip)]
    pub mailboxes: Vec<PeerId>,
}

/// A user's public profile. The newest `version` wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The user.
    pub author: PeerId,
    /// Increases with every change; a node keeps only the highest version it has seen.
    pub version: u64,
    /// When this version was made (Unix ms).
    pub updated_at: u64,
    /// The user's handle.
    pub handle: Handle,
    /// Free-form display name.
    pub display_name: String,
    /// Short biography.
    pub bio: String,
    /// Profile photo, fetched over `/paperplane/blob/1`.
    pub avatar: Option<PhotoRef>,
    /// Set for business accounts.
    #[serde(with = "crate::faq::business_layout")]
    pub business: Option<BusinessInfo>,
    /// Keys for end-to-end encrypted messaging, once the node publishes them, with the
    /// author's mailboxes.
    #[serde(with = "crate::mailbox::messaging_layout")]
    pub messaging: Option<MessagingKeys>,
}

impl Record for Profile {
    const LABEL: &'static str = "paperplane/profile/1";
    fn author(&self) -> &PeerId {
        &self.author
    }
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        check_time(self.updated_at, now_ms)?;
        check_len("display name", &self.display_name, MAX_DISPLAY_NAME_CHARS)?;
        check_len("bio", &self.bio, MAX_BIO_CHARS)?;
        if let Some(avatar) = &self.avatar {
            avatar.validate()?;
        }
        if let Some(b) = &self.business {
            check_len("business category", &b.category, MAX_CATEGORY_CHARS)?;
            if b.category.trim().is_empty() {
                return Err(ValidationError::Inconsistent("business category is empty"));
            }
            crate::faq::validate(&b.faq)?;
        }
        if let Some(keys) = &self.messaging {
            let count = keys.prekeys.len();
            if !(1..=MAX_PREKEYS).contains(&count) {
                return Err(ValidationError::Count {
                    field: "prekeys",
                    count,
                    min: 1,
                    max: MAX_PREKEYS,
                });
            }
            crate::mailbox::validate_mailboxes(&self.author, &keys.mailboxes)?;
        }
        Ok(())
    }
}

/// A photo referenced by a post or profile: its hash, size and format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// SHA-256 of the bytes.
    pub hash: BlobHash,
    /// Size in bytes.
    pub size: u64,
    /// Image format, sniffed from the bytes.
    pub kind: ImageKind,
}

impl PhotoRef {
    /// Builds the reference for `bytes`, rejecting non-images and oversized files.
    pub fn for_bytes(bytes: &[u8]) -> Result<Self, ValidationError> {
        let size = bytes.len() as u64;
        if size > MAX_PHOTO_BYTES {
            return Err(ValidationError::PhotoTooLarge {
                size,
                max: MAX_PHOTO_BYTES,
            });
        }
        let kind = ImageKind::sniff(bytes).ok_or(ValidationError::NotAnImage)?;
        Ok(Self {
            hash: BlobHash::of(bytes),
            size,
            kind,
        })
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if self.size == 0 || self.size > MAX_PHOTO_BYTES {
            return Err(ValidationError::PhotoTooLarge {
                size: self.size,
                max: MAX_PHOTO_BYTES,
            });
        }
        Ok(())
    }
}

/// A photo post. Its id is the [`RecordId`] of the signed post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// The author.
    pub author: PeerId,
    /// Per-author sequence number, starting at 1, increasing by one per post.
    pub seq: u64,
    /// When it was posted (Unix ms).
    pub created_at: u64,
    /// The caption.
    pub caption: String,
    /// 1–10 photos.
    pub photos: Vec<PhotoRef>,
}

impl Record for Post {
    const LABEL: &'static str = "paperplane/post/1";
    fn author(&self) -> &PeerId {
        &self.author
    }
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        check_time(self.created_at, now_ms)?;
        check_len("caption", &self.caption, MAX_CAPTION_CHARS)?;
        let count = self.photos.len();
        if !(1..=MAX_PHOTOS_PER_POST).contains(&count) {
            return Err(ValidationError::Count {
                field: "photos",
                count,
                min: 1,
                max: MAX_PHOTOS_PER_POST,
            });
        }
        if self.seq == 0 {
            return Err(ValidationError::Inconsistent("post sequence starts at 1"));
        }
        for (i, p) in self.photos.iter().enumerate() {
            if self.photos[..i].iter().any(|q| q.hash == p.hash) {
                return Err(ValidationError::Inconsistent(
                    "the same photo appears twice",
                ));
            }
        }
        self.photos.iter().try_for_each(PhotoRef::validate)
    }
}

/// A like (or, with `liked: false`, an unlike) of a post. Per (liker, post) the record with
/// the highest `at` wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Like {
    /// Who likes.
    pub author: PeerId,
    /// The post.
    pub post: RecordId,
    /// The post's author, whose feed topic carries the like.
    pub post_author: PeerId,
    /// True for a like, false for taking it back.
    pub liked: bool,
    /// When (Unix ms); orders likes and unlikes of one post by one user.
    pub at: u64,
}

impl Record for Like {
    const LABEL: &'static str = "paperplane/like/1";
    fn author(&self) -> &PeerId {
        &self.author
    }
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        check_time(self.at, now_ms)
    }
}

/// A comment on a post. Its id is the [`RecordId`] of the signed comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Who comments.
    pub author: PeerId,
    /// The post.
    pub post: RecordId,
    /// The post's author, whose feed topic carries the comment.
    pub post_author: PeerId,
    /// When (Unix ms).
    pub created_at: u64,
    /// The comment text.
    pub text: String,
}

impl Record for Comment {
    const LABEL: &'static str = "paperplane/comment/1";
    fn author(&self) -> &PeerId {
        &self.author
    }
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        check_time(self.created_at, now_ms)?;
        check_len("comment", &self.text, MAX_COMMENT_CHARS)?;
        if self.text.trim().is_empty() {
            return Err(ValidationError::Inconsistent("comment is empty"));
        }
        Ok(())
    }
}

/// The deletion of a comment by its author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentDelete {
    /// The comment's author (only they may delete it).
    pub author: PeerId,
    /// The comment.
    pub comment: RecordId,
    /// The post it is on.
    pub post: RecordId,
    /// The post's author, whose feed topic carries the deletion.
    pub post_author: PeerId,
    /// When (Unix ms).
    pub at: u64,
}

impl Record for CommentDelete {
    const LABEL: &'static str = "paperplane/comment-delete/1";
    fn author(&self) -> &PeerId {
        &self.author
    }
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        check_time(self.at, now_ms)
    }
}

/// A follow (or, with `following: false`, an unfollow). Per (follower, followee) the record
/// with the highest `at` wins. Published on the followee's feed topic so it reaches them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    /// The follower.
    pub author: PeerId,
    /// Who is followed.
    pub followee: PeerId,
    /// True to follow, false to unfollow.
    pub following: bool,
    /// When (Unix ms).
    pub at: u64,
}

impl Record for Follow {
    const LABEL: &'static str = "paperplane/follow/1";
    fn author(&self) -> &PeerId {
        &self.author
    }
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        check_time(self.at, now_ms)?;
        if self.author == self.followee {
            return Err(ValidationError::Inconsistent("one cannot follow oneself"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> PeerId {
        libp2p_identity::Keypair::ed25519_from_bytes([7u8; 32])
            .expect("valid seed")
            .public()
            .to_peer_id()
    }

    #[test]
    fn labels_separate_domains() {
        let a = peer();
        let like = Like {
            author: a,
            post: RecordId([1; 32]),
            post_author: a,
            liked: true,
            at: 5,
        };
        let bytes = Signed::<Like>::signing_bytes(&like);
        assert!(bytes.starts_with(SIGNING_PREFIX));
        assert!(bytes[SIGNING_PREFIX.len()..].starts_with(b"paperplane/like/1\0"));
    }

    #[test]
    fn post_validation() {
        let photo = PhotoRef {
            hash: BlobHash([0; 32]),
            size: 10,
            kind: ImageKind::Png,
        };
        let mut post = Post {
            author: peer(),
            seq: 1,
            created_at: 1_000,
            caption: "sunset 🌅".into(),
            photos: vec![photo],
        };
        assert_eq!(post.validate(1_000), Ok(()));
        post.caption = "x".repeat(MAX_CAPTION_CHARS + 1);
        assert!(matches!(
            post.validate(1_000),
            Err(ValidationError::TooLong { .. })
        ));
        post.caption.clear();
        post.photos = vec![photo; 2];
        assert!(matches!(
            post.validate(1_000),
            Err(ValidationError::Inconsistent(_))
        ));
        post.photos = (0..11u8)
            .map(|i| PhotoRef {
                hash: BlobHash([i; 32]),
                ..photo
            })
            .collect();
        assert!(matches!(
            post.validate(1_000),
            Err(ValidationError::Count { .. })
        ));
        post.photos = vec![];
        assert!(matches!(
            post.validate(1_000),
            Err(ValidationError::Count { .. })
        ));
        post.photos = vec![photo];
        post.created_at = 1_000 + MAX_CLOCK_SKEW_MS + 1;
        assert!(matches!(
            post.validate(1_000),
            Err(ValidationError::FromTheFuture { .. })
        ));
    }

    #[test]
    fn photo_ref_sniffs_and_limits() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        assert_eq!(
            PhotoRef::for_bytes(&png).map(|p| p.kind),
            Ok(ImageKind::Png)
        );
        assert_eq!(
            PhotoRef::for_bytes(b"hello"),
            Err(ValidationError::NotAnImage)
        );
        let big = vec![0u8; MAX_PHOTO_BYTES as usize + 1];
        assert!(matches!(
            PhotoRef::for_bytes(&big),
            Err(ValidationError::PhotoTooLarge { .. })
        ));
    }
}
