//! Direct messages: the plaintext a message carries (sealed by `paperplane-crypto` before it
//! leaves the node) and the `/paperplane/dm/1` request and response.
//!
//! A request carries a batch of sealed envelopes, all from the connection's remote peer
//! (authenticated by the transport) to the responder. The response has one [`DmResult`] per
//! envelope, in order, and is sent only after the stored ones are flushed to disk.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{error::ValidationError, ids::ParseIdError, PeerId};

/// Largest text message, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Most envelopes in one request.
pub const MAX_ENVELOPES_PER_REQUEST: usize = 256;
/// Largest sealed envelope accepted on the wire.
pub const MAX_SEALED_BYTES: usize = 8 * 1024;
/// Largest encoded request.
pub const MAX_DM_REQUEST_BYTES: usize = MAX_ENVELOPES_PER_REQUEST * (MAX_SEALED_BYTES + 64) + 64;
/// Largest encoded response.
pub const MAX_DM_RESPONSE_BYTES: usize = MAX_ENVELOPES_PER_REQUEST * 8 + 64;

/// A message's id: 16 random bytes chosen by the sender; the inbox is deduplicated by it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.to_hex())
    }
}

impl FromStr for MessageId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).map_err(|_| ParseIdError)?;
        Ok(Self(out))
    }
}

impl Serialize for MessageId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for MessageId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d)?
                .parse()
                .map_err(serde::de::Error::custom)
        } else {
            <[u8; 16]>::deserialize(d).map(Self)
        }
    }
}

/// What a direct message says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MessageBody {
    /// Text, emoji included.
    Text(String),
}

impl MessageBody {
    /// The text to show for this message.
    pub fn text(&self) -> &str {
        match self {
            Self::Text(t) => t,
        }
    }
}

/// The plaintext of one direct message, sealed into an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectMessage {
    /// Sender-chosen id.
    pub id: MessageId,
    /// The sender's clock (Unix ms), strictly increasing per sender and conversation: it
    /// orders the conversation as the sender sent it.
    pub sent_at: u64,
    /// The content.
    pub body: MessageBody,
}

impl DirectMessage {
    /// Checks the content's limits.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match &self.body {
            MessageBody::Text(t) => {
                if t.len() > MAX_TEXT_BYTES {
                    return Err(ValidationError::MessageTooLarge {
                        size: t.len(),
                        max: MAX_TEXT_BYTES,
                    });
                }
                if t.trim().is_empty() {
                    return Err(ValidationError::Inconsistent("message is empty"));
                }
                Ok(())
            }
        }
    }
}

/// One sealed message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedEnvelope {
    /// Whom it is for (the responder must be this peer).
    pub recipient: PeerId,
    /// The id of the message inside, which must match it. The two nodes already know it (the
    /// link is encrypted); it lets the recipient answer a retry as a duplicate without
    /// decrypting it again (which it could not: the key is used up).
    pub id: MessageId,
    /// The encrypted envelope (`paperplane-crypto`'s encoding).
    pub payload: Vec<u8>,
}

/// A `/paperplane/dm/1` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmRequest {
    /// Envelopes in the sender's order.
    pub envelopes: Vec<SealedEnvelope>,
}

/// The answer to a [`DmRequest`]: one result per envelope, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmResponse {
    /// The results.
    pub results: Vec<DmResult>,
}

/// What the recipient did with one envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DmResult {
    /// Stored durably (flushed) — the message is delivered.
    Stored,
    /// Already stored earlier (a retry) — delivered.
    Duplicate,
    /// Refused.
    Rejected(DmRejection),
}

/// Why a recipient refused an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DmRejection {
    /// The recipient blocked the sender.
    Blocked,
    /// The envelope or its plaintext does not decode, or breaks a limit.
    Malformed,
    /// The envelope is larger than allowed.
    TooLarge,
    /// The envelope names another recipient.
    NotForMe,
    /// It does not decrypt: unknown session, replay, tampering.
    Undecryptable,
    /// Too many messages from a stranger; try later.
    RateLimited,
    /// The recipient failed to store it; try later.
    Unavailable,
}

impl DmRejection {
    /// Whether sending the same envelope later may succeed.
    pub fn is_temporary(self) -> bool {
        matches!(self, Self::RateLimited | Self::Unavailable)
    }
}

impl fmt::Display for DmRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Blocked => "the recipient does not accept messages from you",
            Self::Malformed => "malformed message",
            Self::TooLarge => "message too large",
            Self::NotForMe => "sent to the wrong recipient",
            Self::Undecryptable => "the recipient could not decrypt it",
            Self::RateLimited => "too many message requests; retrying later",
            Self::Unavailable => "the recipient could not store it; retrying later",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, encode};

    #[test]
    fn text_limits_and_round_trip() {
        let mut m = DirectMessage {
            id: MessageId([7; 16]),
            sent_at: 1,
            body: MessageBody::Text("hi 👋".into()),
        };
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(decode::<DirectMessage>(&encode(&m), 10_000), Ok(m.clone()));
        m.body = MessageBody::Text("🙂".repeat(MAX_TEXT_BYTES / 4));
        assert_eq!(m.validate(), Ok(()));
        m.body = MessageBody::Text("x".repeat(MAX_TEXT_BYTES + 1));
        assert!(matches!(
            m.validate(),
            Err(ValidationError::MessageTooLarge { .. })
        ));
        m.body = MessageBody::Text("  ".into());
        assert!(m.validate().is_err());
        let id = MessageId([0xAB; 16]);
        assert_eq!(id.to_hex().parse::<MessageId>(), Ok(id));
    }
}
