//! The JSON bodies of the local API that are not library views ([`crate::views`] are sent as
//! they are). Photos travel as base64 inside JSON; ids as lowercase hex; peers as their
//! `PeerId` strings.

use paperplane_protocol::{PeerId, RecordId};
use serde::{Deserialize, Deserializer, Serialize};

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
