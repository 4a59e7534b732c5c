//! Photos sent in chats, the pure part: how a received photo is checked
//! ([`reveal`]: decrypt, then compare with what the message says) and how a photo shows in
//! a message ([`ChatPhotoView`]).
//!
//! The flow: the sender seals the photo under a fresh key
//! ([`paperplane_crypto::seal_attachment`]), keeps the sealed bytes as a public blob and
//! sends [`MessageBody::Photo`](paperplane_protocol::MessageBody::Photo), which carries the
//! key, end to end encrypted. Once the message is stored, the recipient fetches the sealed
//! blob from the sender over `/paperplane/blob/1` (which checks the bytes against the blob's
//! hash), reveals it here, and keeps only the decrypted photo, apart from the public blobs.

use paperplane_crypto::{open_attachment, AttachmentKey, ATTACHMENT_OVERHEAD};
use paperplane_protocol::{
    limits::MAX_PHOTO_BYTES, BlobHash, ChatPhoto, ImageKind, MessageBody, PhotoRef,
};
use serde::{Deserialize, Serialize};

use crate::store::chat_photos::PhotoFetch;

/// Largest sealed photo: the largest photo, its nonce and its tag.
pub const MAX_SEALED_PHOTO_BYTES: u64 = MAX_PHOTO_BYTES + ATTACHMENT_OVERHEAD as u64;

/// Why a fetched photo was discarded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhotoFault {
    /// The sealed bytes do not open with the message's key (altered, or the wrong key).
    #[error("the photo's bytes do not decrypt with the message's key")]
    Undecryptable,
    /// The decrypted bytes are not the photo the message describes.
    #[error("the photo's bytes do not match the message: {0}")]
    Mismatch(&'static str),
}

/// Opens `sealed` (the blob named by `photo.blob`) with the message's key and checks that it
/// is the photo the message describes: its hash, size and format.
pub fn reveal(photo: &ChatPhoto, sealed: &[u8]) -> Result<Vec<u8>, PhotoFault> {
    let key = AttachmentKey::from_bytes(photo.key);
    let bytes = open_attachment(&key, sealed).map_err(|_| PhotoFault::Undecryptable)?;
    let found = PhotoRef::for_bytes(&bytes)
        .map_err(|_| PhotoFault::Mismatch("not a JPEG, PNG or WebP of at most 8 MiB"))?;
    if found.size != photo.photo.size {
        return Err(PhotoFault::Mismatch("size"));
    }
    if found.kind != photo.photo.kind {
        return Err(PhotoFault::Mismatch("format"));
    }
    if found.hash != photo.photo.hash {
        return Err(PhotoFault::Mismatch("hash"));
    }
    Ok(bytes)
}

/// Whether a message's photo description is plausible before anything is fetched: a sealed
/// size that fits the photo's size and the limits.
pub(crate) fn plausible(photo: &ChatPhoto) -> bool {
    photo.photo.size > 0
        && photo.photo.size <= MAX_PHOTO_BYTES
        && photo.blob_size == photo.photo.size + ATTACHMENT_OVERHEAD as u64
}

/// Where a chat photo stands, as shown (serialized as `fetching`, `ready`, `failed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChatPhotoState {
    /// Theirs, still to be fetched from the sender (who may be offline).
    Fetching,
    /// Decrypted, verified and on this node.
    Ready,
    /// Theirs, discarded: its bytes did not match the message (`error` says how).
    Failed,
}

impl ChatPhotoState {
    /// The state's name as the API and the CLI show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fetching => "fetching",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }
}

/// The photo of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatPhotoView {
    /// Hex SHA-256 of the photo (decrypted).
    #[schema(value_type = crate::api::schema::HashText)]
    pub hash: BlobHash,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub mime: String,
    /// Where it stands.
    pub state: ChatPhotoState,
    /// Why it failed, for failed photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether this node holds the decrypted bytes (`GET /v1/messages/{id}/photo`).
    pub local: bool,
}

impl ChatPhotoView {
    /// The view of a message's photo, if it has one, before the store is asked: ours is
    /// taken as ready, theirs as fetching ([`ChatPhotoView::with_state`] corrects it).
    pub fn of(body: &MessageBody, outgoing: bool) -> Option<Self> {
        let MessageBody::Photo { photo, .. } = body else {
            return None;
        };
        Some(Self {
            hash: photo.photo.hash,
            size: photo.photo.size,
            mime: ImageKind::mime(photo.photo.kind).to_owned(),
            state: if outgoing {
                ChatPhotoState::Ready
            } else {
                ChatPhotoState::Fetching
            },
            error: None,
            local: outgoing,
        })
    }

    /// This view with the recorded state of a received photo (`None` for ours) and whether
    /// the bytes are here.
    pub(crate) fn with_state(mut self, fetch: Option<PhotoFetch>, local: bool) -> Self {
        self.local = local;
        self.error = None;
        match fetch {
            Some(PhotoFetch::Failed(why)) => {
                self.state = ChatPhotoState::Failed;
                self.error = Some(why);
                self.local = false;
            }
            Some(PhotoFetch::Ready) | None if local => self.state = ChatPhotoState::Ready,
            _ => self.state = ChatPhotoState::Fetching,
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use paperplane_crypto::seal_attachment;

    use super::*;

    fn png(len: usize, fill: u8) -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        v.resize(len, fill);
        v
    }

    fn sent(bytes: &[u8]) -> (ChatPhoto, Vec<u8>) {
        let (key, sealed) = seal_attachment(&mut rand::rng(), bytes);
        let photo = ChatPhoto {
            blob: BlobHash::of(&sealed),
            blob_size: sealed.len() as u64,
            photo: PhotoRef::for_bytes(bytes).expect("test"),
            key: key.to_bytes(),
        };
        (photo, sealed)
    }

    #[test]
    fn a_photo_reveals_as_sent() {
        let bytes = png(5000, 1);
        let (photo, sealed) = sent(&bytes);
        assert!(plausible(&photo));
        assert_eq!(reveal(&photo, &sealed), Ok(bytes));
    }

    #[test]
    fn altered_bytes_or_a_false_description_are_faults() {
        let bytes = png(5000, 1);
        let (photo, sealed) = sent(&bytes);
        let mut altered = sealed.clone();
        altered[100] ^= 1;
        assert_eq!(reveal(&photo, &altered), Err(PhotoFault::Undecryptable));
        let mut wrong_key = photo.clone();
        wrong_key.key[0] ^= 1;
        assert_eq!(reveal(&wrong_key, &sealed), Err(PhotoFault::Undecryptable));
        // The sender describes another photo than the one sealed.
        let mut other = photo.clone();
        other.photo = PhotoRef::for_bytes(&png(5000, 2)).expect("test");
        assert_eq!(reveal(&other, &sealed), Err(PhotoFault::Mismatch("hash")));
        let mut size = photo.clone();
        size.photo.size += 1;
        assert_eq!(reveal(&size, &sealed), Err(PhotoFault::Mismatch("size")));
        let mut kind = photo.clone();
        kind.photo.kind = ImageKind::Jpeg;
        assert_eq!(reveal(&kind, &sealed), Err(PhotoFault::Mismatch("format")));
        // Sealed bytes that are no image at all.
        let (mut text, sealed_text) = sent(&bytes);
        let (key, sealed_text2) = seal_attachment(&mut rand::rng(), b"not an image");
        text.key = key.to_bytes();
        assert_eq!(
            reveal(&text, &sealed_text2),
            Err(PhotoFault::Mismatch(
                "not a JPEG, PNG or WebP of at most 8 MiB"
            ))
        );
        assert_ne!(sealed_text, sealed_text2);
    }

    #[test]
    fn implausible_descriptions_are_not_fetched() {
        let (photo, _) = sent(&png(100, 1));
        let mut wrong = photo.clone();
        wrong.blob_size = MAX_SEALED_PHOTO_BYTES * 2;
        assert!(!plausible(&wrong));
        let mut huge = photo;
        huge.photo.size = MAX_PHOTO_BYTES + 1;
        huge.blob_size = huge.photo.size + ATTACHMENT_OVERHEAD as u64;
        assert!(!plausible(&huge));
    }

    #[test]
    fn views_follow_the_recorded_state() {
        let (photo, _) = sent(&png(100, 1));
        let body = MessageBody::Photo {
            photo,
            text: String::new(),
        };
        assert!(ChatPhotoView::of(&MessageBody::Text("hi".into()), true).is_none());
        let theirs = ChatPhotoView::of(&body, false).expect("test");
        assert_eq!(theirs.state, ChatPhotoState::Fetching);
        assert_eq!(theirs.mime, "image/png");
        let ready = theirs.clone().with_state(Some(PhotoFetch::Ready), true);
        assert_eq!((ready.state, ready.local), (ChatPhotoState::Ready, true));
        let failed = theirs
            .clone()
            .with_state(Some(PhotoFetch::Failed("hash".into())), true);
        assert_eq!(failed.state, ChatPhotoState::Failed);
        assert_eq!(failed.error.as_deref(), Some("hash"));
        assert!(!failed.local);
        let fetching = theirs.with_state(Some(PhotoFetch::Fetching), false);
        assert_eq!(fetching.state, ChatPhotoState::Fetching);
        let ours = ChatPhotoView::of(&body, true)
            .expect("test")
            .with_state(None, true);
        assert_eq!(ours.state, ChatPhotoState::Ready);
    }
}
