//! The JSON bodies, path parameters and query strings of the group routes
//! (`/v1/groups/…`).

use paperplane_protocol::group::{MAX_GROUP_MEMBERS, MAX_GROUP_NAME_CHARS};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    body::{some, some_integer},
    error::ApiError,
    params,
};

/// `POST /v1/groups`: a new group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// The group's name: not blank, at most 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
    /// The other members (1–255): peer ids or `@handle`s of people whose messaging keys
    /// this node holds. The user is a member and the group's admin.
    #[schema(min_items = 1, max_items = 255, value_type = Vec<PeerRefText>)]
    pub members: Vec<String>,
}

/// `POST /v1/groups/{group}/members`: people to add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupMembers {
    /// Peer ids or `@handle`s (1–255).
    #[schema(min_items = 1, max_items = 255, value_type = Vec<PeerRefText>)]
    pub peers: Vec<String>,
}

/// `POST /v1/groups/{group}/admins`: a member to make an admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupAdmin {
    /// A peer id or `@handle`.
    #[schema(value_type = PeerRefText)]
    pub peer: String,
}

/// `PATCH /v1/groups/{group}`: the group's new name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRename {
    /// Not blank, at most 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
}

/// `POST /v1/groups/{group}/messages`: a text to send to every member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupMessage {
    /// The text: not blank, at most 4,096 bytes of UTF-8.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub text: String,
    /// The group message this one answers (its id in hex, or a unique prefix of at least 6
    /// digits): the reply quotes it.
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
    /// How long to wait until every member's node acknowledged it, in ms (at most 24 h).
    /// Absent or 0: no wait (the answer says `pending` until then).
    #[serde(
        default,
        deserialize_with = "some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 0, maximum = 86400000)]
    pub wait_ms: Option<u64>,
}

/// `POST /v1/groups/{group}/shares`: a post to send into a group with the paper plane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupShare {
    /// The post: its hex id or a unique prefix of at least 6 digits.
    #[schema(min_length = 6, max_length = 64, pattern = "^[0-9a-f]{6,64}$")]
    pub post: String,
    /// What to write with it (may be empty), at most 4,096 bytes of UTF-8.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub text: String,
}

/// `GET /v1/groups/{group}/messages` and `POST /v1/groups/{group}/read` query string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupChatQuery {
    /// How many of the newest messages at most (default 50).
    #[param(minimum = 1, maximum = 10000, nullable = false)]
    pub limit: Option<usize>,
}

impl GroupChatQuery {
    /// Messages returned when no limit is given.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The largest limit accepted.
    pub const MAX_LIMIT: usize = 10_000;

    /// The limit asked for, or a 400.
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        let limit = self.limit.unwrap_or(Self::DEFAULT_LIMIT);
        if (1..=Self::MAX_LIMIT).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::bad_request(format!(
                "limit must be between 1 and {}",
                Self::MAX_LIMIT
            )))
        }
    }
}

/// `{group}` and `{peer}`: a group and one of its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupMemberPath {
    /// The group: its id (32 hex digits), a unique prefix of it of at least 6, or its name.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub group: String,
    /// A peer id, or a handle with or without its `@`.
    #[param(
        min_length = 1,
        max_length = 52,
        pattern = r"^(@?[a-z0-9_](\.?[a-z0-9_])*|12D3KooW[1-9A-HJ-NP-Za-km-z]{44})$"
    )]
    pub peer: String,
}

/// `{group}` and `{id}`: a group and one of its messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupMessagePath {
    /// The group: its id (32 hex digits), a unique prefix of it of at least 6, or its name.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub group: String,
    /// The message's id in hex, or a unique prefix of it of at least 6 digits.
    #[param(min_length = 6, max_length = 32, pattern = "^[0-9a-f]{6,32}$")]
    pub id: String,
}

/// A peer reference as a body gives it: a peer id or a handle with or without its `@`.
pub struct PeerRefText;

impl utoipa::PartialSchema for PeerRefText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        let mut object = super::schema::text(1, params::PEER_MAX_LEN, params::PEER_PATTERN);
        object.description = Some("A peer id, or a handle with or without its `@`.".into());
        utoipa::openapi::Schema::Object(object).into()
    }
}

impl ToSchema for PeerRefText {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("PeerRef")
    }
}

/// A 400 unless `name` is a group name: not blank, at most 100 characters.
pub(crate) fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let chars = name.chars().count();
    if !super::types::is_not_blank(name) {
        return Err(ApiError::bad_request(format!("{field} is empty")));
    }
    if chars > MAX_GROUP_NAME_CHARS {
        return Err(ApiError::bad_request(format!(
            "{field} has {chars} characters; at most {MAX_GROUP_NAME_CHARS} are allowed"
        )));
    }
    Ok(())
}

/// A 400 unless `peers` are 1–255 peer references of the documented shape.
pub(crate) fn check_peers(field: &str, peers: &[String]) -> Result<(), ApiError> {
    if peers.is_empty() || peers.len() >= MAX_GROUP_MEMBERS {
        return Err(ApiError::bad_request(format!(
            "{field}: give 1 to {} peers",
            MAX_GROUP_MEMBERS - 1
        )));
    }
    for p in peers {
        check_peer(field, p)?;
    }
    Ok(())
}

/// A 400 unless `peer` is a peer reference of the documented shape.
pub(crate) fn check_peer(field: &str, peer: &str) -> Result<(), ApiError> {
    if params::is_peer_ref(peer) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{field}: {peer:?} is not a peer id or @handle"
        )))
    }
}

/// A 400 unless `group` is a group reference of the documented shape (not blank, at most
/// 100 characters).
pub(crate) fn check_group_ref(group: &str) -> Result<(), ApiError> {
    if params::is_group_ref(group) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{group:?} is not a group reference: give its id, a prefix of at least 6 hex \
             digits, or its name"
        )))
    }
}
