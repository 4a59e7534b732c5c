//! `/paperplane/sync/1` requests, as a responder decodes them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{limits::MAX_SYNC_REQUEST_BYTES, SyncRequest};

fuzz_target!(|data: &[u8]| {
    let _ = checks::decode_eq::<SyncRequest>(data, MAX_SYNC_REQUEST_BYTES);
});
