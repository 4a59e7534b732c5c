//! The replay cache as the store holds it, read back from bytes: decoded, round-tripped,
//! consulted by Carol's and Alice's handshakes, pruned, and added to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::ReplayCache;
use paperplane_fuzz::{
    checks,
    fixtures::{world, NOW},
};
use paperplane_protocol::limits::MAX_FRAME_BYTES;

fuzz_target!(|data: &[u8]| {
    let Some(replays) = checks::decode_eq::<ReplayCache>(data, MAX_FRAME_BYTES) else {
        return;
    };
    let w = world();
    let _ = (replays.len(), replays.is_empty());
    for envelope in &w.carol_envelopes {
        let _ = w
            .fresh_carol
            .decrypt_at(&w.bob.ik, &w.bob.prekeys, &replays, envelope, NOW);
    }
    let _ = w
        .fresh
        .decrypt_at(&w.bob.ik, &w.bob.prekeys, &replays, &w.handshakes[0], NOW);
    let mut changed = replays.clone();
    changed.prune(NOW);
    changed.retire(&w.established, NOW);
    assert!(changed.remembers(&w.established.sessions()[0].id()));
});
