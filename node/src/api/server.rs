//! The API server: the router over a [`Node`], and [`Server`], which binds it to a loopback
//! address and serves it until told to stop.

use std::{
    future::{Future, IntoFuture},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use paperplane_protocol::limits::{MAX_PHOTOS_PER_POST, MAX_PHOTO_BYTES};
use tokio::{
    net::TcpListener,
    sync::{watch, Semaphore},
};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::{self, Credentials},
    doc,
    error::ApiError,
    guard,
    handlers::{
        business, chat, chat_photos, follows, groups, mailboxes, messages, node as node_routes,
        posts, profiles, web as web_routes, AppState,
    },
    schema::base64_len,
    web,
};
use crate::{
    home::{ApiToken, HomeError},
    node::Node,
};

/// Room in a body for what is not a photo: the JSON around the photos and a caption of
/// 2,200 characters even if every one is escaped (`\uXXXX\uXXXX`).
const BODY_SLACK: usize = 64 * 1024;
/// Largest body of `POST /v1/posts`: ten photos of the largest size in base64, plus the
/// caption and the JSON around them.
pub const MAX_POST_BODY: usize =
    base64_len(MAX_PHOTOS_PER_POST * MAX_PHOTO_BYTES as usize) + BODY_SLACK;
/// Largest body of `PUT /v1/profile`: one photo of the largest size in base64 plus the text
/// fields.
pub const MAX_PROFILE_BODY: usize = base64_len(MAX_PHOTO_BYTES as usize) + BODY_SLACK;
/// Largest body of every other route (a message of 4,096 bytes, even escaped, fits).
pub const MAX_SMALL_BODY: usize = BODY_SLACK;
/// How many `POST /v1/posts` may run at once. Each holds its body and its decoded photos in
/// memory (up to about 200 MB); more wait for a turn, with their bodies still unread.
pub const MAX_CONCURRENT_UPLOADS: usize = 2;
/// How long an upload waits for its turn before it is answered 429.
pub const UPLOAD_WAIT: Duration = Duration::from_secs(10);
// Ten 8 MiB photos in base64 fit in a post body, one in a profile body.
const _: () = assert!(MAX_POST_BODY > base64_len(10 * 8 * 1024 * 1024) + 1024);
const _: () = assert!(MAX_PROFILE_BODY > base64_len(8 * 1024 * 1024) + 1024);
const _: () = assert!(MAX_SMALL_BODY > 6 * 4096 + 1024);

/// How long in-flight requests may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the API could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindError {
    /// The address is not `HOST:PORT`.
    #[error("bad API address {0:?}: expected HOST:PORT on loopback, e.g. 127.0.0.1:7878")]
    BadAddress(String),
    /// The address is not a loopback address.
    #[error("refusing to serve the local API on {0}: it must be a loopback address (127.0.0.1, [::1] or localhost)")]
    NotLoopback(String),
    /// Something else listens on the address.
    #[error("the local API address {0} is in use (by another daemon?); pick another with --api 127.0.0.1:PORT, or port 0 for any free one")]
    InUse(SocketAddr),
    /// Binding failed (permission, …).
    #[error("cannot serve the local API on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The API token could not be written.
    #[error(transparent)]
    Home(#[from] HomeError),
}

/// Parses `HOST:PORT` and checks that the host is loopback (`localhost` is 127.0.0.1).
pub fn parse_api_addr(addr: &str) -> Result<SocketAddr, BindError> {
    let parsed = match addr.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => {
            let (host, port) = addr
                .rsplit_once(':')
                .ok_or_else(|| BindError::BadAddress(addr.into()))?;
            let port: u16 = port
                .parse()
                .map_err(|_| BindError::BadAddress(addr.into()))?;
            if host.eq_ignore_ascii_case("localhost") {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
            } else if host.parse::<IpAddr>().is_ok() || host.contains('.') {
                return Err(BindError::NotLoopback(addr.into()));
            } else {
                return Err(BindError::BadAddress(addr.into()));
            }
        }
    };
    if parsed.ip().is_loopback() {
        Ok(parsed)
    } else {
        Err(BindError::NotLoopback(addr.into()))
    }
}

/// The local API, bound and ready to serve.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    node: Node,
    token: ApiToken,
}

impl Server {
    /// Binds `addr` (loopback only; port 0 picks a free port) for `node`, with a fresh token
    /// written to the node's home before anything listens.
    pub async fn bind(node: Node, addr: &str) -> Result<Self, BindError> {
        let wanted = parse_api_addr(addr)?;
        let token = node.home().new_api_token()?;
        let listener = TcpListener::bind(wanted).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                BindError::InUse(wanted)
            } else {
                BindError::Io {
                    addr: wanted,
                    source,
                }
            }
        })?;
        let addr = listener.local_addr().map_err(|source| BindError::Io {
            addr: wanted,
            source,
        })?;
        Ok(Self {
            listener,
            addr,
            node,
            token,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes; then ends event streams, lets in-flight requests
    /// finish (for a few seconds at most) and returns. Does not stop the node.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let app = router(self.node, self.token, self.addr, stop_rx.clone());
        let mut stopping = stop_rx;
        let serve = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopping.wait_for(|s| *s).await;
            })
            .into_future();
        tokio::pin!(serve);
        tokio::select! {
            result = &mut serve => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "local API server failed");
                }
                return;
            }
            () = shutdown => {}
        }
        let _ = stop_tx.send(true);
        if tokio::time::timeout(SHUTDOWN_GRACE, serve).await.is_err() {
            tracing::warn!("local API requests still running at shutdown were cut off");
        }
    }
}

type Described = utoipa_axum::router::UtoipaMethodRouter<AppState>;

/// `routes` accepting bodies of at most `limit` bytes: one that says it is larger is refused
/// (413) before any of it is read, and one that turns out larger when read, likewise.
fn bounded(limit: usize, (schemas, paths, route): Described) -> Described {
    let route = route
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(limit, declared_size_within));
    (schemas, paths, route)
}

/// Every route of the API with its description, without state.
fn routes() -> OpenApiRouter<AppState> {
    let small = |routes: Described| bounded(MAX_SMALL_BODY, routes);
    let uploads = Arc::new(Semaphore::new(MAX_CONCURRENT_UPLOADS));
    let (schemas, paths, upload) = bounded(MAX_POST_BODY, routes!(posts::create_post));
    let upload = upload.layer(middleware::from_fn_with_state(
        uploads.clone(),
        one_of_few_uploads,
    ));
    let (photo_schemas, photo_paths, photo_upload) =
        bounded(MAX_PROFILE_BODY, routes!(chat_photos::send_chat_photo));
    let chat_photo_upload = (
        photo_schemas,
        photo_paths,
        photo_upload.layer(middleware::from_fn_with_state(uploads, one_of_few_uploads)),
    );
    OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .routes(small(routes!(node_routes::status)))
        .routes(small(routes!(profiles::own_profile)))
        .routes(bounded(MAX_PROFILE_BODY, routes!(profiles::set_profile)))
        .routes(small(routes!(profiles::profiles)))
        .routes(small(routes!(profiles::profile)))
        .routes(small(routes!(profiles::resolve)))
        .routes(small(routes!(node_routes::connect)))
        .routes(small(routes!(node_routes::bootstrap)))
        .routes(small(routes!(
            mailboxes::mailboxes,
            mailboxes::set_mailboxes
        )))
        .routes(small(routes!(
            mailboxes::keep_mail_for,
            mailboxes::stop_keeping_mail_for
        )))
        .routes(small(routes!(mailboxes::fetch_mail)))
        .routes((schemas, paths, upload))
        .routes(small(routes!(posts::post)))
        .routes(small(routes!(posts::feed)))
        .routes(small(routes!(posts::posts_of)))
        .routes(small(routes!(follows::follow, follows::unfollow)))
        .routes(small(routes!(follows::following)))
        .routes(small(routes!(follows::followers)))
        .routes(small(routes!(posts::like, posts::unlike)))
        .routes(small(routes!(posts::comment)))
        .routes(small(routes!(posts::delete_comment)))
        .routes(small(routes!(posts::photo)))
        .routes(small(routes!(messages::send_message)))
        .routes(small(routes!(messages::message)))
        .routes(small(routes!(messages::inbox)))
        .routes(small(routes!(messages::requests)))
        .routes(small(routes!(messages::chat)))
        .routes(small(routes!(messages::accept)))
        .routes(small(routes!(messages::decline)))
        .routes(small(routes!(messages::block, messages::unblock)))
        .routes(small(routes!(messages::blocked)))
        .routes(small(routes!(messages::safety_number)))
        .routes(small(routes!(chat::react, chat::unreact)))
        .routes(small(routes!(chat::unsend, chat::edit)))
        .routes(small(routes!(chat::share)))
        .routes(small(routes!(chat::share_targets)))
        .routes(small(routes!(chat::typing)))
        .routes(small(routes!(chat::read_receipts, chat::set_read_receipts)))
        .routes(small(routes!(chat::set_chat_read_receipts)))
        .routes(small(routes!(groups::groups, groups::create_group)))
        .routes(small(routes!(groups::group, groups::rename_group)))
        .routes(small(routes!(groups::add_members)))
        .routes(small(routes!(groups::remove_member)))
        .routes(small(routes!(groups::make_admin)))
        .routes(small(routes!(groups::leave_group)))
        .routes(small(routes!(groups::accept_group)))
        .routes(small(routes!(
            groups::group_messages,
            groups::send_group_message
        )))
        .routes(small(routes!(groups::read_group)))
        .routes(small(routes!(groups::group_typing)))
        .routes(small(routes!(groups::react, groups::unreact)))
        .routes(small(routes!(
            groups::group_message_view,
            groups::unsend,
            groups::edit
        )))
        .routes(small(routes!(groups::share)))
        .routes(small(routes!(business::quick_replies)))
        .routes(small(routes!(
            business::save_quick_reply,
            business::remove_quick_reply
        )))
        .routes(small(routes!(business::send_quick_reply)))
        .routes(small(routes!(business::away, business::set_away)))
        .routes(bounded(MAX_PROFILE_BODY, routes!(business::set_faq)))
        .routes(small(routes!(business::label_chat, business::unlabel_chat)))
        .routes(small(routes!(business::labelled)))
        .routes(small(routes!(business::mute, business::unmute)))
        .routes(small(routes!(business::search)))
        .routes(chat_photo_upload)
        .routes(small(routes!(chat_photos::chat_photo)))
        .routes(small(routes!(node_routes::events)))
        .routes(small(routes!(node_routes::openapi)))
        .routes(small(routes!(web_routes::create_link)))
        .routes(small(routes!(web_routes::sign_out)))
}

/// Middleware: a request whose `Content-Length` exceeds the route's bound is refused at once.
async fn declared_size_within(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than this route accepts ({limit} bytes)"),
        )
        .into_response();
    }
    next.run(request).await
}

/// The OpenAPI document of the API, as `GET /v1/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut document) = routes().split_for_parts();
    doc::add_shared_responses(&mut document);
    document
}

/// Middleware of the upload route: at most [`MAX_CONCURRENT_UPLOADS`] at once, before any
/// of the body is read; the others wait up to [`UPLOAD_WAIT`] for a turn, then get 429 with
/// `Retry-After`.
async fn one_of_few_uploads(
    State(uploads): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(Ok(_permit)) = tokio::time::timeout(UPLOAD_WAIT, uploads.acquire()).await else {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{MAX_CONCURRENT_UPLOADS} uploads are running already; try again in a moment"),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(request).await
}

/// The whole API for `node` on `addr`: every `/v1` route behind the sign-in check, small
/// bodies unless a route allows more, JSON errors for unknown routes and methods; the web
/// app's page, files and sign-in beside them; all of it behind the origin check. Event
/// streams end when `stop` turns true.
pub(crate) fn router(
    node: Node,
    token: ApiToken,
    addr: SocketAddr,
    stop: watch::Receiver<bool>,
) -> Router {
    let port = addr.port();
    let credentials = Arc::new(Credentials::new(token, port));
    let (router, mut document) = routes().split_for_parts();
    doc::add_shared_responses(&mut document);
    let openapi: Arc<str> = match document.to_json() {
        Ok(json) => json.into(),
        Err(error) => {
            tracing::error!(%error, "the OpenAPI document does not serialize");
            "{}".into()
        }
    };
    router
        .fallback(|| async { ApiError::not_found("no such API route (see GET /v1/openapi.json)") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route (see GET /v1/openapi.json)",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_SMALL_BODY))
        .layer(middleware::from_fn_with_state(
            credentials.clone(),
            auth::require_sign_in,
        ))
        .with_state(AppState {
            node,
            stop,
            openapi,
            credentials: credentials.clone(),
            origin: format!("http://{addr}").into(),
        })
        .merge(web::routes(credentials))
        .layer(middleware::map_response(web::same_origin_resources))
        .layer(middleware::from_fn_with_state(
            port,
            guard::same_origin_only,
        ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn document() -> serde_json::Value {
        serde_json::to_value(openapi()).expect("the document serializes")
    }

    fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                    out.push((method.to_uppercase(), path.clone(), op.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_describes_every_route_once() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let ops = operations(&doc);
        assert_eq!(ops.len(), 85, "one operation per route");
        let mut ids = BTreeSet::new();
        for (method, path, op) in &ops {
            let id = op["operationId"].as_str().expect("operationId");
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            for code in ["401", "403", "500", "503"] {
                assert!(
                    op["responses"].get(code).is_some(),
                    "{method} {path} does not document {code}"
                );
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(
                        op["responses"].get(code).is_some(),
                        "{method} {path}: {code}"
                    );
                }
            }
            for parameter in op["parameters"].as_array().into_iter().flatten() {
                assert!(op["responses"].get("400").is_some(), "{method} {path}: 400");
                if parameter["in"] == "path" {
                    assert!(
                        parameter["schema"]["pattern"].is_string(),
                        "{method} {path}: {} has no pattern",
                        parameter["name"]
                    );
                }
            }
            // Every path parameter is declared.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    op["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name)),
                    "{method} {path}: {name} undeclared"
                );
            }
        }
    }

    #[test]
    fn specific_errors_are_documented() {
        let doc = document();
        let op = |path: &str, method: &str| doc["paths"][path][method].clone();
        let connect = op("/v1/connect", "post");
        for code in ["200", "400", "502", "504"] {
            assert!(connect["responses"].get(code).is_some(), "connect {code}");
        }
        assert!(op("/v1/posts", "post")["responses"].get("429").is_some());
        assert!(op("/v1/profiles/{peer}", "get")["responses"]
            .get("404")
            .is_some());
    }

    #[test]
    fn schemas_carry_the_real_bounds() {
        use paperplane_protocol::{dm::MAX_TEXT_BYTES, limits::*};
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let prop = |schema: &str, field: &str| schemas[schema]["properties"][field].clone();
        assert_eq!(
            prop("ProfilePatch", "display_name")["maxLength"],
            MAX_DISPLAY_NAME_CHARS
        );
        assert_eq!(prop("ProfilePatch", "bio")["maxLength"], MAX_BIO_CHARS);
        assert_eq!(
            prop("ProfilePatch", "business_category")["maxLength"],
            MAX_CATEGORY_CHARS
        );
        assert_eq!(
            prop("ProfilePatch", "avatar_base64")["maxLength"],
            base64_len(MAX_PHOTO_BYTES as usize)
        );
        assert_eq!(
            prop("ProfilePatch", "avatar_base64")["pattern"],
            super::super::schema::BASE64_PATTERN
        );
        assert_eq!(prop("NewPost", "caption")["maxLength"], MAX_CAPTION_CHARS);
        assert_eq!(
            prop("NewPost", "photos_base64")["maxItems"],
            MAX_PHOTOS_PER_POST
        );
        assert_eq!(prop("NewPost", "photos_base64")["minItems"], 1);
        assert_eq!(prop("NewComment", "text")["maxLength"], MAX_COMMENT_CHARS);
        assert_eq!(prop("NewComment", "text")["minLength"], 1);
        assert_eq!(prop("NewMessage", "text")["maxLength"], MAX_TEXT_BYTES);
        assert_eq!(
            prop("NewMessage", "to")["pattern"],
            super::super::params::PEER_PATTERN
        );
        assert_eq!(
            prop("NewMessage", "wait_ms")["maximum"],
            crate::api::types::NewMessage::MAX_WAIT_MS
        );
        assert_eq!(
            prop("ConnectRequest", "timeout_ms")["maximum"],
            crate::api::types::ConnectRequest::MAX_TIMEOUT_MS
        );
        for (name, text) in [
            ("NewComment", "text"),
            ("NewMessage", "text"),
            ("ProfilePatch", "business_category"),
        ] {
            assert_eq!(
                prop(name, text)["pattern"],
                crate::api::types::NOT_BLANK_PATTERN
            );
        }
        for strict in [
            "ProfilePatch",
            "NewPost",
            "NewComment",
            "NewMessage",
            "ConnectRequest",
        ] {
            assert_eq!(
                schemas[strict]["additionalProperties"], false,
                "{strict} allows unknown fields"
            );
        }
        // Optional texts are not nullable; the business category is.
        assert_eq!(prop("ProfilePatch", "bio")["type"], "string");
        assert!(prop("ProfilePatch", "business_category")["type"]
            .as_array()
            .is_some_and(|t| t.contains(&"null".into())));
    }

    #[test]
    fn api_addresses_must_be_loopback() {
        assert_eq!(
            parse_api_addr("127.0.0.1:7878").expect("ok"),
            "127.0.0.1:7878".parse::<SocketAddr>().expect("addr")
        );
        assert_eq!(parse_api_addr("localhost:0").expect("ok").port(), 0);
        assert!(parse_api_addr("[::1]:9000").is_ok());
        assert!(parse_api_addr("127.0.0.2:1").is_ok());
        for bad in ["0.0.0.0:7878", "192.168.1.2:80", "[::]:1", "example.com:80"] {
            assert!(
                matches!(parse_api_addr(bad), Err(BindError::NotLoopback(_))),
                "{bad}"
            );
        }
        for bad in ["7878", "localhost", "localhost:x", "", "host:1"] {
            assert!(
                matches!(parse_api_addr(bad), Err(BindError::BadAddress(_))),
                "{bad}"
            );
        }
    }
}
