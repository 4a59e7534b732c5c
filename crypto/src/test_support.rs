//! Helpers shared by the unit tests of the session modules.

use chacha20::ChaCha20Rng;

use crate::{
    keys::{verify_messaging_keys, PeerPrekeyBundle},
    Identity, MessagingIdentity, PrekeyStore,
};

/// One side of a test conversation: identity, messaging key and prekeys.
pub(crate) struct Party {
    pub(crate) id: Identity,
    pub(crate) ik: MessagingIdentity,
    pub(crate) prekeys: PrekeyStore,
}

/// A party from `seed`, its prekeys made at `now`.
pub(crate) fn party(seed: u8, rng: &mut ChaCha20Rng, now: u64) -> Party {
    let id = Identity::from_seed([seed; 32]);
    let ik = MessagingIdentity::generate(&id, rng);
    let prekeys = PrekeyStore::new(rng, now);
    Party { id, ik, prekeys }
}

/// `of`'s published keys, verified at `now`.
pub(crate) fn bundle(of: &Party, now: u64) -> PeerPrekeyBundle {
    let keys = of.prekeys.messaging_keys(&of.id, &of.ik);
    verify_messaging_keys(&of.id.peer_id(), &keys, now).expect("valid keys")
}
