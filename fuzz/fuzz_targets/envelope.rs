//! The sealed envelope's encoding (with its handshake and ratchet headers), decoded and
//! bounds-checked by `Envelope::from_bytes`; what decodes round-trips, and its associated
//! data can be built.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::{envelope::associated_data, Envelope};
use paperplane_fuzz::fixtures::world;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_bytes(data) {
        assert_eq!(
            Envelope::from_bytes(&envelope.to_bytes()).as_ref(),
            Ok(&envelope)
        );
        let w = world();
        let _ = associated_data(
            &w.alice.peer(),
            &w.bob.peer(),
            &envelope.session_id,
            &envelope.header,
            envelope.handshake.as_ref(),
        );
    }
});
