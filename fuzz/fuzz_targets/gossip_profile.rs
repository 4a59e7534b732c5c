//! Gossip on `paperplane/profiles/1`: a signed profile, decoded, round-tripped and verified
//! (signature, fields, and the messaging keys it publishes) as the node does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{limits::MAX_GOSSIP_BYTES, Profile, Signed};

fuzz_target!(|data: &[u8]| {
    if let Some(profile) = checks::decode_eq::<Signed<Profile>>(data, MAX_GOSSIP_BYTES) {
        checks::verify_profile(&profile);
    }
});
