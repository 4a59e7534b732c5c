//! The node itself: status, dialling, live events and the API's own description.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{
        sse::{self, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Json,
};
use futures::Stream;

use super::{ApiResult, AppState};
use crate::api::{
    body::StrictJson,
    error::ApiError,
    types::{Bootstrapped, ConnectRequest, Connected, ErrorBody, NodeStatus},
};

/// This node: peer id, handle, listen addresses, connected peers, messages waiting in the
/// outbox.
#[utoipa::path(get, path = "/v1/status", tag = "node", operation_id = "getStatus",
    responses((status = 200, description = "The node's status.", body = NodeStatus)))]
pub(crate) async fn status(State(s): State<AppState>) -> ApiResult<NodeStatus> {
    Ok(Json(NodeStatus {
        node: s.node.status().await?,
        outbox: s.node.outbox_len(),
    }))
}

/// Dials a peer and waits until connected (or the request's timeout passes).
#[utoipa::path(post, path = "/v1/connect", tag = "node", operation_id = "connect",
    request_body = ConnectRequest,
    responses(
        (status = 200, description = "Connected.", body = Connected),
        (status = 400, description = "Not a multiaddr or peer id, a multiaddr without a \
            transport (`/ip4/…/tcp/…`, `/ip4/…/udp/…/quic-v1` or the same with `/ip6/`), this \
            node's own address, or a timeout out of range.", body = ErrorBody),
        (status = 404, description = "A bare peer id the DHT knows no address for.",
            body = ErrorBody),
        (status = 502, description = "The dial failed: refused, unreachable, or the peer \
            is not the one named by `/p2p/`.", body = ErrorBody),
        (status = 504, description = "No connection within the timeout.", body = ErrorBody),
    ))]
pub(crate) async fn connect(
    State(s): State<AppState>,
    StrictJson(req): StrictJson<ConnectRequest>,
) -> ApiResult<Connected> {
    let timeout_ms = req.timeout_ms.unwrap_or(ConnectRequest::DEFAULT_TIMEOUT_MS);
    if !(1..=ConnectRequest::MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(ApiError::bad_request(format!(
            "timeout_ms must be between 1 and {}",
            ConnectRequest::MAX_TIMEOUT_MS
        )));
    }
    if req.addr.chars().count() > ConnectRequest::MAX_ADDR_CHARS {
        return Err(ApiError::bad_request(format!(
            "addr is longer than {} characters",
            ConnectRequest::MAX_ADDR_CHARS
        )));
    }
    let dial = s.node.connect(&req.addr);
    match tokio::time::timeout(Duration::from_millis(timeout_ms), dial).await {
        Ok(peer_id) => Ok(Json(Connected { peer_id: peer_id? })),
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!("no connection to {} within {timeout_ms} ms", req.addr),
        )),
    }
}

/// Re-runs the DHT bootstrap and answers with the routing table's size at its end.
#[utoipa::path(post, path = "/v1/bootstrap", tag = "node", operation_id = "bootstrap",
    responses(
        (status = 200, description = "The bootstrap walk ended.", body = Bootstrapped),
        (status = 409, description = "No DHT peer is known (or the DHT is off).", body = ErrorBody),
        (status = 504, description = "The walk did not end within 30 s.", body = ErrorBody),
    ))]
pub(crate) async fn bootstrap(State(s): State<AppState>) -> ApiResult<Bootstrapped> {
    match tokio::time::timeout(Duration::from_secs(30), s.node.bootstrap()).await {
        Ok(peers) => Ok(Json(Bootstrapped { dht_peers: peers? })),
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "the DHT bootstrap did not end within 30 s".to_owned(),
        )),
    }
}

/// Live events as Server-Sent Events: one JSON event per `data:` line, tagged by `type`.
#[utoipa::path(get, path = "/v1/events", tag = "events", operation_id = "events",
    responses((status = 200, description = "An endless stream of events (`text/event-stream`); \
        each `data:` line is one JSON event with a `type` field: `message`, `message_sent`, \
        `message_delivered`, `message_stored`, `message_failed`, `chat_read`, `request_accepted`, \
        `request_declined`, `blocked`, `key_changed`, `profile`, `post`, `like`, `comment`, \
        `comment_deleted`, `follow`, `reaction`, `message_unsent`, `message_edited`, \
        `messages_seen`, `typing`, `read_receipts`, `chat_photo_progress`, `chat_photo_ready`, \
        `chat_photo_failed`, `quick_reply`, `away`, `away_message_sent`, `chat_marks`, \
        `peer_connected` or `peer_disconnected`.",
        content_type = "text/event-stream", body = String)))]
pub(crate) async fn events(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<sse::Event, Infallible>>> {
    let stream = futures::stream::unfold(
        (s.node.events(), s.stop),
        |(mut events, mut stop)| async move {
            loop {
                let event = tokio::select! {
                    biased;
                    _ = stop.wait_for(|s| *s) => return None,
                    event = events.next() => event?,
                };
                match sse::Event::default().json_data(&event) {
                    Ok(e) => return Some((Ok(e), (events, stop))),
                    Err(error) => tracing::warn!(%error, "event not serializable; skipped"),
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "node", operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.",
        content_type = "application/json", body = Object)))]
pub(crate) async fn openapi(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        s.openapi.to_string(),
    )
        .into_response()
}
