//! A conversation's end-to-end state as the store holds it (secrets included), read back from
//! bytes: decoded, round-tripped, then used as the node would: to open Alice's next
//! envelope and her first one, to send, and to retire into the replay cache.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::{encode_secret, Conversation};
use paperplane_fuzz::{
    checks,
    fixtures::{rng, world, NOW},
};
use paperplane_protocol::limits::MAX_FRAME_BYTES;

fuzz_target!(|data: &[u8]| {
    let Some(conv) = checks::decode_same::<Conversation>(data, MAX_FRAME_BYTES) else {
        return;
    };
    let w = world();
    let _ = (
        conv.remote(),
        conv.can_send(),
        conv.active_session().map(|s| s.id()),
    );
    for s in conv.sessions() {
        let _ = (
            s.id(),
            s.role(),
            s.local(),
            s.remote(),
            s.remote_identity_key(),
        );
        let _ = (
            s.is_confirmed(),
            s.stored_skipped_keys(),
            s.receiving_chains(),
        );
    }
    for envelope in [&w.ratchet[1], &w.handshakes[0]] {
        let _ = conv.decrypt_at(&w.bob.ik, &w.bob.prekeys, &w.replays, envelope, NOW);
    }
    let _ = conv.encrypt(&mut rng(), b"hello");
    let mut replays = w.replays.clone();
    replays.retire(&conv, NOW);
    assert!(*encode_secret(&conv) == paperplane_protocol::encode(&conv));
});
