//! `/paperplane/blob/1` responses, as a requester decodes them; a chunk's bytes are sniffed
//! as the first chunk of a photo is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{limits::MAX_BLOB_RESPONSE_BYTES, BlobResponse, ImageKind};

fuzz_target!(|data: &[u8]| {
    if let Some(BlobResponse::Chunk { bytes, .. }) =
        checks::decode_eq::<BlobResponse>(data, MAX_BLOB_RESPONSE_BYTES)
    {
        let _ = ImageKind::sniff(&bytes).map(ImageKind::mime);
    }
});
