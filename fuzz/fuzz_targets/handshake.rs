//! The responder's side of the handshake: an envelope from Alice or Carol (the first byte
//! chooses) opening a new session with Bob, through the prekey lookup, the replay cache
//! (Carol's declined session is in it) and the first ratchet step. What opens is decoded as
//! the node does, and Bob can answer on the new session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::Envelope;
use paperplane_fuzz::{
    checks,
    fixtures::{world, NOW},
};
use paperplane_protocol::dm::MAX_SEALED_BYTES;

fuzz_target!(|data: &[u8]| {
    let Some((&who, bytes)) = data.split_first() else {
        return;
    };
    let Ok(envelope) = Envelope::from_bytes(bytes) else {
        return;
    };
    let w = world();
    let conv = if who % 2 == 0 {
        &w.fresh
    } else {
        &w.fresh_carol
    };
    if let Ok((next, plaintext)) =
        conv.decrypt_at(&w.bob.ik, &w.bob.prekeys, &w.replays, &envelope, NOW)
    {
        let _ = checks::message_round_trip(&plaintext, MAX_SEALED_BYTES);
        let mut rng = paperplane_fuzz::fixtures::rng();
        let _ = next.encrypt(&mut rng, b"reply");
    }
});
