//! Signing browsers in to the web app ([`crate::api::web`]): the one-time link and signing out.

use std::time::Instant;

use axum::{
    extract::{Extension, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use super::{ApiResult, AppState};
use crate::api::{
    auth::SignedIn,
    error::ApiError,
    types::{ErrorBody, SignedOut, WebLink},
    web_session::LINK_TTL,
};

/// A one-time link that signs a browser in to the web app (what `paperplane open` opens):
/// it works once, within two minutes, and sets a session cookie in its place. Only a client
/// with the token may make one.
#[utoipa::path(post, path = "/v1/web/link", tag = "web", operation_id = "createWebLink",
    responses(
        (status = 200, description = "The link.", body = WebLink),
        (status = 403, description = "Asked by a browser signed in with a session cookie: \
            links are made with the bearer token.", body = ErrorBody),
    ))]
pub(crate) async fn create_link(
    State(s): State<AppState>,
    Extension(signed_in): Extension<SignedIn>,
) -> ApiResult<WebLink> {
    if signed_in != SignedIn::Token {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "sign-in links are made with the API token, not from a signed-in page",
        ));
    }
    let code = hex::encode(rand::random::<[u8; 32]>());
    s.credentials
        .sessions(|sessions| sessions.add_link(&code, Instant::now()));
    Ok(Json(WebLink {
        url: format!("{}/signin?code={code}", s.origin),
        expires_in_seconds: LINK_TTL.as_secs(),
    }))
}

/// Ends the web session of the request's cookie and clears the cookie (a request with the
/// bearer token only has no session to end).
#[utoipa::path(post, path = "/v1/web/signout", tag = "web", operation_id = "signOut",
    responses((status = 200, description = "Signed out.", body = SignedOut)))]
pub(crate) async fn sign_out(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let ended = s
        .credentials
        .session_cookie(&headers)
        .is_some_and(|cookie| s.credentials.sessions(|sessions| sessions.end(cookie)));
    let mut response = Json(SignedOut { ended }).into_response();
    let clear = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        s.credentials.cookie_name()
    );
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
