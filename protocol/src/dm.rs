//! Direct messages: the plaintext a message carries (sealed by `paperplane-crypto` before it
//! leaves the node) and the `/paperplane/dm/1` request and response.
//!
//! A request carries a batch of sealed envelopes, all from the connection's remote peer
//! (authenticated by the transport) to the responder. The response has one [`DmResult`] per
//! envelope, in order, and is sent only after the stored ones are flushed to disk.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    decode, emoji, encode, encoding,
    error::{DecodeError, ValidationError},
    BlobHash, PeerId, PhotoRef, Post, Signed,
};

/// Largest text message, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Most envelopes in one request.
pub const MAX_ENVELOPES_PER_REQUEST: usize = 256;
/// Largest sealed envelope accepted on the wire.
pub const MAX_SEALED_BYTES: usize = 16 * 1024;
/// Largest encoded request.
pub const MAX_DM_REQUEST_BYTES: usize = MAX_ENVELOPES_PER_REQUEST * (MAX_SEALED_BYTES + 64) + 64;
/// Largest encoded response.
pub const MAX_DM_RESPONSE_BYTES: usize = MAX_ENVELOPES_PER_REQUEST * 8 + 64;

crate::ids::random_id!(
    /// A message's id: 16 random bytes chosen by the sender; the inbox is deduplicated by it.
    MessageId
);

/// Longest excerpt a reply quotes, in grapheme clusters.
pub const MAX_EXCERPT_GRAPHEMES: usize = 100;
/// How long after sending its author may edit a message (15 minutes, like Instagram).
pub const EDIT_WINDOW_MS: u64 = 15 * 60 * 1000;
/// The plaintext of every message is padded to a multiple of this many bytes, so that what
/// a message is (a reaction, an edit, a text) does not show in its size.
pub const PADDING_BLOCK: usize = 256;

/// What a reply quotes of the message it answers: enough to show it even to someone who does
/// not have that message (it was unsent, or sent before they joined).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The quoted message.
    pub id: MessageId,
    /// Who wrote it.
    pub author: PeerId,
    /// Its first words (at most [`MAX_EXCERPT_GRAPHEMES`] grapheme clusters).
    pub excerpt: String,
}

/// A photo sent in a chat. Its bytes travel encrypted with `key` (a fresh random key per
/// photo, XChaCha20-Poly1305), as a blob named by the hash of the ciphertext; the key only
/// ever travels inside the end-to-end encrypted message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatPhoto {
    /// SHA-256 of the encrypted bytes (what the blob protocol serves).
    pub blob: BlobHash,
    /// Size of the encrypted bytes.
    pub blob_size: u64,
    /// The photo itself once decrypted: hash, size and format.
    pub photo: PhotoRef,
    /// The key the photo is encrypted with.
    pub key: [u8; 32],
}

/// What a direct message says or does. Stored messages keep the variants that show in a
/// chat; the others change a message already there, or the chat.
///
/// On the wire a body is its kind number and its bytes, so a node that meets a kind from a
/// newer version stores it as [`MessageBody::Unsupported`] instead of refusing the message.
/// New kinds are added at the end; a kind's number never changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MessageBody {
    /// Text, emoji included. (Kind 0.)
    Text(String),
    /// Text answering another message. (Kind 1.)
    Reply {
        /// The text.
        text: String,
        /// What it answers.
        quote: Quote,
    },
    /// A post sent into the chat with the paper plane, with its signed record so that the
    /// recipient can show and verify it without following the author. (Kind 2.)
    SharedPost {
        /// The post as its author signed it.
        post: Signed<Post>,
        /// What the sender wrote with it (may be empty).
        text: String,
    },
    /// A photo. (Kind 3.)
    Photo {
        /// The photo and its key.
        photo: ChatPhoto,
        /// A caption (may be empty).
        text: String,
    },
    /// The sender's reaction to a message: one emoji, or none to take it back. Each person
    /// has at most one reaction per message; a newer one replaces it. (Kind 4.)
    Reaction {
        /// The message reacted to.
        target: MessageId,
        /// The emoji, or `None` to remove the reaction.
        emoji: Option<String>,
    },
    /// The sender takes back one of their messages, for everyone. (Kind 5.)
    Unsend {
        /// Their message.
        target: MessageId,
    },
    /// The sender's new text for one of their messages, within [`EDIT_WINDOW_MS`] of
    /// sending it. (Kind 6.)
    Edit {
        /// Their message.
        target: MessageId,
        /// The new text.
        text: String,
    },
    /// Read receipt: the sender has seen the chat up to this message (of ours). (Kind 7.)
    Seen {
        /// The newest of the recipient's messages the sender has seen.
        up_to: MessageId,
    },
    /// The sender is typing (or stopped). Never stored, never retried. (Kind 8.)
    Typing {
        /// Whether they are typing now.
        active: bool,
    },
    /// A kind this version does not know (sent by a newer one). Never sent.
    Unsupported {
        /// Its kind number.
        kind: u32,
    },
    /// A group's roster, and the sender's key for it, sent over the 1:1 session to a
    /// member. Never shown as a message of the 1:1 chat. (Kind 10.)
    GroupUpdate(Box<crate::group::GroupUpdate>),
}

/// The kind number of [`MessageBody::Unsupported`]'s own place in the enum: a body with it
/// on the wire is malformed.
const UNSUPPORTED_KIND: u32 = 9;
/// The newest kind this version knows.
const LAST_KIND: u32 = 10;

impl MessageBody {
    /// The text to show for this message (a caption for a photo or a shared post; empty for
    /// kinds with none).
    pub fn text(&self) -> &str {
        match self {
            Self::Text(t) | Self::Edit { text: t, .. } => t,
            Self::Reply { text, .. } | Self::SharedPost { text, .. } | Self::Photo { text, .. } => {
                text
            }
            _ => "",
        }
    }

    /// This body's kind number on the wire.
    pub fn kind(&self) -> u32 {
        match self {
            Self::Text(_) => 0,
            Self::Reply { .. } => 1,
            Self::SharedPost { .. } => 2,
            Self::Photo { .. } => 3,
            Self::Reaction { .. } => 4,
            Self::Unsend { .. } => 5,
            Self::Edit { .. } => 6,
            Self::Seen { .. } => 7,
            Self::Typing { .. } => 8,
            Self::Unsupported { kind } => *kind,
            Self::GroupUpdate(_) => 10,
        }
    }

    /// The message this body acts on, for the kinds that act on one (reaction, unsend, edit,
    /// read receipt).
    pub fn target(&self) -> Option<&MessageId> {
        match self {
            Self::Reaction { target, .. } | Self::Unsend { target } | Self::Edit { target, .. } => {
                Some(target)
            }
            Self::Seen { up_to } => Some(up_to),
            _ => None,
        }
    }

    /// Whether this body shows in the chat as a message of its own (text, reply, shared
    /// post, photo, or a kind from a newer version); the others change the chat.
    pub fn is_shown(&self) -> bool {
        matches!(
            self,
            Self::Text(_)
                | Self::Reply { .. }
                | Self::SharedPost { .. }
                | Self::Photo { .. }
                | Self::Unsupported { .. }
        )
    }

    /// Whether the text is 1–3 emoji and nothing else, to be shown large.
    pub fn is_emoji_only(&self) -> bool {
        matches!(self, Self::Text(_) | Self::Reply { .. }) && emoji::is_emoji_only(self.text())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Self::Text(t) => check_text(t, false),
            Self::Reply { text, quote } => {
                check_text(text, false)?;
                if emoji::graphemes(&quote.excerpt) > MAX_EXCERPT_GRAPHEMES + 1 {
                    return Err(ValidationError::TooLong {
                        field: "quote",
                        len: emoji::graphemes(&quote.excerpt),
                        max: MAX_EXCERPT_GRAPHEMES + 1,
                    });
                }
                Ok(())
            }
            Self::SharedPost { text, .. } | Self::Photo { text, .. } => check_text(text, true),
            Self::Edit { text, .. } => check_text(text, false),
            Self::Reaction { emoji, .. } => match emoji {
                Some(e) if !emoji::is_emoji(e) => {
                    Err(ValidationError::Inconsistent("a reaction is one emoji"))
                }
                _ => Ok(()),
            },
            Self::Unsend { .. } | Self::Seen { .. } | Self::Typing { .. } => Ok(()),
            // Its timestamps are checked against the clock where it is adopted.
            Self::GroupUpdate(update) => update.validate(),
            Self::Unsupported { .. } => Err(ValidationError::Inconsistent(
                "a body of an unknown kind cannot be sent",
            )),
        }
    }
}

/// Checks a message text: at most [`MAX_TEXT_BYTES`], and not blank unless `may_be_empty`.
fn check_text(t: &str, may_be_empty: bool) -> Result<(), ValidationError> {
    if t.len() > MAX_TEXT_BYTES {
        return Err(ValidationError::MessageTooLarge {
            size: t.len(),
            max: MAX_TEXT_BYTES,
        });
    }
    if !may_be_empty && t.trim().is_empty() {
        return Err(ValidationError::Inconsistent("message is empty"));
    }
    Ok(())
}

/// The plaintext of one direct message, sealed into an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectMessage {
    /// Sender-chosen id.
    pub id: MessageId,
    /// The sender's clock (Unix ms), strictly increasing per sender and conversation: it
    /// orders the conversation as the sender sent it.
    pub sent_at: u64,
    /// The content.
    pub body: MessageBody,
}

/// A [`DirectMessage`] as encoded before sealing: the body as its kind and bytes, then
/// padding.
#[derive(Serialize, Deserialize)]
struct WireMessage {
    id: MessageId,
    sent_at: u64,
    kind: u32,
    body: Vec<u8>,
    padding: Vec<u8>,
}

/// The first layout of a message's plaintext (text only, no padding), still accepted.
#[derive(Deserialize)]
struct FirstLayout {
    id: MessageId,
    sent_at: u64,
    body: FirstLayoutBody,
}

#[derive(Deserialize)]
enum FirstLayoutBody {
    Text(String),
}

impl DirectMessage {
    /// Checks the content's limits.
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.body.validate()
    }

    /// The bytes to seal: the versioned encoding, padded to a multiple of
    /// [`PADDING_BLOCK`].
    pub fn to_plaintext(&self) -> Vec<u8> {
        let mut wire = WireMessage {
            id: self.id,
            sent_at: self.sent_at,
            kind: self.body.kind(),
            body: encoding::encode_body(&self.body),
            padding: Vec::new(),
        };
        let unpadded = encode(&wire).len();
        let mut target = unpadded.div_ceil(PADDING_BLOCK) * PADDING_BLOCK;
        loop {
            // The padding's length prefix grows from one byte to three at 251.
            let gap = target - unpadded;
            for pad in [gap, gap.saturating_sub(2)] {
                wire.padding = vec![0; pad];
                let bytes = encode(&wire);
                if bytes.len() == target {
                    return bytes;
                }
            }
            target += PADDING_BLOCK;
        }
    }

    /// The plaintext a newer version would send for a body of kind `kind` made of `bytes`
    /// (unpadded), for tests of how this version treats kinds it does not know.
    #[doc(hidden)]
    pub fn unknown_kind_plaintext(id: MessageId, sent_at: u64, kind: u32, bytes: &[u8]) -> Vec<u8> {
        encode(&WireMessage {
            id,
            sent_at,
            kind,
            body: bytes.to_vec(),
            padding: Vec::new(),
        })
    }

    /// Decodes a message's plaintext (of at most `max` bytes). A body of a kind this
    /// version does not know decodes as [`MessageBody::Unsupported`]; one of a known kind
    /// must decode as that kind.
    pub fn from_plaintext(bytes: &[u8], max: usize) -> Result<Self, DecodeError> {
        let wire = match decode::<WireMessage>(bytes, max) {
            Ok(w) => w,
            Err(e) => {
                return match decode::<FirstLayout>(bytes, max) {
                    Ok(FirstLayout {
                        id,
                        sent_at,
                        body: FirstLayoutBody::Text(t),
                    }) => Ok(Self {
                        id,
                        sent_at,
                        body: MessageBody::Text(t),
                    }),
                    Err(_) => Err(e),
                }
            }
        };
        let body = if wire.kind == UNSUPPORTED_KIND || wire.kind > LAST_KIND {
            MessageBody::Unsupported { kind: wire.kind }
        } else {
            let body: MessageBody = encoding::decode_body(&wire.body)?;
            if body.kind() != wire.kind {
                return Err(DecodeError::Malformed("kind and body disagree".into()));
            }
            body
        };
        Ok(Self {
            id: wire.id,
            sent_at: wire.sent_at,
            body,
        })
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
    /// The recipient does not (yet) count the sender as a member of the group the message
    /// is for; try later (the roster that adds them may still be on its way).
    NotAMember,
    /// The recipient is not in the group now (it left or was removed; a roster adding it
    /// again may be on its way); try later.
    LeftGroup,
}

impl DmRejection {
    /// Whether sending the same envelope later may succeed.
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Unavailable | Self::NotAMember | Self::LeftGroup
        )
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
            Self::NotAMember => {
                "the recipient does not count you as a member of the group yet; retrying later"
            }
            Self::LeftGroup => "the recipient is not in the group (now); retrying later",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_and_round_trip() {
        let mut m = DirectMessage {
            id: MessageId([7; 16]),
            sent_at: 1,
            body: MessageBody::Text("hi 👋".into()),
        };
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(
            DirectMessage::from_plaintext(&m.to_plaintext(), 10_000),
            Ok(m.clone())
        );
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

    fn message(body: MessageBody) -> DirectMessage {
        DirectMessage {
            id: MessageId([9; 16]),
            sent_at: 1_700_000_000_000,
            body,
        }
    }

    #[test]
    fn every_kind_round_trips_padded_to_a_block() {
        let bodies = [
            MessageBody::Text("hi".into()),
            MessageBody::Reply {
                text: "yes".into(),
                quote: Quote {
                    id: MessageId([1; 16]),
                    author: libp2p_identity::Keypair::ed25519_from_bytes([7u8; 32])
                        .expect("seed")
                        .public()
                        .to_peer_id(),
                    excerpt: "are you…".into(),
                },
            },
            MessageBody::Reaction {
                target: MessageId([1; 16]),
                emoji: Some("🔥".into()),
            },
            MessageBody::Unsend {
                target: MessageId([1; 16]),
            },
            MessageBody::Edit {
                target: MessageId([1; 16]),
                text: "fixed".into(),
            },
            MessageBody::Seen {
                up_to: MessageId([1; 16]),
            },
            MessageBody::Typing { active: true },
        ];
        for body in bodies {
            let m = message(body);
            let bytes = m.to_plaintext();
            assert_eq!(bytes.len() % PADDING_BLOCK, 0, "{:?}", m.body);
            assert_eq!(DirectMessage::from_plaintext(&bytes, 100_000), Ok(m));
        }
        // Every length pads exactly, across the padding prefix's growth at 251 bytes.
        for n in 1..1200 {
            let bytes = message(MessageBody::Text("x".repeat(n))).to_plaintext();
            assert_eq!(bytes.len() % PADDING_BLOCK, 0, "{n}");
        }
    }

    #[test]
    fn a_reaction_an_edit_and_a_text_of_one_length_are_the_same_size() {
        let target = MessageId([1; 16]);
        let sizes: Vec<usize> = [
            MessageBody::Text("ok!".into()),
            MessageBody::Reaction {
                target,
                emoji: Some("❤️".into()),
            },
            MessageBody::Edit {
                target,
                text: "ok!".into(),
            },
            MessageBody::Seen { up_to: target },
            MessageBody::Typing { active: false },
        ]
        .into_iter()
        .map(|b| message(b).to_plaintext().len())
        .collect();
        assert!(sizes.iter().all(|s| *s == sizes[0]), "{sizes:?}");
    }

    #[test]
    fn an_unknown_kind_decodes_as_unsupported_and_a_known_one_must_match() {
        let future = WireMessage {
            id: MessageId([3; 16]),
            sent_at: 5,
            kind: 42,
            body: vec![1, 2, 3],
            padding: vec![],
        };
        let m = DirectMessage::from_plaintext(&encode(&future), 1000).expect("decodes");
        assert_eq!(m.body, MessageBody::Unsupported { kind: 42 });
        assert!(m.body.is_shown());
        assert!(m.validate().is_err(), "never sent");
        let lying = WireMessage {
            kind: 4,
            body: encoding::encode_body(&MessageBody::Text("x".into())),
            ..future
        };
        assert!(DirectMessage::from_plaintext(&encode(&lying), 1000).is_err());
    }

    #[test]
    fn the_first_layout_still_decodes() {
        #[derive(Serialize)]
        enum Body {
            Text(String),
        }
        let old = encode(&(MessageId([4; 16]), 7u64, Body::Text("old".into())));
        assert_eq!(
            DirectMessage::from_plaintext(&old, 1000),
            Ok(DirectMessage {
                id: MessageId([4; 16]),
                sent_at: 7,
                body: MessageBody::Text("old".into()),
            })
        );
    }

    #[test]
    fn reactions_are_one_emoji_and_emoji_only_texts_are_marked() {
        let react = |e: &str| {
            message(MessageBody::Reaction {
                target: MessageId([1; 16]),
                emoji: Some(e.into()),
            })
            .validate()
        };
        assert_eq!(react("👍🏽"), Ok(()));
        assert!(react("🔥🔥").is_err());
        assert!(react("no").is_err());
        assert!(MessageBody::Text("🔥🔥".into()).is_emoji_only());
        assert!(!MessageBody::Text("🔥 ok".into()).is_emoji_only());
    }
}
