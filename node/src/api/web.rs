//! The web app the daemon serves beside its API: the built front end (`node/web/dist`,
//! embedded in the binary at compile time, so no Node.js is needed to run it) and the
//! one-time sign-in link's exchange for a session cookie.
//!
//! - `GET /` is the app's page and `GET /assets/…` its scripts and styles. They hold no
//!   secret and need no sign-in (the page itself shows how to sign in); like every route they
//!   are refused to a foreign `Origin` or `Host` ([`super::guard`]).
//! - `GET /signin?code=…` uses up a link made by `POST /v1/web/link` (see
//!   [`super::web_session`]), sets the session cookie (`HttpOnly`, `SameSite=Strict`, for this
//!   host only) and sends the browser on to `/`.
//!
//! Every page goes out with a strict Content-Security-Policy (scripts, styles and connections
//! from this origin only; images also as `data:` and `blob:`), no framing and no referrer.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use include_dir::{include_dir, Dir};
use serde::Deserialize;

use super::{auth::Credentials, web_session::SESSION_IDLE};

/// The built web app (`npm run build` in `node/web`).
static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web/dist");

/// What a page may load and run: only what this origin serves.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The routes of the web app, outside `/v1` and outside the sign-in check.
pub(crate) fn routes(credentials: Arc<Credentials>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*file}", get(asset))
        .route("/signin", get(sign_in))
        .with_state(credentials)
}

/// The headers every page and asset carries.
fn hardened(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ] {
        headers.insert(name, value);
    }
    response
}

/// Middleware of every route: no other origin may embed an answer (`<img>`, `<script>`) or
/// have it sniffed into another type.
pub(crate) async fn same_origin_resources(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(HeaderName::from_static("cross-origin-resource-policy"))
        .or_insert(HeaderValue::from_static("same-origin"));
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}

/// The app's page.
async fn index() -> Response {
    match ASSETS.get_file("index.html") {
        Some(file) => hardened(
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                ],
                file.contents(),
            )
                .into_response(),
        ),
        None => page(
            StatusCode::NOT_FOUND,
            "The web app is not built into this binary.",
        ),
    }
}

/// One of the app's files under `/assets/`. Their names carry a hash of their contents, so
/// the browser may keep them for good.
async fn asset(Path(file): Path<String>) -> Response {
    let found = (!file.contains(".."))
        .then(|| ASSETS.get_file(format!("assets/{file}")))
        .flatten();
    let Some(found) = found else {
        return page(StatusCode::NOT_FOUND, "No such file.");
    };
    hardened(
        (
            [
                (header::CONTENT_TYPE, content_type(&file)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            found.contents(),
        )
            .into_response(),
    )
}

/// The media type of a built file, by its extension.
fn content_type(file: &str) -> HeaderValue {
    let extension = file.rsplit_once('.').map_or("", |(_, e)| e);
    HeaderValue::from_static(match extension {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    })
}

/// The query of the sign-in link.
#[derive(Deserialize)]
struct SignInQuery {
    code: String,
}

/// Exchanges a one-time link's code for a session cookie and sends the browser to the app.
async fn sign_in(
    State(credentials): State<Arc<Credentials>>,
    query: Result<Query<SignInQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(SignInQuery { code })) = query else {
        return page(
            StatusCode::BAD_REQUEST,
            "This address needs the code of a sign-in link. Run `paperplane open`.",
        );
    };
    let cookie = hex::encode(rand::random::<[u8; 32]>());
    match credentials.sessions(|s| s.redeem(&code, &cookie, Instant::now())) {
        Ok(()) => {
            let set_cookie = format!(
                "{}={cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                credentials.cookie_name(),
                SESSION_IDLE.as_secs()
            );
            let mut headers = HeaderMap::new();
            headers.insert(header::LOCATION, HeaderValue::from_static("/"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(value) = HeaderValue::from_str(&set_cookie) {
                headers.insert(header::SET_COOKIE, value);
            }
            tracing::info!("a browser signed in to the web app");
            hardened((StatusCode::SEE_OTHER, headers).into_response())
        }
        Err(why) => page(
            StatusCode::FORBIDDEN,
            &format!("{why}. Run `paperplane open` for a new one."),
        ),
    }
}

/// A plain page that says one thing (sign-in errors, missing files).
fn page(status: StatusCode, text: &str) -> Response {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>paperplane</title></head><body><p>{escaped}</p></body></html>"
    );
    hardened(
        (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            html,
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_app_is_embedded() {
        let index = ASSETS.get_file("index.html").expect("index.html");
        let html = std::str::from_utf8(index.contents()).expect("utf-8");
        assert!(
            html.contains("/assets/"),
            "the page loads its built scripts"
        );
        assert!(
            !html.contains("<script>") && !html.contains("style="),
            "nothing inline: the CSP forbids it"
        );
        let assets = ASSETS.get_dir("assets").expect("assets");
        assert!(assets
            .files()
            .any(|f| f.path().extension().is_some_and(|e| e == "js")));
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(
            content_type("index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("index-abc.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }
}
