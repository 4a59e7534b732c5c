//! Path parameters, checked against the same shapes the OpenAPI document gives them: a request
//! whose parameter does not have its documented shape is a 400 before the node is asked
//! anything, and one that has it is never refused for its shape.
//!
//! Each parameter is an extractor (it reads the route's one path segment) and describes
//! itself to the document ([`utoipa::IntoParams`]), from one set of constants.

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};
use paperplane_protocol::{BlobHash, MessageId};
use utoipa::openapi::{
    path::{Parameter, ParameterBuilder, ParameterIn},
    Required,
};

use super::{error::ApiError, schema};

/// A peer reference: a peer id, `@handle` or bare handle (`a-z 0-9 . _`, no leading, trailing
/// or doubled period).
pub const PEER_PATTERN: &str = r"^(@?[a-z0-9_](\.?[a-z0-9_])*|12D3KooW[1-9A-HJ-NP-Za-km-z]{44})$";
/// Longest peer reference (a peer id is 52 characters).
pub const PEER_MAX_LEN: usize = 52;
/// A post or comment id, or a prefix of one of at least 6 hex digits.
pub const RECORD_PATTERN: &str = "^[0-9a-f]{6,64}$";
/// A message id: 32 hex digits.
pub const MESSAGE_ID_PATTERN: &str = "^[0-9a-f]{32}$";
/// A photo's hash: 64 hex digits of its SHA-256.
pub const HASH_PATTERN: &str = "^[0-9a-f]{64}$";
/// A peer id as this network uses them (ed25519 keys).
pub const PEER_ID_PATTERN: &str = "^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$";

/// Whether `s` has the shape [`PEER_PATTERN`] (and at most [`PEER_MAX_LEN`] characters).
pub fn is_peer_ref(s: &str) -> bool {
    if s.is_empty() || s.len() > PEER_MAX_LEN {
        return false;
    }
    if is_peer_id(s) {
        return true;
    }
    let handle = s.strip_prefix('@').unwrap_or(s);
    !handle.is_empty()
        && handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        && !handle.starts_with('.')
        && !handle.ends_with('.')
        && !handle.contains("..")
}

/// Whether `s` has the shape [`PEER_ID_PATTERN`].
pub fn is_peer_id(s: &str) -> bool {
    s.strip_prefix("12D3KooW").is_some_and(|tail| {
        tail.len() == 44
            && tail
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'))
    })
}

/// Whether `s` is `min..=max` lowercase hex digits.
fn is_lower_hex(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The route's one path segment, or a 400.
async fn segment(parts: &mut Parts) -> Result<String, ApiError> {
    let Path(value) = Path::<String>::from_request_parts(parts, &()).await?;
    Ok(value)
}

/// One path parameter for the document.
fn parameter(name: &str, description: &str, schema: utoipa::openapi::Object) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

macro_rules! peer_param {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        pub(crate) struct $name(pub(crate) String);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;
            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
                let value = segment(parts).await?;
                if is_peer_ref(&value) {
                    Ok(Self(value))
                } else {
                    Err(ApiError::bad_request(format!(
                        "{value:?} is not a peer reference: give a peer id (12D3KooW…) or an \
                         @handle (a-z, 0-9, '.' and '_')"
                    )))
                }
            }
        }

        impl utoipa::IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                vec![parameter(
                    $field,
                    "A peer id, or a handle with or without its `@`.",
                    schema::text(1, PEER_MAX_LEN, PEER_PATTERN),
                )]
            }
        }
    };
}

peer_param!(
    /// `{peer}`: whom a route is about.
    PeerParam,
    "peer"
);
peer_param!(
    /// `{reference}`: the peer reference to resolve.
    ReferenceParam,
    "reference"
);

/// `{id}` of a post or comment: its hex id or a unique prefix of at least 6 digits.
pub(crate) struct RecordParam(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for RecordParam {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let value = segment(parts).await?;
        if is_lower_hex(&value, 6, 64) {
            Ok(Self(value))
        } else {
            Err(ApiError::bad_request(format!(
                "{value:?} is not an id: give 6 to 64 lowercase hex digits (a unique prefix is \
                 enough)"
            )))
        }
    }
}

impl utoipa::IntoParams for RecordParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter(
            "id",
            "The id in hex, or a unique prefix of it of at least 6 digits.",
            schema::text(6, 64, RECORD_PATTERN),
        )]
    }
}

/// `{id}` of a message: 32 hex digits.
pub(crate) struct MessageIdParam(pub(crate) MessageId);

impl<S: Send + Sync> FromRequestParts<S> for MessageIdParam {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let value = segment(parts).await?;
        message_id(&value).map(Self)
    }
}

/// Parses a message id of the documented shape.
pub(crate) fn message_id(value: &str) -> Result<MessageId, ApiError> {
    value
        .parse()
        .ok()
        .filter(|_| is_lower_hex(value, 32, 32))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{value:?} is not a message id (32 lowercase hex digits)"
            ))
        })
}

impl utoipa::IntoParams for MessageIdParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter(
            "id",
            "The message's id.",
            schema::text(32, 32, MESSAGE_ID_PATTERN),
        )]
    }
}

/// `{id}` of a message given by its 32 hex digits or a unique prefix of at least 6 (as the
/// CLI shows them); handlers resolve it with [`crate::Node::resolve_message`].
pub(crate) struct MessageRefParam(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for MessageRefParam {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let value = segment(parts).await?;
        if is_lower_hex(&value, 6, 32) {
            Ok(Self(value))
        } else {
            Err(ApiError::bad_request(format!(
                "{value:?} is not a message id: give 6 to 32 lowercase hex digits (a unique \
                 prefix is enough)"
            )))
        }
    }
}

impl utoipa::IntoParams for MessageRefParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter(
            "id",
            "The message's id in hex, or a unique prefix of it of at least 6 digits.",
            schema::text(6, 32, "^[0-9a-f]{6,32}$"),
        )]
    }
}

/// A group reference: its id (32 hex digits), a unique prefix of at least 6, or its name
/// (anything not blank).
pub const GROUP_PATTERN: &str =
    r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Longest group reference (a group's name has at most 100 characters).
pub const GROUP_MAX_CHARS: usize = 100;

/// Whether `s` has the shape [`GROUP_PATTERN`] (and 1 to [`GROUP_MAX_CHARS`] characters).
pub fn is_group_ref(s: &str) -> bool {
    let n = s.chars().count();
    (1..=GROUP_MAX_CHARS).contains(&n) && super::types::is_not_blank(s)
}

/// Whether `s` is a message reference: 6 to 32 lowercase hex digits.
pub fn is_message_ref(s: &str) -> bool {
    is_lower_hex(s, 6, 32)
}

/// `{group}`: a group by its id, a unique prefix of it, or its name; handlers resolve it
/// with [`crate::Node::resolve_group`].
pub(crate) struct GroupParam(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for GroupParam {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let value = segment(parts).await?;
        if is_group_ref(&value) {
            Ok(Self(value))
        } else {
            Err(ApiError::bad_request(format!(
                "{value:?} is not a group reference: give its id, a prefix of at least 6 hex \
                 digits, or its name (at most {GROUP_MAX_CHARS} characters)"
            )))
        }
    }
}

impl utoipa::IntoParams for GroupParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter(
            "group",
            "The group: its id (32 hex digits), a unique prefix of it of at least 6 digits, \
             or its exact name (URL-encoded).",
            schema::text(1, GROUP_MAX_CHARS, GROUP_PATTERN),
        )]
    }
}

/// `{hash}` of a photo: 64 hex digits.
pub(crate) struct HashParam(pub(crate) BlobHash);

impl<S: Send + Sync> FromRequestParts<S> for HashParam {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let value = segment(parts).await?;
        value
            .parse()
            .ok()
            .filter(|_| is_lower_hex(&value, 64, 64))
            .map(Self)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{value:?} is not a photo hash (64 lowercase hex digits of its SHA-256)"
                ))
            })
    }
}

impl utoipa::IntoParams for HashParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![parameter(
            "hash",
            "The photo's SHA-256 in hex.",
            schema::text(64, 64, HASH_PATTERN),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_references_have_the_documented_shape() {
        let id = paperplane_crypto::Identity::from_seed([3; 32])
            .peer_id()
            .to_string();
        assert!(is_peer_id(&id), "{id}");
        for good in [id.as_str(), "@bob", "bob", "b.o_b", "@a1", "_"] {
            assert!(is_peer_ref(good), "{good}");
        }
        let long = "a".repeat(PEER_MAX_LEN + 1);
        for bad in [
            "",
            "@",
            "@.bob",
            "bob.",
            "b..b",
            "Bob",
            " bob",
            "bob!",
            "@@bob",
            &long,
            "12D3KooW0000000000000000000000000000000000000000000",
        ] {
            assert!(!is_peer_ref(bad), "{bad}");
        }
    }

    #[test]
    fn ids_are_lowercase_hex_of_their_length() {
        assert!(is_lower_hex("abcdef", 6, 64));
        assert!(!is_lower_hex("abcde", 6, 64));
        assert!(!is_lower_hex("ABCDEF", 6, 64));
        assert!(!is_lower_hex(&"a".repeat(65), 6, 64));
        assert!(message_id(&"0f".repeat(16)).is_ok());
        assert!(message_id(&"0F".repeat(16)).is_err());
        assert!(message_id(&format!(" {}", "0f".repeat(16))).is_err());
    }
}
