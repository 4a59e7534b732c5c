//! `/paperplane/dm/1` requests, as a recipient decodes them: the batch, then each sealed
//! envelope's payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::Envelope;
use paperplane_fuzz::checks;
use paperplane_protocol::{
    dm::{MAX_DM_REQUEST_BYTES, MAX_SEALED_BYTES},
    DmRequest,
};

fuzz_target!(|data: &[u8]| {
    if let Some(request) = checks::decode_eq::<DmRequest>(data, MAX_DM_REQUEST_BYTES) {
        for sealed in &request.envelopes {
            if sealed.payload.len() <= MAX_SEALED_BYTES {
                if let Ok(envelope) = Envelope::from_bytes(&sealed.payload) {
                    assert_eq!(Envelope::from_bytes(&envelope.to_bytes()), Ok(envelope));
                }
            }
        }
    }
});
