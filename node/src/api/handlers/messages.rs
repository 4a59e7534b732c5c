//! Direct messages, chats, message requests, blocking and safety numbers.

use axum::{
    extract::{rejection::QueryRejection, Query, State},
    http::StatusCode,
    Json,
};

use super::{handle_of, not_blank, ApiResult, AppState};
use crate::{
    api::{
        body::StrictJson,
        error::ApiError,
        params::{self, MessageIdParam, PeerParam},
        types::{
            BlockState, BlockedPeer, ChatQuery, Decision, ErrorBody, NewMessage, RequestDecision,
            SafetyNumber,
        },
    },
    views::{ChatView, MessageView},
};

/// Sends an end-to-end encrypted direct message.
#[utoipa::path(post, path = "/v1/messages", tag = "messages", operation_id = "sendMessage",
    request_body = NewMessage,
    responses(
        (status = 201, description = "Durably queued; `state` says whether it was delivered \
            within the wait.", body = MessageView),
        (status = 400, description = "A blank text or one over 4,096 bytes, a wait over 24 h, \
            an ambiguous handle, the user's own id, a blocked peer, or a peer without \
            messaging keys.", body = ErrorBody),
        (status = 404, description = "No known peer by that reference, or no message             `reply_to`.", body = ErrorBody),
    ))]
pub(crate) async fn send_message(
    State(s): State<AppState>,
    StrictJson(req): StrictJson<NewMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    if !params::is_peer_ref(&req.to) {
        return Err(ApiError::bad_request(format!(
            "to: {:?} is not a peer id or @handle",
            req.to
        )));
    }
    not_blank("text", &req.text)?;
    let wait = req.wait().map_err(ApiError::bad_request)?;
    let peer = s.node.resolve(&req.to)?;
    let reply_to = req.reply_to.as_deref();
    let view = match reply_to.map(|r| s.node.resolve_message(r)).transpose()? {
        Some(original) => {
            if s.node.message(&original)?.peer != peer {
                return Err(ApiError::bad_request(format!(
                    "reply_to: message {original} is not in the chat with {}",
                    req.to
                )));
            }
            s.node.reply(&original, req.text, wait).await?
        }
        None => s.node.send(peer, req.text, wait).await?,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// One message (ours or theirs) by id, with its delivery state.
#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages", operation_id = "getMessage",
    params(MessageIdParam),
    responses(
        (status = 200, description = "The message.", body = MessageView),
        (status = 404, description = "No such message.", body = ErrorBody),
    ))]
pub(crate) async fn message(
    State(s): State<AppState>,
    MessageIdParam(id): MessageIdParam,
) -> ApiResult<MessageView> {
    Ok(Json(s.node.message(&id)?))
}

/// Conversations, newest activity first, with unread counts and the last message.
#[utoipa::path(get, path = "/v1/inbox", tag = "messages", operation_id = "getInbox",
    responses((status = 200, description = "The conversations.", body = Vec<ChatView>)))]
pub(crate) async fn inbox(State(s): State<AppState>) -> ApiResult<Vec<ChatView>> {
    Ok(Json(s.node.inbox()?))
}

/// Message requests: conversations started by people the user does not follow, newest
/// first.
#[utoipa::path(get, path = "/v1/requests", tag = "messages", operation_id = "getRequests",
    responses((status = 200, description = "The requests.", body = Vec<ChatView>)))]
pub(crate) async fn requests(State(s): State<AppState>) -> ApiResult<Vec<ChatView>> {
    Ok(Json(s.node.requests()?))
}

/// The newest messages with a peer (or those before a given one), oldest first. Marks the
/// chat read.
#[utoipa::path(get, path = "/v1/chats/{peer}", tag = "messages", operation_id = "getChat",
    params(PeerParam, ChatQuery),
    responses(
        (status = 200, description = "The messages.", body = Vec<MessageView>),
        (status = 400, description = "An ambiguous handle.", body = ErrorBody),
        (status = 404, description = "No known peer by that reference, or no conversation \
            with them.", body = ErrorBody),
    ))]
pub(crate) async fn chat(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
    query: Result<Query<ChatQuery>, QueryRejection>,
) -> ApiResult<Vec<MessageView>> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(ChatQuery::DEFAULT_LIMIT);
    if !(1..=ChatQuery::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {}",
            ChatQuery::MAX_LIMIT
        )));
    }
    let before = query
        .before
        .as_deref()
        .map(params::message_id)
        .transpose()?;
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.chat(peer, before, limit).await?))
}

/// Accepts a peer's message request: the conversation moves to the inbox.
#[utoipa::path(post, path = "/v1/requests/{peer}/accept", tag = "messages",
    operation_id = "acceptRequest", params(PeerParam),
    responses(
        (status = 200, description = "Accepted.", body = RequestDecision),
        (status = 400, description = "Not a request (already in the inbox), or an ambiguous \
            handle.", body = ErrorBody),
        (status = 404, description = "No known peer by that reference, or no request from \
            them.", body = ErrorBody),
    ))]
pub(crate) async fn accept(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<RequestDecision> {
    let peer_id = s.node.resolve(&peer)?;
    s.node.accept(peer_id).await?;
    Ok(Json(RequestDecision {
        peer_id,
        handle: handle_of(&s.node, peer_id),
        decision: Decision::Accepted,
    }))
}

/// Declines a peer's message request: the conversation and its messages are deleted.
#[utoipa::path(delete, path = "/v1/requests/{peer}", tag = "messages",
    operation_id = "declineRequest", params(PeerParam),
    responses(
        (status = 200, description = "Declined.", body = RequestDecision),
        (status = 400, description = "Not a request (already in the inbox), or an ambiguous \
            handle.", body = ErrorBody),
        (status = 404, description = "No known peer by that reference, or no request from \
            them.", body = ErrorBody),
    ))]
pub(crate) async fn decline(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<RequestDecision> {
    let peer_id = s.node.resolve(&peer)?;
    s.node.decline(peer_id).await?;
    Ok(Json(RequestDecision {
        peer_id,
        handle: handle_of(&s.node, peer_id),
        decision: Decision::Declined,
    }))
}

async fn set_blocked(s: &AppState, peer: &str, blocked: bool) -> ApiResult<BlockState> {
    let peer_id = s.node.resolve(peer)?;
    if blocked {
        s.node.block(peer_id).await?;
    } else {
        s.node.unblock(peer_id).await?;
    }
    Ok(Json(BlockState {
        peer_id,
        handle: handle_of(&s.node, peer_id),
        blocked,
    }))
}

/// Blocks a peer: their messages are refused, their follows, likes and comments ignored,
/// and a pending request from them is deleted.
#[utoipa::path(post, path = "/v1/blocked/{peer}", tag = "messages", operation_id = "block",
    params(PeerParam),
    responses(
        (status = 200, description = "Blocked.", body = BlockState),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn block(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<BlockState> {
    set_blocked(&s, &peer, true).await
}

/// Unblocks a peer.
#[utoipa::path(delete, path = "/v1/blocked/{peer}", tag = "messages", operation_id = "unblock",
    params(PeerParam),
    responses(
        (status = 200, description = "Not blocked.", body = BlockState),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn unblock(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<BlockState> {
    set_blocked(&s, &peer, false).await
}

/// The blocked peers.
#[utoipa::path(get, path = "/v1/blocked", tag = "messages", operation_id = "getBlocked",
    responses((status = 200, description = "The blocked peers.", body = Vec<BlockedPeer>)))]
pub(crate) async fn blocked(State(s): State<AppState>) -> ApiResult<Vec<BlockedPeer>> {
    Ok(Json(
        s.node
            .blocked()?
            .into_iter()
            .map(|peer_id| BlockedPeer {
                peer_id,
                handle: handle_of(&s.node, peer_id),
            })
            .collect(),
    ))
}

/// The safety number of the user's and a peer's messaging keys: 60 digits, the same on both
/// sides, to compare out of band.
#[utoipa::path(get, path = "/v1/safety-number/{peer}", tag = "messages",
    operation_id = "getSafetyNumber", params(PeerParam),
    responses(
        (status = 200, description = "The safety number.", body = SafetyNumber),
        (status = 400, description = "The peer has no messaging keys, or an ambiguous \
            handle.", body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn safety_number(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<SafetyNumber> {
    let peer_id = s.node.resolve(&peer)?;
    Ok(Json(SafetyNumber {
        peer_id,
        handle: handle_of(&s.node, peer_id),
        safety_number: s.node.safety_number(peer_id)?,
    }))
}
