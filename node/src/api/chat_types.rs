//! The JSON bodies of the chat routes beyond text: reactions, edits, shares, typing and the
//! read-receipt switches.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    body::{some, some_integer},
    schema::PeerIdText,
};
use crate::PeerId;

/// `POST /v1/messages/{id}/reactions`: the reaction to set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReaction {
    /// One emoji (`❤️`, `👍🏽`) or a shortcode (`:fire:`). Absent: ❤️ (a like). The same
    /// reaction as the user's current one takes it back.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, min_length = 1, max_length = 64)]
    pub emoji: Option<String>,
}

/// `PATCH /v1/messages/{id}`: the new text of one of the user's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageEdit {
    /// The new text: not blank, at most 4,096 bytes of UTF-8.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub text: String,
}

/// `POST /v1/shares`: a post to send into a chat with the paper plane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    /// The post: its hex id or a unique prefix of at least 6 digits.
    #[schema(min_length = 6, max_length = 64, pattern = "^[0-9a-f]{6,64}$")]
    pub post: String,
    /// The recipient: a peer id or `@handle`.
    #[schema(
        min_length = 1,
        max_length = 52,
        pattern = r"^(@?[a-z0-9_](\.?[a-z0-9_])*|12D3KooW[1-9A-HJ-NP-Za-km-z]{44})$"
    )]
    pub to: String,
    /// What to write with it (may be empty), at most 4,096 bytes of UTF-8.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub text: String,
    /// How long to wait for the recipient's acknowledgement, in ms (at most 24 h), as for
    /// a message.
    #[serde(
        default,
        deserialize_with = "some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 0, maximum = 86400000)]
    pub wait_ms: Option<u64>,
}

/// `POST /v1/chats/{peer}/typing`: whether the user is typing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypingState {
    /// Typing now (renew every few seconds while typing), or stopped.
    pub active: bool,
}

/// Whether a typing indicator was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TypingSent {
    /// False when read receipts are off for the chat, the chat is a request not yet
    /// accepted, the peer is blocked or not connected, or no session with them is up yet.
    pub sent: bool,
}

/// The global read-receipt switch (it covers typing indicators too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadReceipts {
    /// Whether read receipts and typing indicators are sent.
    pub on: bool,
}

/// One chat's read-receipt switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatReadReceipts {
    /// On, off, or `null` to follow the global switch.
    pub on: Option<bool>,
}

/// A chat's read-receipt switch as it applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChatReceiptsState {
    /// The other person.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Whether receipts and typing go to them now.
    pub on: bool,
}
