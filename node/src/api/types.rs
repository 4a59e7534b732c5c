//! The JSON bodies of the local API that are not library views ([`crate::views`] are sent as
//! they are). Photos travel as base64 inside JSON; ids as lowercase hex; peers as their
//! `PeerId` strings.

use paperplane_protocol::{PeerId, RecordId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    body::{some, some_integer},
    schema::{PeerIdText, PhotoBase64, RecordIdText},
};
use crate::views::Status;

/// A text that must not be blank: it holds a character that is not white space. White space
/// is Unicode's `White_Space`, as in the records' own check (`str::trim`), spelt out: `\S`
/// would not do, as regex engines disagree on what `\s` is (ECMA-262's, which JSON Schema
/// names, leaves out U+0085 and adds U+FEFF).
pub const NOT_BLANK_PATTERN: &str =
    r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// Whether `text` holds a character that is not white space (see [`NOT_BLANK_PATTERN`]).
pub fn is_not_blank(text: &str) -> bool {
    text.chars().any(|c| !c.is_whitespace())
}

/// `PUT /v1/profile`: the fields to change; an absent field stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// New display name.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, max_length = 64)]
    pub display_name: Option<String>,
    /// New bio.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, max_length = 150)]
    pub bio: Option<String>,
    /// New profile photo: a JPEG, PNG or WebP of at most 8 MiB, base64 (standard alphabet,
    /// padded).
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 11184812,
        pattern = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
    )]
    pub avatar_base64: Option<String>,
    /// Absent: unchanged; `null`: a personal account; a string: a business account in that
    /// category (not blank).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")]
    pub business_category: Option<Option<String>>,
}

/// Tells a field that is present (even as `null`) from an absent one (`default` gives `None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /v1/posts`: a new post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// The caption (may be empty).
    #[serde(default)]
    #[schema(max_length = 2200)]
    pub caption: String,
    /// 1–10 photos (JPEG, PNG or WebP, at most 8 MiB each), base64.
    #[schema(value_type = Vec<PhotoBase64>, min_items = 1, max_items = 10)]
    pub photos_base64: Vec<String>,
}

/// `POST /v1/posts/{id}/comments`: a new comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// The text (not blank).
    #[schema(
        min_length = 1,
        max_length = 2200,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub text: String,
}

/// `POST /v1/connect`: a peer to dial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    /// A multiaddr with a transport (`/ip4/…/tcp/…` or `/ip4/…/udp/…/quic-v1`, or the same
    /// with `/ip6/`), ideally ending in `/p2p/<peer-id>`; or a bare peer id, looked up in the
    /// DHT.
    #[schema(
        min_length = 1,
        max_length = 1024,
        pattern = "^(/|12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$)"
    )]
    pub addr: String,
    /// How long to wait for the connection, in ms (1 to 60,000; default 20,000). Past it the
    /// answer is 504.
    #[serde(
        default,
        deserialize_with = "some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 1, maximum = 60000)]
    pub timeout_ms: Option<u64>,
}

impl ConnectRequest {
    /// The wait when the request gives none.
    pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;
    /// The longest wait a request may ask for.
    pub const MAX_TIMEOUT_MS: u64 = 60_000;
    /// Longest address accepted.
    pub const MAX_ADDR_CHARS: usize = 1024;

    /// A request to dial `addr` with the default wait.
    pub fn new(addr: impl Into<String>) -> Self {
        Self {
            addr: addr.into(),
            timeout_ms: None,
        }
    }
}

/// `POST /v1/connect`: whom the node is now connected to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Connected {
    /// The peer at that address.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
}

/// The answer to a request that created a post or comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Created {
    /// The new record's id.
    #[schema(value_type = RecordIdText)]
    pub id: RecordId,
}

/// `GET /v1/resolve/{ref}`: the peer a reference names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Resolved {
    /// The peer.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Its short fingerprint (the last characters of the id).
    pub fingerprint: String,
    /// Its handle, if its profile is known.
    pub handle: Option<String>,
}

/// `POST`/`DELETE /v1/follow/{peer}`: the follow relation after the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowState {
    /// The followed (or unfollowed) peer.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Its handle, if its profile is known.
    pub handle: Option<String>,
    /// Whether the user now follows them.
    pub following: bool,
}

/// `POST`/`DELETE /v1/posts/{id}/like`: the like after the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LikeState {
    /// The post.
    #[schema(value_type = RecordIdText)]
    pub post: RecordId,
    /// Whether the user now likes it.
    pub liked: bool,
}

/// `DELETE /v1/comments/{id}`: the comment that was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    /// Its id.
    #[schema(value_type = RecordIdText)]
    pub id: RecordId,
    /// Always true.
    pub deleted: bool,
}

/// `GET /v1/feed` query string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// How many posts at most (default 50).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<usize>,
}

impl FeedQuery {
    /// Posts returned when no limit is given.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The largest limit accepted.
    pub const MAX_LIMIT: usize = 1000;

    /// The limit asked for, or a 400.
    pub(crate) fn limit(&self) -> Result<usize, super::error::ApiError> {
        let limit = self.limit.unwrap_or(Self::DEFAULT_LIMIT);
        if (1..=Self::MAX_LIMIT).contains(&limit) {
            Ok(limit)
        } else {
            Err(super::error::ApiError::bad_request(format!(
                "limit must be between 1 and {}",
                Self::MAX_LIMIT
            )))
        }
    }
}

/// `PUT /v1/mailboxes`: the nodes that keep the user's mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMailboxes {
    /// At most four peers (ids or `@handle`s), not the user; empty to name none.
    #[schema(max_items = 4, value_type = Vec<super::group_types::PeerRefText>)]
    pub mailboxes: Vec<String>,
}

/// The answer to `POST /v1/mailboxes/fetch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailFetch {
    /// How many mailboxes were asked.
    pub asked: usize,
}

/// The answer to `POST /v1/bootstrap`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bootstrapped {
    /// Peers in the DHT routing table after the walk.
    pub dht_peers: usize,
}

/// The answer to `POST /v1/web/link`: a one-time link that signs a browser in to the web app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebLink {
    /// The link (`http://<api address>/signin?code=…`). It works once, within
    /// `expires_in_seconds`; treat it like the token until then.
    pub url: String,
    /// How long the link works.
    pub expires_in_seconds: u64,
}

/// The answer to `POST /v1/web/signout`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignedOut {
    /// True if the request's session cookie named an open session, now ended.
    pub ended: bool,
}

/// `GET /v1/status`: the node's [`Status`] and the size of its outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// Peer id, handle, addresses, peers.
    #[serde(flatten)]
    pub node: Status,
    /// Messages durably queued and not yet acknowledged by their recipients.
    pub outbox: usize,
}

/// `POST /v1/messages`: a direct message to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// The recipient: a peer id or `@handle`.
    #[schema(
        min_length = 1,
        max_length = 52,
        pattern = r"^(@?[a-z0-9_](\.?[a-z0-9_])*|12D3KooW[1-9A-HJ-NP-Za-km-z]{44})$"
    )]
    pub to: String,
    /// The text: not blank, at most 4,096 bytes of UTF-8 (so fewer than 4,096 characters
    /// when some are not ASCII).
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub text: String,
    /// How long to wait for the recipient's acknowledgement before answering, in ms (at most
    /// 24 h). Absent: a moment (1.5 s) if the recipient is connected, else no wait; 0: no
    /// wait.
    #[serde(
        default,
        deserialize_with = "some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 0, maximum = 86400000)]
    pub wait_ms: Option<u64>,
    /// The message this one answers (its id in hex, or a unique prefix of at least 6
    /// digits; it must be in the chat with `to`): the reply quotes it.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(
        nullable = false,
        min_length = 6,
        max_length = 32,
        pattern = "^[0-9a-f]{6,32}$"
    )]
    pub reply_to: Option<String>,
}

impl NewMessage {
    /// The wait for a connected recipient when the request gives none: "a moment"
    /// ([`crate::Wait::MOMENT`]).
    pub const DEFAULT_WAIT_MS: u64 = crate::Wait::MOMENT.as_millis() as u64;
    /// The longest wait a request may ask for (24 h).
    pub const MAX_WAIT_MS: u64 = 24 * 60 * 60 * 1000;

    /// The library's wait policy for this request: absent is [`crate::Wait::Moment`], 0 is
    /// [`crate::Wait::Queued`], anything else a wait of that many ms (at most
    /// [`NewMessage::MAX_WAIT_MS`]).
    pub fn wait(&self) -> Result<crate::Wait, String> {
        Self::wait_of(self.wait_ms)
    }

    /// The [`crate::Wait`] a request's `wait_ms` asks for.
    pub fn wait_of(wait_ms: Option<u64>) -> Result<crate::Wait, String> {
        match wait_ms {
            None => Ok(crate::Wait::Moment),
            Some(0) => Ok(crate::Wait::Queued),
            Some(ms) if ms <= Self::MAX_WAIT_MS => {
                Ok(crate::Wait::Up(std::time::Duration::from_millis(ms)))
            }
            Some(_) => Err(format!(
                "wait_ms must be at most {} (24 hours)",
                Self::MAX_WAIT_MS
            )),
        }
    }
}

/// `GET /v1/chats/{peer}` query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// How many messages at most (default 50).
    #[param(minimum = 1, maximum = 10000, nullable = false)]
    pub limit: Option<usize>,
    /// Only messages older than this one (its id, 32 hex digits): the next page back.
    #[param(
        nullable = false,
        min_length = 32,
        max_length = 32,
        pattern = "^[0-9a-f]{32}$"
    )]
    pub before: Option<String>,
}

impl ChatQuery {
    /// Messages returned when no limit is given.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The largest limit accepted.
    pub const MAX_LIMIT: usize = 10_000;
}

/// What became of a message request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Moved to the inbox.
    Accepted,
    /// Deleted with its messages.
    Declined,
}

/// `POST /v1/requests/{peer}/accept`, `DELETE /v1/requests/{peer}`: the request after the
/// decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestDecision {
    /// Whose request it was.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
    /// Accepted or declined.
    pub decision: Decision,
}

/// `POST`/`DELETE /v1/blocked/{peer}`: the block after the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockState {
    /// The peer.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
    /// Whether they are blocked now.
    pub blocked: bool,
}

/// `GET /v1/blocked`: one blocked peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockedPeer {
    /// The peer.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
}

/// `GET /v1/safety-number/{peer}`: the number both users compare to verify their keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SafetyNumber {
    /// The other user.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
    /// 60 decimal digits, the same on both sides.
    pub safety_number: String,
}

/// One peer an ambiguous `@handle` matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Candidate {
    /// The peer.
    #[schema(value_type = PeerIdText)]
    pub peer_id: PeerId,
    /// Its short fingerprint.
    pub fingerprint: String,
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in one line.
    pub error: String,
    /// For an ambiguous handle: every peer it matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blank_pattern_spells_out_unicode_white_space() {
        let listed = |c: char| {
            matches!(c, '\t'..='\r' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}'
                | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
        };
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(c.is_whitespace(), listed(c), "{:?}", c);
        }
        assert!(!is_not_blank(" \t\u{85}\u{3000}"));
        assert!(is_not_blank("\u{feff}"));
        assert!(is_not_blank("\u{1f}"));
    }

    #[test]
    fn business_category_tells_absent_from_null() {
        let absent: ProfilePatch = serde_json::from_str("{}").expect("parses");
        assert_eq!(absent.business_category, None);
        let null: ProfilePatch =
            serde_json::from_str(r#"{"business_category":null}"#).expect("parses");
        assert_eq!(null.business_category, Some(None));
        let set: ProfilePatch =
            serde_json::from_str(r#"{"business_category":"Bakery"}"#).expect("parses");
        assert_eq!(set.business_category, Some(Some("Bakery".into())));
        for patch in [absent, null, set] {
            let json = serde_json::to_string(&patch).expect("serializes");
            assert_eq!(
                serde_json::from_str::<ProfilePatch>(&json).expect("parses"),
                patch
            );
        }
        assert!(serde_json::from_str::<ProfilePatch>(r#"{"nmae":"x"}"#).is_err());
    }
}

/// `POST /v1/chats/{peer}/photos`: a photo to send in a chat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChatPhoto {
    /// The photo (JPEG, PNG or WebP, at most 8 MiB), base64.
    #[schema(value_type = PhotoBase64)]
    pub photo_base64: String,
    /// A caption (may be empty; at most 4,096 bytes of UTF-8).
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub text: String,
    /// How long to wait for the recipient's acknowledgement of the message before
    /// answering, in ms, as for [`NewMessage::wait_ms`].
    #[serde(
        default,
        deserialize_with = "some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 0, maximum = 86400000)]
    pub wait_ms: Option<u64>,
}

impl NewChatPhoto {
    /// The library's wait policy for this request, as for [`NewMessage::wait`].
    pub fn wait(&self) -> Result<crate::Wait, String> {
        NewMessage::wait_of(self.wait_ms)
    }
}
