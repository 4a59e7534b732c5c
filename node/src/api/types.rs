//! The JSON bodies of the local API that are not library views ([`crate::views`] are sent as
//! they are). Photos travel as base64 inside JSON; ids as lowercase hex; peers as their
//! `PeerId` strings.

use paperplane_protocol::{PeerId, RecordId};
use serde::{Deserialize, Deserializer, Serialize};

use crate::views::Status;

/// `PUT /v1/profile`: the fields to change; an absent field stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New bio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// New profile photo, base64 (standard alphabet, padded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_base64: Option<String>,
    /// Absent: unchanged; `null`: a personal account; a string: a business account in that
    /// category.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// The caption (may be empty).
    #[serde(default)]
    pub caption: String,
    /// 1–10 photos (JPEG, PNG or WebP), base64.
    pub photos_base64: Vec<String>,
}

/// `POST /v1/posts/{id}/comments`: a new comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// The text.
    pub text: String,
}

/// `POST /v1/connect`: a peer to dial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    /// A multiaddr, ideally ending in `/p2p/<peer-id>`.
    pub addr: String,
}

/// `POST /v1/connect`: whom the node is now connected to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    /// The peer at that address.
    pub peer_id: PeerId,
}

/// The answer to a request that created a post or comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// The new record's id.
    pub id: RecordId,
}

/// `GET /v1/resolve/{ref}`: the peer a reference names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// The peer.
    pub peer_id: PeerId,
    /// Its short fingerprint (the last characters of the id).
    pub fingerprint: String,
    /// Its handle, if its profile is known.
    pub handle: Option<String>,
}

/// `POST`/`DELETE /v1/follow/{peer}`: the follow relation after the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowState {
    /// The followed (or unfollowed) peer.
    pub peer_id: PeerId,
    /// Its handle, if its profile is known.
    pub handle: Option<String>,
    /// Whether the user now follows them.
    pub following: bool,
}

/// `POST`/`DELETE /v1/posts/{id}/like`: the like after the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikeState {
    /// The post.
    pub post: RecordId,
    /// Whether the user now likes it.
    pub liked: bool,
}

/// `DELETE /v1/comments/{id}`: the comment that was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// Its id.
    pub id: RecordId,
    /// Always true.
    pub deleted: bool,
}

/// `GET /v1/feed` query string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// How many posts at most (default [`FeedQuery::DEFAULT_LIMIT`], at most
    /// [`FeedQuery::MAX_LIMIT`]).
    pub limit: Option<usize>,
}

impl FeedQuery {
    /// Posts returned when no limit is given.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The largest limit accepted.
    pub const MAX_LIMIT: usize = 1000;
}

/// `GET /v1/status`: the node's [`Status`] and the size of its outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Peer id, handle, addresses, peers.
    #[serde(flatten)]
    pub node: Status,
    /// Messages durably queued and not yet acknowledged by their recipients.
    pub outbox: usize,
}

/// `POST /v1/messages`: a direct message to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// The recipient: a peer id or `@handle`.
    pub to: String,
    /// The text (at most 4,096 bytes of UTF-8).
    pub text: String,
    /// How long to wait for the recipient's acknowledgement before answering, in ms (at most
    /// [`NewMessage::MAX_WAIT_MS`]). Absent: [`NewMessage::DEFAULT_WAIT_MS`] if the
    /// recipient is connected, else no wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
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
        match self.wait_ms {
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatQuery {
    /// How many messages at most (default [`ChatQuery::DEFAULT_LIMIT`], at most
    /// [`ChatQuery::MAX_LIMIT`]).
    pub limit: Option<usize>,
    /// Only messages older than this one (its id, 32 hex digits): the next page back.
    pub before: Option<String>,
}

impl ChatQuery {
    /// Messages returned when no limit is given.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The largest limit accepted.
    pub const MAX_LIMIT: usize = 10_000;
}

/// What became of a message request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Moved to the inbox.
    Accepted,
    /// Deleted with its messages.
    Declined,
}

/// `POST /v1/requests/{peer}/accept`, `DELETE /v1/requests/{peer}`: the request after the
/// decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDecision {
    /// Whose request it was.
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
    /// Accepted or declined.
    pub decision: Decision,
}

/// `POST`/`DELETE /v1/blocked/{peer}`: the block after the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockState {
    /// The peer.
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
    /// Whether they are blocked now.
    pub blocked: bool,
}

/// `GET /v1/blocked`: one blocked peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedPeer {
    /// The peer.
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
}

/// `GET /v1/safety-number/{peer}`: the number both users compare to verify their keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyNumber {
    /// The other user.
    pub peer_id: PeerId,
    /// Their handle, if their profile is known.
    pub handle: Option<String>,
    /// 60 decimal digits, the same on both sides.
    pub safety_number: String,
}

/// One peer an ambiguous `@handle` matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The peer.
    pub peer_id: PeerId,
    /// Its short fingerprint.
    pub fingerprint: String,
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
