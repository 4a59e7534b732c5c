//! `/paperplane/blob/1` requests, as a responder decodes them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{limits::MAX_BLOB_REQUEST_BYTES, BlobRequest};

fuzz_target!(|data: &[u8]| {
    let _ = checks::decode_eq::<BlobRequest>(data, MAX_BLOB_REQUEST_BYTES);
});
