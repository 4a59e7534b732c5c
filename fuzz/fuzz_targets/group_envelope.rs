//! Group chats' decoders. The input as a `SealedEnvelope` payload: `GroupEnvelope::from_payload`,
//! then its sealed message decoded as a `GroupCiphertext`, bounds-checked, and opened with
//! Bob's chain of Alice's sender key (fresh, and with skipped keys), as a member does; what
//! opens is a direct message, and opens once only. The input after its first byte as the
//! other group values a member decodes: a `GroupUpdate` (as a 1:1 message carries it), a
//! signed `Roster` (verified), a `SenderKeyShare` (made into a chain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_crypto::{DecryptError, GroupCiphertext, ReceiverChain, SenderKeyShare};
use paperplane_fuzz::{
    checks,
    fixtures::{group_message_id, world},
};
use paperplane_protocol::{
    dm::MAX_SEALED_BYTES, encode, group::MAX_GROUP_PAYLOAD_BYTES,
    limits::MAX_FRAME_BYTES, GroupEnvelope, GroupUpdate, Roster, Signed,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = GroupEnvelope::from_payload(data) {
        assert_eq!(
            GroupEnvelope::from_payload(&env.to_payload()).as_ref(),
            Ok(&env)
        );
        open(&env);
    }
    let Some((_, rest)) = data.split_first() else {
        return;
    };
    if let Some(update) = checks::decode_eq::<GroupUpdate>(rest, MAX_SEALED_BYTES) {
        if update.validate().is_ok() {
            if let Some(roster) = &update.roster {
                checks::verify(roster);
            }
            if let Some(key) = &update.key {
                share(&key.share);
            }
        }
    }
    if let Some(roster) = checks::decode_eq::<Signed<Roster>>(rest, MAX_FRAME_BYTES) {
        checks::verify(&roster);
        let _ = (roster.body.is_admin(&roster.body.author), roster.body.peers().count());
    }
    share(rest);
});

/// Decodes a key share as a member does, and makes a chain of it.
fn share(bytes: &[u8]) {
    if let Some(share) = checks::decode_eq::<SenderKeyShare>(bytes, 512) {
        if let Ok(chain) = ReceiverChain::from_share(&share) {
            assert_eq!(chain.next_index(), share.index);
            assert_eq!(chain.verifying_key(), share.verifying_key);
        }
    }
}

/// Opens the envelope's message with Bob's chains of Alice's key.
fn open(env: &GroupEnvelope) {
    let Some(sealed) = checks::decode_eq::<GroupCiphertext>(&env.sealed, MAX_GROUP_PAYLOAD_BYTES)
    else {
        return;
    };
    if sealed.validate().is_err() {
        return;
    }
    let w = world();
    let ad = GroupEnvelope::associated_data(
        &env.group,
        &w.alice.peer(),
        env.key_id,
        &group_message_id(sealed.index),
    );
    for chain in [&w.group.chain, &w.group.chain_later] {
        let mut chain = chain.clone();
        let before = encode(&chain);
        match chain.open(&ad, &sealed) {
            Ok(plaintext) => {
                if let Some(m) = checks::message_round_trip(&plaintext, MAX_SEALED_BYTES) {
                    let _ = m.validate();
                }
                assert_eq!(
                    chain.open(&ad, &sealed),
                    Err(DecryptError::ReplayedOrExpired),
                    "a group message opened twice"
                );
            }
            Err(_) => assert!(encode(&chain) == before, "a failed open changed the chain"),
        }
    }
}
