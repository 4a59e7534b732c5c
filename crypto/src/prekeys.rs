//! The user's own signed prekeys: a pure store that rotates weekly at the caller's clock,
//! keeps the two previous prekeys for handshakes that were in flight, and produces the
//! [`MessagingKeys`] to publish in the profile.

use std::fmt;

use paperplane_protocol::{
    limits::{MAX_CLOCK_SKEW_MS, MAX_PREKEYS},
    MessagingKeys,
};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::{
    dh::{reserve_wiping, KeyPair},
    keys::{sign_prekey, MessagingIdentity},
    x3dh::HandshakeError,
    Identity,
};

/// How often a new prekey replaces the current one.
pub const PREKEY_ROTATION_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How long after its creation a prekey may be used to start a session. Two rotation periods,
/// so a profile fetched just before a rotation stays usable for a week.
pub const PREKEY_LIFETIME_MS: u64 = 2 * PREKEY_ROTATION_MS;
/// How long after its expiry a prekey still answers a handshake: the allowed clock skew
/// ([`MAX_CLOCK_SKEW_MS`], 10 minutes). The initiator checks the expiry on its own clock when
/// it starts; the grace absorbs a responder clock that runs ahead and a first message that
/// takes a moment to arrive. After it the handshake is refused
/// ([`HandshakeError::PrekeyExpired`]).
pub const PREKEY_EXPIRY_GRACE_MS: u64 = MAX_CLOCK_SKEW_MS;

/// The user's prekeys, newest first: the current one and at most two previous ones (whose
/// secrets still answer late handshakes until they expire, see [`PREKEY_EXPIRY_GRACE_MS`]).
/// Pure: the caller passes the clock and the RNG, and persists the store (it is `serde`,
/// secrets included) after every change.
#[derive(Clone, Serialize, Deserialize)]
pub struct PrekeyStore {
    prekeys: Vec<StoredPrekey>,
    /// Unused since prekey ids are random; kept so stores written before decode.
    next_id: u32,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredPrekey {
    id: u32,
    pair: KeyPair,
    created_at: u64,
    expires_at: u64,
}

impl PrekeyStore {
    /// A store with one fresh prekey created at `now_ms`.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, now_ms: u64) -> Self {
        let mut store = Self {
            prekeys: Vec::new(),
            next_id: 1,
        };
        store.rotate(rng, now_ms);
        store
    }

    /// Whether the current prekey is older than [`PREKEY_ROTATION_MS`] at `now_ms`.
    pub fn rotation_due(&self, now_ms: u64) -> bool {
        now_ms >= self.next_rotation_at()
    }

    /// When the next rotation is due (Unix ms), for the caller's timer.
    pub fn next_rotation_at(&self) -> u64 {
        self.prekeys
            .first()
            .map_or(0, |p| p.created_at.saturating_add(PREKEY_ROTATION_MS))
    }

    /// Rotates if due. Returns whether it did: then the caller persists the store and
    /// republishes its profile with [`Self::messaging_keys`].
    pub fn rotate_if_due<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now_ms: u64) -> bool {
        if !self.rotation_due(now_ms) {
            return false;
        }
        self.rotate(rng, now_ms);
        true
    }

    /// Makes a new current prekey now, keeping the two previous ones and forgetting older.
    pub fn rotate<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now_ms: u64) {
        let pair = KeyPair::generate(rng);
        // A random id, never 0 nor one still held: should a crash ever lose a prekey that was
        // published, the next one cannot come out under the same id with another secret.
        let id = loop {
            let id = rng.next_u32();
            if id != 0 && !self.holds(id) {
                break id;
            }
        };
        let prekey = StoredPrekey {
            id,
            pair,
            created_at: now_ms,
            expires_at: now_ms.saturating_add(PREKEY_LIFETIME_MS),
        };
        if self.prekeys.len() >= MAX_PREKEYS {
            // Full: the oldest moves to the front and is replaced (and wiped) in place, so
            // no allocation holding secrets is freed unwiped.
            self.prekeys.truncate(MAX_PREKEYS);
            self.prekeys.rotate_right(1);
            self.prekeys[0] = prekey;
        } else {
            reserve_wiping(&mut self.prekeys, 1);
            self.prekeys.insert(0, prekey);
        }
    }

    /// The current prekey's id.
    pub fn current_id(&self) -> Option<u32> {
        self.prekeys.first().map(|p| p.id)
    }

    /// The ids of the prekeys held, newest first.
    pub fn ids(&self) -> Vec<u32> {
        self.prekeys.iter().map(|p| p.id).collect()
    }

    /// The keys to publish in the profile: the certified identity key, then every held
    /// prekey, newest first, each signed by `identity` (ed25519 signing is deterministic, so
    /// the same store always publishes the same bytes).
    pub fn messaging_keys(&self, identity: &Identity, ik: &MessagingIdentity) -> MessagingKeys {
        MessagingKeys {
            identity_key: ik.public_key(),
            identity_key_signature: ik.certificate().to_vec(),
            prekeys: self
                .prekeys
                .iter()
                .map(|p| sign_prekey(identity, p.id, p.pair.public(), p.expires_at))
                .collect(),
            mailboxes: Vec::new(),
        }
    }

    /// The key pair of a held prekey.
    #[cfg(test)]
    pub(crate) fn pair(&self, id: u32) -> Option<&KeyPair> {
        self.prekeys.iter().find(|p| p.id == id).map(|p| &p.pair)
    }

    /// Whether prekey `id` is held (a handshake on it can be answered, expiry aside).
    pub fn holds(&self, id: u32) -> bool {
        self.prekeys.iter().any(|p| p.id == id)
    }

    /// The key pair of the held prekey `id` that may answer a handshake at `now_ms`: refused
    /// once more than [`PREKEY_EXPIRY_GRACE_MS`] past its expiry. `now_ms: None` skips the
    /// expiry (the clock-less calls kept for compatibility).
    pub(crate) fn answering(
        &self,
        id: u32,
        now_ms: Option<u64>,
    ) -> Result<&KeyPair, HandshakeError> {
        let prekey = self
            .prekeys
            .iter()
            .find(|p| p.id == id)
            .ok_or(HandshakeError::UnknownPrekey(id))?;
        if let Some(now_ms) = now_ms {
            if now_ms > prekey.expires_at.saturating_add(PREKEY_EXPIRY_GRACE_MS) {
                return Err(HandshakeError::PrekeyExpired {
                    id,
                    expires_at: prekey.expires_at,
                    now_ms,
                });
            }
        }
        Ok(&prekey.pair)
    }
}

impl fmt::Debug for PrekeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrekeyStore")
            .field("ids", &self.ids())
            .field("next_rotation_at", &self.next_rotation_at())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{verify_messaging_keys, KeyError};
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    const DAY: u64 = 24 * 60 * 60 * 1000;

    #[test]
    fn rotates_weekly_and_keeps_two_previous() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let id = Identity::from_seed([1; 32]);
        let ik = MessagingIdentity::generate(&id, &mut rng);
        let t0 = 1_700_000_000_000;
        let mut store = PrekeyStore::new(&mut rng, t0);
        let first = store.ids();
        assert_eq!(first.len(), 1);
        assert!(!store.rotate_if_due(&mut rng, t0 + 6 * DAY));
        let mut made = first.clone();
        for week in 1..=3 {
            assert!(store.rotate_if_due(&mut rng, t0 + week * 7 * DAY));
            made.insert(0, store.current_id().expect("current"));
        }
        assert_eq!(
            store.ids(),
            made[..3].to_vec(),
            "newest first, two previous kept"
        );
        assert!(store.pair(first[0]).is_none() && store.pair(made[2]).is_some());
        assert_eq!(store.next_rotation_at(), t0 + 28 * DAY);
        // Random ids: distinct, never 0, not a counter.
        let mut distinct = made.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);
        assert!(!made.contains(&0));
        assert_ne!(made, vec![4, 3, 2, 1]);

        let keys = store.messaging_keys(&id, &ik);
        assert_eq!(keys.prekeys.len(), 3);
        let bundle = verify_messaging_keys(&id.peer_id(), &keys, t0 + 22 * DAY).expect("valid");
        assert_eq!(bundle.prekey_id, made[0]);
        // Offline for long: everything published has expired.
        let newest = made[0];
        assert!(matches!(
            verify_messaging_keys(&id.peer_id(), &keys, t0 + 36 * DAY),
            Err(KeyError::PrekeyExpired { id, .. }) if id == newest
        ));
    }

    #[test]
    fn survives_serialization_and_hides_secrets() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let store = PrekeyStore::new(&mut rng, 5);
        let bytes =
            bincode::serde::encode_to_vec(&store, bincode::config::standard()).expect("encodes");
        let (back, _): (PrekeyStore, _) =
            bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
                .expect("decodes");
        assert_eq!(back.ids(), store.ids());
        assert_eq!(
            back.pair(1).map(|p| p.public()),
            store.pair(1).map(|p| p.public())
        );
        assert!(!format!("{store:?}").contains("secret"));
    }
}
