//! The check every route of the local API goes through: the bearer token, or the session
//! cookie of a browser signed in through a one-time link ([`super::web_session`]).
//!
//! The token is compared in constant time: both sides are hashed first (so neither their
//! lengths nor the position of the first difference shows in the timing), then the digests are
//! compared without an early exit.
//!
//! A request signed in by cookie must come from the app's own pages. `SameSite=Strict` keeps
//! other sites' requests from carrying the cookie, but a page on another port of 127.0.0.1 is
//! the *same site* (cookies know no ports), so: where the browser says where a request comes
//! from (`Sec-Fetch-Site`, sent by every current browser), it must be `same-origin` (or, for
//! GET and HEAD, `none`: the user typed the address); and a request that changes something
//! (any method but GET and HEAD) must carry an `Origin`, which [`super::guard`] has checked
//! is this very address.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use sha2::{Digest, Sha256};

use super::{
    error::ApiError,
    types::ErrorBody,
    web_session::{cookie_name, cookie_value, WebSessions},
};
use crate::home::ApiToken;

/// How a request proved it may use the API (an extension of every authorized request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedIn {
    /// With the bearer token.
    Token,
    /// With a web session's cookie.
    Session,
}

/// What the check needs: the token and the open web sessions of one server.
#[derive(Debug)]
pub struct Credentials {
    token: ApiToken,
    sessions: Mutex<WebSessions>,
    cookie_name: String,
}

impl Credentials {
    /// The credentials of the server on `port` with `token` and no web session yet.
    pub fn new(token: ApiToken, port: u16) -> Self {
        Self {
            token,
            sessions: Mutex::default(),
            cookie_name: cookie_name(port),
        }
    }

    /// The name of the session cookie.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The session cookie's value in `headers`, if any.
    pub fn session_cookie<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| cookie_value(v, &self.cookie_name))
    }

    /// Runs `f` on the sessions.
    pub fn sessions<T>(&self, f: impl FnOnce(&mut WebSessions) -> T) -> T {
        // A panic while holding the lock leaves the maps consistent (every change is one
        // insert or remove), so a poisoned lock is used as it is.
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut sessions)
    }

    /// How `headers` sign the request in, if they do.
    pub fn signed_in(&self, headers: &HeaderMap) -> Option<SignedIn> {
        if authorized(headers, &self.token) {
            return Some(SignedIn::Token);
        }
        let cookie = self.session_cookie(headers)?;
        self.sessions(|s| s.check(cookie, Instant::now()))
            .then_some(SignedIn::Session)
    }
}

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
                in <home>/api.token (a browser: run `paperplane open`)"
            .into(),
        candidates: Vec::new(),
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Why a request signed in by cookie is refused, if it is (see the module docs).
pub fn cookie_refusal(method: &Method, headers: &HeaderMap) -> Option<&'static str> {
    let safe = method == Method::GET || method == Method::HEAD;
    let site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or_default());
    match site {
        Some("same-origin") | None => {}
        // Typed into the address bar, or a bookmark: the user's own reading.
        Some("none") if safe => {}
        Some(_) => return Some("requests from other sites are refused"),
    }
    if !safe && !headers.contains_key(header::ORIGIN) {
        return Some("a request signed in by the session cookie that changes something must carry an Origin header");
    }
    None
}

/// Middleware: passes the request on only if it carries the token or an open session's
/// cookie (then with the checks of [`cookie_refusal`]), and records how in its extensions.
pub(crate) async fn require_sign_in(
    State(credentials): State<Arc<Credentials>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(signed_in) = credentials.signed_in(request.headers()) else {
        return unauthorized();
    };
    if signed_in == SignedIn::Session {
        if let Some(why) = cookie_refusal(request.method(), request.headers()) {
            return ApiError::new(StatusCode::FORBIDDEN, why).into_response();
        }
    }
    request.extensions_mut().insert(signed_in);
    next.run(request).await
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
    fn the_cookie_or_the_token_signs_in() {
        let credentials = Credentials::new(ApiToken::new("0123456789abcdef"), 7878);
        let now = Instant::now();
        credentials.sessions(|s| {
            s.add_link("code", now);
            s.redeem("code", "cookie-secret", now).expect("redeem");
        });
        let cookie = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                HeaderValue::from_str(value).expect("cookie"),
            );
            h
        };
        assert_eq!(
            credentials.signed_in(&with("Bearer 0123456789abcdef")),
            Some(SignedIn::Token)
        );
        assert_eq!(
            credentials.signed_in(&cookie("x=1; paperplane_session_7878=cookie-secret")),
            Some(SignedIn::Session)
        );
        assert_eq!(
            credentials.signed_in(&cookie("paperplane_session_7879=cookie-secret")),
            None,
            "another port's cookie"
        );
        assert_eq!(
            credentials.signed_in(&cookie("paperplane_session_7878=guess")),
            None
        );
        assert_eq!(credentials.signed_in(&HeaderMap::new()), None);
    }

    #[test]
    fn cookie_requests_that_change_things_must_show_their_origin() {
        let mut h = HeaderMap::new();
        assert_eq!(cookie_refusal(&Method::GET, &h), None);
        assert_eq!(cookie_refusal(&Method::HEAD, &h), None);
        assert!(cookie_refusal(&Method::POST, &h).is_some(), "no Origin");
        assert!(cookie_refusal(&Method::DELETE, &h).is_some(), "no Origin");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:7878"),
        );
        assert_eq!(cookie_refusal(&Method::POST, &h), None);
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert_eq!(cookie_refusal(&Method::PUT, &h), None);
        for site in ["same-site", "cross-site", "none"] {
            h.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert!(cookie_refusal(&Method::POST, &h).is_some(), "{site}");
        }
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
