//! The plaintext inside an envelope: a direct message, decoded and validated as the
//! recipient does once the envelope opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{dm::MAX_SEALED_BYTES, DirectMessage};

fuzz_target!(|data: &[u8]| {
    if let Some(message) = checks::decode_eq::<DirectMessage>(data, MAX_SEALED_BYTES) {
        if message.validate().is_ok() {
            let _ = message.body.text();
        }
        assert_eq!(message.id.to_hex().parse(), Ok(message.id));
    }
});
