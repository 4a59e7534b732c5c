//! The checks a target makes on what it decoded, besides not panicking: the value encodes
//! again and that encoding decodes to an equal value (or, for state without `PartialEq`, one
//! that encodes the same), and a signed record verifies or is refused with an error.

use std::fmt::Debug;

use paperplane_crypto::{verify_messaging_keys, verify_record};
use paperplane_protocol::{decode, encode, FeedMessage, Profile, Record, Signed};
use serde::{de::DeserializeOwned, Serialize};

use crate::fixtures::NOW;

/// Decodes `data` as a frame of at most `max` bytes; when it decodes, checks the round trip
/// by equality.
pub fn decode_eq<T>(data: &[u8], max: usize) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let value: T = decode(data, max).ok()?;
    let again: T = decode(&encode(&value), max)
        .unwrap_or_else(|e| panic!("the encoding of a decoded value does not decode: {e}"));
    assert_eq!(again, value, "a value changed over a round trip");
    Some(value)
}

/// Decodes a message's plaintext; when it decodes (and is of a kind this version sends),
/// checks that its padded encoding decodes to the same message.
pub fn message_round_trip(data: &[u8], max: usize) -> Option<paperplane_protocol::DirectMessage> {
    use paperplane_protocol::{DirectMessage, MessageBody};
    let message = DirectMessage::from_plaintext(data, max).ok()?;
    if !matches!(message.body, MessageBody::Unsupported { .. }) {
        let bytes = message.to_plaintext();
        assert_eq!(bytes.len() % paperplane_protocol::dm::PADDING_BLOCK, 0);
        let again = DirectMessage::from_plaintext(&bytes, usize::MAX)
            .unwrap_or_else(|e| panic!("the encoding of a decoded message does not decode: {e}"));
        assert_eq!(again, message, "a message changed over a round trip");
    }
    Some(message)
}

/// Decodes `data` as a frame of at most `max` bytes; when it decodes, checks that its
/// encoding decodes to a value with the same encoding (for state that has no `PartialEq`).
pub fn decode_same<T>(data: &[u8], max: usize) -> Option<T>
where
    T: Serialize + DeserializeOwned,
{
    let value: T = decode(data, max).ok()?;
    let bytes = encode(&value);
    let again: T = decode(&bytes, max)
        .unwrap_or_else(|e| panic!("the encoding of a decoded value does not decode: {e}"));
    assert!(
        encode(&again) == bytes,
        "the encoding changed over a round trip"
    );
    Some(value)
}

/// Verifies a record as the node does before accepting it (its id is computed too).
pub fn verify<T: Record>(record: &Signed<T>) {
    let _ = record.id();
    let _ = verify_record(record, NOW);
}

/// Verifies a profile and, if its signature holds, the messaging keys it publishes.
pub fn verify_profile(profile: &Signed<Profile>) {
    let _ = profile.id();
    if verify_record(profile, NOW).is_ok() {
        if let Some(keys) = &profile.body.messaging {
            let _ = verify_messaging_keys(&profile.body.author, keys, NOW);
        }
    }
}

/// Verifies the record a feed message carries.
pub fn verify_feed(message: &FeedMessage) {
    let _ = message.author();
    let _ = message.topic_author();
    match message {
        FeedMessage::Post(r) => verify(r),
        FeedMessage::Like(r) => verify(r),
        FeedMessage::Comment(r) => verify(r),
        FeedMessage::CommentDelete(r) => verify(r),
        FeedMessage::Follow(r) => verify(r),
    }
}
