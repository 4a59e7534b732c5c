//! The handshakes already answered: a bounded cache that outlives conversations, so a stored
//! handshake replayed later cannot open a session again.
//!
//! A [`Conversation`](crate::Conversation) remembers the sessions it holds and the ids of
//! those it dropped, but the node deletes a whole conversation (a declined stranger's), after
//! which a handshake envelope replayed from a mailbox would be answered again. The
//! [`ReplayCache`] remembers every answered handshake by the initiator's ephemeral key and
//! the prekey id, for as long as that prekey is held (an answer on a prekey no longer held
//! fails anyway): the caller prunes it at rotation ([`ReplayCache::prune`]), and it keeps at
//! most [`MAX_ANSWERED_HANDSHAKES`] entries, forgetting the oldest first.
//!
//! A handshake is recorded only once its first message authenticated: only the initiator,
//! who holds the ephemeral secret, can make a handshake with that ephemeral key whose
//! message opens, so no one else can fill the cache with it to block a genuine handshake. An
//! initiator can push its own old entries out by opening many sessions, which only lets it
//! replay handshakes it could as well make afresh (the node budgets new sessions per peer).
//!
//! The cache holds no secret (public keys and ids). `serde`, bincode 2 friendly; the caller
//! persists it under its own key, in the same transaction as the conversation whose new
//! session it records.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{prekeys::PrekeyStore, x3dh::HandshakeHeader};

/// Most answered handshakes remembered (about 150 KB encoded).
pub const MAX_ANSWERED_HANDSHAKES: usize = 4_096;

/// The handshakes this node answered, oldest first, while their prekeys are held.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayCache {
    answered: Vec<Answered>,
}

/// One answered handshake: the prekey it used and the initiator's ephemeral key.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Answered {
    prekey_id: u32,
    ephemeral_key: [u8; 32],
}

impl Answered {
    fn of(handshake: &HandshakeHeader) -> Self {
        Self {
            prekey_id: handshake.prekey_id,
            ephemeral_key: handshake.ephemeral_key,
        }
    }
}

impl ReplayCache {
    /// An empty cache (also what to start from when none is stored yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether this handshake (its prekey id and ephemeral key) was already answered.
    pub fn contains(&self, handshake: &HandshakeHeader) -> bool {
        let key = Answered::of(handshake);
        self.answered.contains(&key)
    }

    /// Remembers an answered handshake: call it when a handshake opened a new session (its
    /// first message authenticated) and commit the cache with that session. Forgets the
    /// oldest entries beyond [`MAX_ANSWERED_HANDSHAKES`]. Returns whether it was new.
    pub fn record(&mut self, handshake: &HandshakeHeader) -> bool {
        let key = Answered::of(handshake);
        if self.answered.contains(&key) {
            return false;
        }
        self.answered.push(key);
        if self.answered.len() > MAX_ANSWERED_HANDSHAKES {
            let excess = self.answered.len() - MAX_ANSWERED_HANDSHAKES;
            self.answered.drain(..excess);
        }
        true
    }

    /// Forgets the handshakes on prekeys `prekeys` no longer holds (they cannot be answered
    /// again anyway). Call it after a rotation, then persist. Returns how many were dropped.
    pub fn prune(&mut self, prekeys: &PrekeyStore) -> usize {
        let before = self.answered.len();
        self.answered.retain(|a| prekeys.holds(a.prekey_id));
        before - self.answered.len()
    }

    /// How many handshakes are remembered.
    pub fn len(&self) -> usize {
        self.answered.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.answered.is_empty()
    }
}

impl fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayCache")
            .field("answered", &self.answered.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn handshake(prekey_id: u32, n: u32) -> HandshakeHeader {
        let mut ephemeral_key = [0u8; 32];
        ephemeral_key[..4].copy_from_slice(&n.to_be_bytes());
        HandshakeHeader {
            identity_key: [1; 32],
            identity_key_certificate: vec![2; 64],
            ephemeral_key,
            prekey_id,
        }
    }

    #[test]
    fn remembers_by_prekey_and_ephemeral_key() {
        let mut cache = ReplayCache::new();
        assert!(cache.record(&handshake(1, 7)));
        assert!(!cache.record(&handshake(1, 7)));
        assert!(cache.contains(&handshake(1, 7)));
        // Another initiator identity with the same ephemeral key and prekey: the same entry.
        let mut other = handshake(1, 7);
        other.identity_key = [3; 32];
        assert!(cache.contains(&other));
        assert!(!cache.contains(&handshake(2, 7)));
        assert!(!cache.contains(&handshake(1, 8)));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn bounded_oldest_first_and_pruned_with_the_prekeys() {
        let mut cache = ReplayCache::new();
        let n = u32::try_from(MAX_ANSWERED_HANDSHAKES).expect("fits") + 10;
        for i in 0..n {
            cache.record(&handshake(1 + i % 2, i));
        }
        assert_eq!(cache.len(), MAX_ANSWERED_HANDSHAKES);
        assert!(!cache.contains(&handshake(1, 0)) && !cache.contains(&handshake(2, 9)));
        assert!(cache.contains(&handshake(1, 10)) && cache.contains(&handshake(2, n - 1)));

        // Prekey 1 is the one a store made at its creation; after 3 rotations only 2..=4 are
        // held.
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut store = PrekeyStore::new(&mut rng, 0);
        assert_eq!(cache.prune(&store), MAX_ANSWERED_HANDSHAKES / 2);
        assert!(cache.contains(&handshake(1, 10)) && !cache.contains(&handshake(2, n - 1)));
        for week in 1..=3 {
            store.rotate(&mut rng, week * crate::PREKEY_ROTATION_MS);
        }
        assert_eq!(cache.prune(&store), MAX_ANSWERED_HANDSHAKES / 2);
        assert!(cache.is_empty());
    }

    #[test]
    fn survives_bincode_and_debug_shows_only_the_count() {
        let mut cache = ReplayCache::new();
        cache.record(&handshake(3, 1));
        let bytes = paperplane_protocol::encode(&cache);
        let back: ReplayCache =
            paperplane_protocol::decode(&bytes, paperplane_protocol::limits::MAX_FRAME_BYTES)
                .expect("decodes");
        assert_eq!(back, cache);
        assert_eq!(format!("{cache:?}"), "ReplayCache { answered: 1 }");
        // The largest cache stays far below a frame.
        let mut full = ReplayCache::new();
        for i in 0..u32::try_from(MAX_ANSWERED_HANDSHAKES).expect("fits") {
            full.record(&handshake(u32::MAX, u32::MAX - i));
        }
        assert!(paperplane_protocol::encode(&full).len() < 200 * 1024);
    }
}
