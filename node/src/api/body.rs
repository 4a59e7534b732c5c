//! Request bodies, parsed strictly against their documented shape.
//!
//! serde's derive is lenient in ways a JSON API must not be: a struct also deserializes from
//! a JSON array (field by field, in order) and an `Option` field takes `null`. [`StrictJson`]
//! accepts a body only if it is `Content-Type: application/json` (else 415), a JSON object
//! (else 422), well-formed JSON (else 400) and of the right shape: unknown fields, `null` for
//! a non-nullable field and wrong types are 422. The request types pair it with
//! `#[serde(deny_unknown_fields)]` and [`some`] for optional fields.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{header, HeaderMap, StatusCode},
};
use serde::{de::DeserializeOwned, Deserialize, Deserializer};

use super::error::ApiError;

/// A JSON object body of type `T`, parsed strictly (see the module docs).
pub(crate) struct StrictJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON, sent with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.body_text())
            } else {
                ApiError::bad_request(e.body_text())
            }
        })?;
        parse(&bytes).map(Self)
    }
}

/// Whether the request says its body is JSON (`application/json` or `application/*+json`,
/// with or without parameters).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// Parses `bytes` as a JSON object of type `T`.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(ApiError::bad_request(
                "the body is empty: send a JSON object",
            ))
        }
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the body must be a JSON object",
            ))
        }
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let status = match e.classify() {
            serde_json::error::Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, format!("invalid body: {e}"))
    })
}

/// For an optional field (with `#[serde(default)]`): a present value is `Some`, an absent
/// one `None`, and `null` is refused.
pub fn some<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// For an optional integer field: like [`some`], and a number without a fraction (`5.0`)
/// is the integer it equals, as JSON Schema counts it.
pub fn some_integer<'de, D>(d: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    if let Some(v) = n.as_u64() {
        return Ok(Some(v));
    }
    match n.as_f64() {
        // Exact up to 2^53; larger values are out of every field's range anyway.
        Some(f) if f.fract() == 0.0 && (0.0..9.0e15).contains(&f) => Ok(Some(f as u64)),
        _ => Err(D::Error::custom(format!(
            "{n} is not a whole number of at least 0"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::{NewMessage, ProfilePatch};

    fn status<T: DeserializeOwned>(body: &str) -> Option<u16> {
        parse::<T>(body.as_bytes())
            .err()
            .map(|e| e.status().as_u16())
    }

    #[test]
    fn only_objects_of_the_documented_shape_parse() {
        assert_eq!(status::<ProfilePatch>("{}"), None);
        assert_eq!(status::<ProfilePatch>(r#"{"bio":"hi"}"#), None);
        assert_eq!(status::<ProfilePatch>(r#"["Alice","hello"]"#), Some(422));
        assert_eq!(status::<ProfilePatch>("[]"), Some(422));
        assert_eq!(status::<ProfilePatch>("null"), Some(422));
        assert_eq!(status::<ProfilePatch>("\"x\""), Some(422));
        assert_eq!(status::<ProfilePatch>(""), Some(400));
        assert_eq!(status::<ProfilePatch>("{"), Some(400));
        assert_eq!(status::<ProfilePatch>(r#"{"bio":"a"} x"#), Some(400));
        assert_eq!(
            status::<ProfilePatch>(r#"{"display_name":null}"#),
            Some(422)
        );
        assert_eq!(status::<ProfilePatch>(r#"{"bio":null}"#), Some(422));
        assert_eq!(
            status::<ProfilePatch>(r#"{"avatar_base64":null}"#),
            Some(422)
        );
        assert_eq!(status::<ProfilePatch>(r#"{"bio":1}"#), Some(422));
        assert_eq!(status::<ProfilePatch>(r#"{"nmae":"x"}"#), Some(422));
        assert_eq!(
            status::<ProfilePatch>(r#"{"bio":"a","bio":"b"}"#),
            Some(422)
        );
        assert_eq!(
            status::<ProfilePatch>(r#"{"business_category":null}"#),
            None
        );
        assert_eq!(
            status::<NewMessage>(r#"{"to":"@bob","text":"x","wait_ms":null}"#),
            Some(422)
        );
        assert_eq!(status::<NewMessage>(r#"{"to":"@bob","text":"x"}"#), None);
        let wait = |body: &str| {
            parse::<NewMessage>(body.as_bytes())
                .ok()
                .and_then(|m| m.wait_ms)
        };
        assert_eq!(
            wait(r#"{"to":"@b","text":"x","wait_ms":1603.0}"#),
            Some(1603)
        );
        assert_eq!(wait(r#"{"to":"@b","text":"x","wait_ms":16}"#), Some(16));
        for bad in ["1.5", "-1", "-1.0", "\"5\"", "1e300"] {
            let body = format!(r#"{{"to":"@b","text":"x","wait_ms":{bad}}}"#);
            assert_eq!(status::<NewMessage>(&body), Some(422), "{bad}");
        }
    }

    #[test]
    fn json_content_types() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, v.parse().expect("header"));
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonx"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
