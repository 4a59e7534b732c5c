//! The local API's request bodies and query strings for the business and conversation
//! tools (shared by the server and its client).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::FaqView;

/// `PUT /v1/quick-replies/{name}`: the text to save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickReplyText {
    /// The text, not blank, at most 1,024 characters; emoji shortcodes (`:wave:`) are
    /// expanded, and the result must fit a message (4,096 bytes).
    #[schema(
        min_length = 1,
        max_length = 1024,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub text: String,
}

/// `POST /v1/quick-replies/{name}/send`: to whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickReplySend {
    /// The recipient: a peer id or `@handle`.
    #[schema(
        min_length = 1,
        max_length = 52,
        pattern = r"^(@?[a-z0-9_](\.?[a-z0-9_])*|12D3KooW[1-9A-HJ-NP-Za-km-z]{44})$"
    )]
    pub to: String,
    /// How long to wait for the acknowledgement, in ms, as for `POST /v1/messages`.
    #[serde(
        default,
        deserialize_with = "crate::api::body::some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 0, maximum = 86400000)]
    pub wait_ms: Option<u64>,
}

/// `PUT /v1/away`: go away or come back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwayChange {
    /// True to go away, false to come back.
    pub away: bool,
    /// A new away text (absent: keep the last one): not blank, at most 1,024 characters, and
    /// it must fit a message (4,096 bytes) once emoji shortcodes are expanded.
    #[serde(
        default,
        deserialize_with = "crate::api::body::some",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 1024,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub text: Option<String>,
}

/// `PUT /v1/faq`: the questions and answers to publish (empty to remove them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqChange {
    /// At most 10 entries.
    #[schema(max_items = 10)]
    pub faq: Vec<FaqView>,
}

/// `GET /v1/search` query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The text to look for (case-insensitive), 1–200 characters.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub text: String,
    /// How many messages at most (default 50).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<usize>,
}

impl SearchQuery {
    /// Messages returned when no limit is given.
    pub const DEFAULT_LIMIT: usize = 50;
}

/// `{name}`: a quick reply's name in a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NamePath {
    /// 1–32 of `a-z 0-9 - _` (upper case folded).
    #[param(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub name: String,
}

/// `{label}`: a chat label in a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LabelPath {
    /// 1–32 of `a-z 0-9 - _` (upper case folded).
    #[param(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub label: String,
}

/// `{peer}` and `{label}`: a chat and one of its labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ChatLabelPath {
    /// A peer id, or a handle with or without its `@`.
    #[param(
        min_length = 1,
        max_length = 52,
        pattern = r"^(@?[a-z0-9_](\.?[a-z0-9_])*|12D3KooW[1-9A-HJ-NP-Za-km-z]{44})$"
    )]
    pub peer: String,
    /// 1–32 of `a-z 0-9 - _` (upper case folded).
    #[param(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub label: String,
}
