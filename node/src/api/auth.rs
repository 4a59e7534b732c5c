//! The bearer-token check every route of the local API goes through.
//!
//! The token is compared in constant time: both sides are hashed first (so neither their
//! lengths nor the position of the first difference shows in the timing), then the digests are
//! compared without an early exit.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use sha2::{Digest, Sha256};

use super::types::ErrorBody;
use crate::home::ApiToken;

/// Whether `headers` carry `Authorization: Bearer <token>` with exactly `token`.
pub fn authorized(headers: &HeaderMap, token: &ApiToken) -> bool {
    authorized_text(headers, token.expose())
}

fn authorized_text(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let Some((scheme, presented)) = value.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && constant_time_eq(presented.trim(), token)
}

/// Compares two secrets in time independent of their contents.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)));
    diff == 0
}

/// The answer to a request without the right token: 401, a JSON error and a
/// `WWW-Authenticate` challenge.
pub fn unauthorized() -> Response {
    let body = ErrorBody {
        error: "missing or wrong API token: send `Authorization: Bearer <token>` with the token \
                in <home>/api.token"
            .into(),
        candidates: Vec::new(),
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Middleware: passes the request on only if it carries the token.
pub(crate) async fn require_token(
    State(token): State<Arc<ApiToken>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(request.headers(), &token) {
        next.run(request).await
    } else {
        unauthorized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
        h
    }

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let token = &ApiToken::new("0123456789abcdef");
        assert!(authorized(&with("Bearer 0123456789abcdef"), token));
        assert!(authorized(&with("bearer 0123456789abcdef"), token));
        assert!(!authorized(&HeaderMap::new(), token));
        assert!(!authorized(&with("Bearer"), token));
        assert!(!authorized(&with("Bearer "), token));
        assert!(!authorized(&with("Bearer 0123456789abcdeF"), token));
        assert!(!authorized(&with("Bearer 0123456789abcde"), token));
        assert!(!authorized(&with("Bearer 0123456789abcdef0"), token));
        assert!(!authorized(&with("Basic 0123456789abcdef"), token));
        assert!(!authorized(&with("0123456789abcdef"), token));
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq("", ""));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }

    #[test]
    fn unauthorized_is_a_401_with_a_challenge() {
        let r = unauthorized();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers().get(header::WWW_AUTHENTICATE),
            Some(&HeaderValue::from_static("Bearer"))
        );
    }
}
