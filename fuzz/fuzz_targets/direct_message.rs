//! The plaintext inside an envelope: a direct message, decoded and validated as the
//! recipient does once the envelope opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::dm::MAX_SEALED_BYTES;

fuzz_target!(|data: &[u8]| {
    if let Some(message) = checks::message_round_trip(data, MAX_SEALED_BYTES) {
        if message.validate().is_ok() {
            let _ = message.body.text();
        }
        assert_eq!(message.id.to_hex().parse(), Ok(message.id));
    }
});
