//! The decoders beyond one LAN. The input after its first byte, by that byte: a
//! `/paperplane/mailbox/1` request (a fetch's proof verified as a mailbox does), a
//! `/paperplane/mailbox/1` response, or a DHT address record (checked as a node does before
//! storing or using one, under the key it names and under another).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane::reach::address_record;
use paperplane_fuzz::{checks, fixtures::NOW};
use paperplane_protocol::{
    addresses::{dht_key, PeerAddresses, MAX_ADDRESS_RECORD_BYTES},
    mailbox::{
        MailboxRequest, MailboxResponse, FETCH_PROOF_LABEL, MAX_MAILBOX_REQUEST_BYTES,
        MAX_MAILBOX_RESPONSE_BYTES,
    },
    Signed,
};

fuzz_target!(|data: &[u8]| {
    let Some((kind, rest)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => {
            if let Some(MailboxRequest::Fetch {
                proof, signature, ..
            }) = checks::decode_eq::<MailboxRequest>(rest, MAX_MAILBOX_REQUEST_BYTES)
            {
                let _ = paperplane_crypto::identity::verify_labelled(
                    &proof.recipient,
                    FETCH_PROOF_LABEL,
                    &proof.signing_bytes(),
                    &signature,
                );
            }
        }
        1 => {
            let _ = checks::decode_eq::<MailboxResponse>(rest, MAX_MAILBOX_RESPONSE_BYTES);
        }
        _ => {
            if let Some(record) =
                checks::decode_eq::<Signed<PeerAddresses>>(rest, MAX_ADDRESS_RECORD_BYTES)
            {
                checks::verify(&record);
                let key = dht_key(&record.body.peer);
                if let Ok(ok) = address_record(&key, rest, NOW) {
                    assert_eq!(ok, record);
                }
                assert!(address_record(b"/paperplane/addr/other", rest, NOW).is_err());
            }
        }
    }
});
