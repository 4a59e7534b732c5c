//! Helpers shared by the integration tests: parties with seeded keys, serde round trips.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(unreachable_pub, reason = "a test helper module, not an API")]

use chacha20::ChaCha20Rng;
use paperplane_crypto::{Conversation, Identity, MessagingIdentity, PrekeyStore};
use paperplane_protocol::{MessagingKeys, PeerId};
use serde::{de::DeserializeOwned, Serialize};

/// The clock of every test (Unix ms).
pub const NOW: u64 = 1_700_000_000_000;

/// One user: identity, X25519 identity key, prekeys.
pub struct Party {
    pub id: Identity,
    pub ik: MessagingIdentity,
    pub prekeys: PrekeyStore,
}

impl Party {
    pub fn new(seed: u8, rng: &mut ChaCha20Rng) -> Self {
        let id = Identity::from_seed([seed; 32]);
        let ik = MessagingIdentity::generate(&id, rng);
        let prekeys = PrekeyStore::new(rng, NOW);
        Self { id, ik, prekeys }
    }

    pub fn peer(&self) -> PeerId {
        self.id.peer_id()
    }

    pub fn keys(&self) -> MessagingKeys {
        self.prekeys.messaging_keys(&self.id, &self.ik)
    }

    /// An empty conversation with `other`.
    pub fn conversation(&self, other: &Party) -> Conversation {
        Conversation::new(other.peer())
    }
}

/// bincode 2 (serde, standard config): how the node persists state.
pub fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).expect("encodes")
}

/// A value after a trip through the store (a restart).
pub fn restart<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let bytes = to_bytes(value);
    let (back, read) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).expect("decodes");
    assert_eq!(read, bytes.len());
    back
}
