//! The node's own prekeys as the store holds them (secrets included), read back from bytes:
//! decoded, round-tripped, published (each signed), used to answer Alice's handshake, and
//! rotated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::{verify_messaging_keys, PrekeyStore, PREKEY_ROTATION_MS};
use paperplane_fuzz::{
    checks,
    fixtures::{rng, world, NOW},
};
use paperplane_protocol::limits::MAX_FRAME_BYTES;

fuzz_target!(|data: &[u8]| {
    let Some(prekeys) = checks::decode_same::<PrekeyStore>(data, MAX_FRAME_BYTES) else {
        return;
    };
    let w = world();
    let _ = (
        prekeys.current_id(),
        prekeys.ids(),
        prekeys.next_rotation_at(),
    );
    let keys = prekeys.messaging_keys(&w.bob.id, &w.bob.ik);
    let _ = verify_messaging_keys(&w.bob.peer(), &keys, NOW);
    let _ = w
        .fresh
        .decrypt_at(&w.bob.ik, &prekeys, &w.replays, &w.handshakes[0], NOW);
    let mut rotated = prekeys.clone();
    if rotated.rotate_if_due(&mut rng(), NOW.saturating_add(PREKEY_ROTATION_MS)) {
        assert!(rotated.current_id().is_some());
    }
});
