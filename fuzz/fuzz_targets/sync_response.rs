//! `/paperplane/sync/1` responses, as a requester decodes them: every record inside verified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{limits::MAX_SYNC_RESPONSE_BYTES, SyncResponse};

fuzz_target!(|data: &[u8]| {
    if let Some(response) = checks::decode_eq::<SyncResponse>(data, MAX_SYNC_RESPONSE_BYTES) {
        if let Some(profile) = &response.profile {
            checks::verify_profile(profile);
        }
        response.posts.iter().for_each(checks::verify);
        response.reactions.iter().for_each(checks::verify_feed);
    }
});
