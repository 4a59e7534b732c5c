//! The API server: the router over a [`Node`], and [`Server`], which binds it to a loopback
//! address and serves it until told to stop.

use std::{
    future::{Future, IntoFuture},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::DefaultBodyLimit,
    handler::Handler,
    http::{Method, StatusCode},
    middleware,
    routing::{on, MethodFilter},
    Router,
};
use paperplane_protocol::limits::{MAX_PHOTOS_PER_POST, MAX_PHOTO_BYTES};
use tokio::{net::TcpListener, sync::watch};

#[cfg(test)]
use super::OPENAPI_JSON;
use super::{
    auth,
    error::ApiError,
    handlers::{self, AppState},
};
use crate::{home::HomeError, node::Node};

/// Largest body of `POST /v1/posts`: ten photos of the largest size in base64, plus room for
/// the caption and the JSON around them.
pub const MAX_POST_BODY: usize =
    base64_len(MAX_PHOTOS_PER_POST * MAX_PHOTO_BYTES as usize) + 4 * 1024 * 1024;
/// Largest body of `PUT /v1/profile`: one photo of the largest size in base64 plus the text
/// fields.
pub const MAX_PROFILE_BODY: usize = base64_len(MAX_PHOTO_BYTES as usize) + 1024 * 1024;
// Ten 8 MiB photos in base64 fit in a post body, one in a profile body.
const _: () = assert!(MAX_POST_BODY > base64_len(10 * 8 * 1024 * 1024) + 1024);
const _: () = assert!(MAX_PROFILE_BODY > base64_len(8 * 1024 * 1024) + 1024);

/// How long in-flight requests may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Length of the padded base64 encoding of `n` bytes.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

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
    /// The API token could not be read or created.
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
    token: Arc<str>,
}

impl Server {
    /// Binds `addr` (loopback only; port 0 picks a free port) for `node`, with the token of
    /// the node's home (created on first use).
    pub async fn bind(node: Node, addr: &str) -> Result<Self, BindError> {
        let wanted = parse_api_addr(addr)?;
        let token: Arc<str> = node.home().api_token()?.into();
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
        let app = router(self.node, self.token, stop_rx.clone());
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

/// The routes with the table of what was registered (for the OpenAPI check).
struct Routes {
    router: Router<AppState>,
    table: Vec<(Method, &'static str)>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    /// Registers `handler` for `method` on `path`, with the default body limit.
    fn at<H, T>(self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(method, path, handler, None)
    }

    /// Registers `handler` for `method` on `path`, accepting bodies up to `limit` bytes.
    fn at_limited<H, T>(self, method: Method, path: &'static str, handler: H, limit: usize) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(method, path, handler, Some(limit))
    }

    fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        handler: H,
        limit: Option<usize>,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        // Only standard methods are registered in `routes`.
        let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
        let mut route = on(filter, handler);
        if let Some(limit) = limit {
            route = route.layer(DefaultBodyLimit::max(limit));
        }
        self.router = self.router.route(path, route);
        self.table.push((method, path));
        self
    }
}

/// Every route of the API.
fn routes() -> Routes {
    Routes::new()
        .at(Method::GET, "/v1/status", handlers::status)
        .at(Method::GET, "/v1/profile", handlers::own_profile)
        .at_limited(
            Method::PUT,
            "/v1/profile",
            handlers::set_profile,
            MAX_PROFILE_BODY,
        )
        .at(Method::GET, "/v1/profiles", handlers::profiles)
        .at(Method::GET, "/v1/profiles/{peer}", handlers::profile)
        .at(Method::GET, "/v1/resolve/{reference}", handlers::resolve)
        .at(Method::POST, "/v1/connect", handlers::connect)
        .at_limited(
            Method::POST,
            "/v1/posts",
            handlers::create_post,
            MAX_POST_BODY,
        )
        .at(Method::GET, "/v1/posts/{id}", handlers::post)
        .at(Method::GET, "/v1/feed", handlers::feed)
        .at(Method::POST, "/v1/follow/{peer}", handlers::follow)
        .at(Method::DELETE, "/v1/follow/{peer}", handlers::unfollow)
        .at(Method::GET, "/v1/following", handlers::following)
        .at(Method::GET, "/v1/followers", handlers::followers)
        .at(Method::POST, "/v1/posts/{id}/like", handlers::like)
        .at(Method::DELETE, "/v1/posts/{id}/like", handlers::unlike)
        .at(Method::POST, "/v1/posts/{id}/comments", handlers::comment)
        .at(
            Method::DELETE,
            "/v1/comments/{id}",
            handlers::delete_comment,
        )
        .at(Method::GET, "/v1/photos/{hash}", handlers::photo)
        .at(Method::POST, "/v1/messages", handlers::send_message)
        .at(Method::GET, "/v1/messages/{id}", handlers::message)
        .at(Method::GET, "/v1/inbox", handlers::inbox)
        .at(Method::GET, "/v1/requests", handlers::requests)
        .at(Method::GET, "/v1/chats/{peer}", handlers::chat)
        .at(Method::POST, "/v1/requests/{peer}/accept", handlers::accept)
        .at(Method::DELETE, "/v1/requests/{peer}", handlers::decline)
        .at(Method::POST, "/v1/blocked/{peer}", handlers::block)
        .at(Method::DELETE, "/v1/blocked/{peer}", handlers::unblock)
        .at(Method::GET, "/v1/blocked", handlers::blocked)
        .at(
            Method::GET,
            "/v1/safety-number/{peer}",
            handlers::safety_number,
        )
        .at(Method::GET, "/v1/events", handlers::events)
        .at(Method::GET, "/v1/openapi.json", handlers::openapi)
}

/// The whole API for `node`: every route behind the token check, JSON errors for unknown
/// routes and methods. Event streams end when `stop` turns true.
pub(crate) fn router(node: Node, token: Arc<str>, stop: watch::Receiver<bool>) -> Router {
    routes()
        .router
        .fallback(|| async { ApiError::not_found("no such API route (see GET /v1/openapi.json)") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route (see GET /v1/openapi.json)",
            )
        })
        .layer(middleware::from_fn_with_state(token, auth::require_token))
        .with_state(AppState { node, stop })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn openapi_document_lists_exactly_the_registered_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        let paths = doc["paths"].as_object().expect("paths object");
        for (path, item) in paths {
            let item = item.as_object().expect("path item object");
            for method in item.keys() {
                if ["get", "put", "post", "delete", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let registered: BTreeSet<(String, String)> = routes()
            .table
            .iter()
            .map(|(m, p)| (m.as_str().to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(
            registered.len(),
            routes().table.len(),
            "a route registered twice"
        );
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        let unregistered: Vec<_> = documented.difference(&registered).collect();
        assert!(
            undocumented.is_empty(),
            "routes missing from openapi.json: {undocumented:?}"
        );
        assert!(
            unregistered.is_empty(),
            "documented but not served: {unregistered:?}"
        );
    }

    #[test]
    fn every_documented_operation_has_an_id_and_bearer_security() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                if method == "parameters" {
                    continue;
                }
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
                assert!(
                    op["responses"].get("401").is_some(),
                    "{method} {path} does not document 401"
                );
            }
        }
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
