//! Photos sent in chats, on sled: where each received photo stands (`chat_photos`: peer ‖
//! message id → [`PhotoFetch`]) and the decrypted photos themselves (`chat_photo_bytes`:
//! SHA-256 → bytes).
//!
//! The decrypted bytes live apart from the public `blobs` tree on purpose: the blob protocol
//! serves `blobs` to anyone who names a hash, and a chat photo must not be served to anyone,
//! nor its presence confirmed. (The sealed copy a sender keeps for its recipient to fetch is a
//! public blob: it is named by the hash of a ciphertext under a key only the recipient has.)

use paperplane_protocol::{encode, BlobHash, MessageId, PeerId};
use serde::{Deserialize, Serialize};

use super::{
    decode_value,
    keys::{peer_key, PEER_KEY_LEN},
    Result, Store,
};

const STATES: &str = "chat_photos";
const BYTES: &str = "chat_photo_bytes";

/// Where a received chat photo stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhotoFetch {
    /// Its sealed bytes are still to be fetched from the sender (who may be offline).
    Fetching,
    /// Fetched, decrypted, verified and stored.
    Ready,
    /// Discarded: the bytes did not match what the message said (the reason says how).
    Failed(String),
}

fn state_key(peer: &PeerId, id: &MessageId) -> Vec<u8> {
    let mut k = peer_key(peer);
    k.extend_from_slice(&id.0);
    k
}

impl Store {
    fn chat_photo_states(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree(STATES)?)
    }

    fn chat_photo_bytes_tree(&self) -> Result<sled::Tree> {
        Ok(self.db.open_tree(BYTES)?)
    }

    /// Records where the photo of message `id` from `peer` stands.
    pub fn set_photo_fetch(&self, peer: &PeerId, id: &MessageId, state: &PhotoFetch) -> Result<()> {
        self.chat_photo_states()?
            .insert(state_key(peer, id), encode(state))?;
        Ok(())
    }

    /// Where the photo of message `id` from `peer` stands, if it was ever recorded.
    pub fn photo_fetch(&self, peer: &PeerId, id: &MessageId) -> Result<Option<PhotoFetch>> {
        self.chat_photo_states()?
            .get(state_key(peer, id))?
            .map(|v| decode_value(STATES, &v))
            .transpose()
    }

    /// Forgets the photo state of message `id` from `peer` (its message is gone).
    pub fn forget_photo_fetch(&self, peer: &PeerId, id: &MessageId) -> Result<()> {
        self.chat_photo_states()?.remove(state_key(peer, id))?;
        Ok(())
    }

    /// Every photo still to be fetched: the sender and the message.
    pub fn photos_to_fetch(&self) -> Result<Vec<(PeerId, MessageId)>> {
        let mut out = Vec::new();
        for item in self.chat_photo_states()?.iter() {
            let (k, v) = item?;
            if decode_value::<PhotoFetch>(STATES, &v)? != PhotoFetch::Fetching {
                continue;
            }
            let peer = k
                .get(..PEER_KEY_LEN)
                .and_then(|p| PeerId::from_bytes(p).ok());
            let id = k.get(PEER_KEY_LEN..).and_then(|i| i.try_into().ok());
            if let (Some(peer), Some(id)) = (peer, id) {
                out.push((peer, MessageId(id)));
            }
        }
        Ok(out)
    }

    /// Stores a decrypted chat photo under its hash (the caller has checked them).
    pub fn put_chat_photo(&self, bytes: &[u8]) -> Result<BlobHash> {
        let hash = BlobHash::of(bytes);
        self.chat_photo_bytes_tree()?.insert(hash.0, bytes)?;
        Ok(hash)
    }

    /// A decrypted chat photo's bytes.
    pub fn chat_photo(&self, hash: &BlobHash) -> Result<Option<Vec<u8>>> {
        Ok(self
            .chat_photo_bytes_tree()?
            .get(hash.0)?
            .map(|v| v.to_vec()))
    }

    /// Whether a decrypted chat photo is stored.
    pub fn has_chat_photo(&self, hash: &BlobHash) -> Result<bool> {
        Ok(self.chat_photo_bytes_tree()?.contains_key(hash.0)?)
    }

    /// Removes a decrypted chat photo.
    pub fn remove_chat_photo(&self, hash: &BlobHash) -> Result<()> {
        self.chat_photo_bytes_tree()?.remove(hash.0)?;
        Ok(())
    }

    /// Removes a public blob (a sealed photo that was never sent).
    pub fn remove_blob(&self, hash: &BlobHash) -> Result<()> {
        self.blobs.remove(hash.0)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> PeerId {
        paperplane_crypto::Identity::from_seed([n; 32]).peer_id()
    }

    #[test]
    fn photo_states_survive_reopening_and_list_what_is_to_fetch() {
        let dir = tempfile::tempdir().expect("test");
        let (a, b) = (peer(1), peer(2));
        let (m1, m2, m3) = (MessageId([1; 16]), MessageId([2; 16]), MessageId([3; 16]));
        {
            let s = Store::open(dir.path()).expect("test");
            assert_eq!(s.photo_fetch(&a, &m1).expect("test"), None);
            s.set_photo_fetch(&a, &m1, &PhotoFetch::Fetching)
                .expect("test");
            s.set_photo_fetch(&b, &m2, &PhotoFetch::Fetching)
                .expect("test");
            s.set_photo_fetch(&b, &m3, &PhotoFetch::Failed("bad".into()))
                .expect("test");
            s.set_photo_fetch(&b, &m2, &PhotoFetch::Ready)
                .expect("test");
            s.put_chat_photo(b"photo").expect("test");
            s.flush_blocking().expect("test");
        }
        let s = Store::open(dir.path()).expect("test");
        assert_eq!(s.photos_to_fetch().expect("test"), vec![(a, m1)]);
        assert_eq!(
            s.photo_fetch(&b, &m3).expect("test"),
            Some(PhotoFetch::Failed("bad".into()))
        );
        let hash = BlobHash::of(b"photo");
        assert_eq!(
            s.chat_photo(&hash).expect("test").as_deref(),
            Some(&b"photo"[..])
        );
        assert!(
            !s.has_blob(&hash).expect("test"),
            "never among the public blobs"
        );
        s.remove_chat_photo(&hash).expect("test");
        assert!(!s.has_chat_photo(&hash).expect("test"));
        s.forget_photo_fetch(&a, &m1).expect("test");
        assert!(s.photos_to_fetch().expect("test").is_empty());
    }
}
