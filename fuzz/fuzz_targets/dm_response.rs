//! `/paperplane/dm/1` responses, as a sender decodes them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{dm::MAX_DM_RESPONSE_BYTES, DmResponse, DmResult};

fuzz_target!(|data: &[u8]| {
    if let Some(response) = checks::decode_eq::<DmResponse>(data, MAX_DM_RESPONSE_BYTES) {
        for result in &response.results {
            if let DmResult::Rejected(why) = result {
                let _ = (why.is_temporary(), why.to_string());
            }
        }
    }
});
