//! The Double Ratchet's receiving side: an envelope from Alice on Bob's established session
//! (a skipped key, his current chain, a new chain, or a replay), through the skip bounds, the
//! DH turn and the AEAD. What opens must not open twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::Envelope;
use paperplane_fuzz::{
    checks,
    fixtures::{world, NOW},
};
use paperplane_protocol::dm::MAX_SEALED_BYTES;

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = Envelope::from_bytes(data) else {
        return;
    };
    let w = world();
    let open = |conv: &paperplane_crypto::Conversation| {
        conv.decrypt_at(&w.bob.ik, &w.bob.prekeys, &w.replays, &envelope, NOW)
    };
    if let Ok((next, plaintext)) = open(&w.established) {
        let _ = checks::message_round_trip(&plaintext, MAX_SEALED_BYTES);
        assert!(open(&next).is_err(), "an envelope opened twice");
    }
});
