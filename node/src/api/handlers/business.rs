//! Quick replies, away, FAQ, chat labels and muting, and search.

use axum::{
    extract::{
        rejection::{PathRejection, QueryRejection},
        Path, Query, State,
    },
    http::StatusCode,
    Json,
};

use super::{ApiResult, AppState};
use crate::{
    api::{
        body::StrictJson,
        error::ApiError,
        params::{self, PeerParam},
        types::{ErrorBody, NewMessage},
    },
    business::{
        bodies::{
            AwayChange, ChatLabelPath, FaqChange, LabelPath, NamePath, QuickReplySend,
            QuickReplyText, SearchQuery,
        },
        AwayStatus, ChatMarks, QuickReply,
    },
    views::{ChatView, MessageView, ProfileView},
};

/// The saved quick replies, by name.
#[utoipa::path(get, path = "/v1/quick-replies", tag = "business",
    operation_id = "listQuickReplies",
    responses((status = 200, description = "The quick replies.", body = Vec<QuickReply>)))]
pub(crate) async fn quick_replies(State(s): State<AppState>) -> ApiResult<Vec<QuickReply>> {
    Ok(Json(s.node.quick_replies()?))
}

/// Saves a quick reply (replacing one of that name).
#[utoipa::path(put, path = "/v1/quick-replies/{name}", tag = "business",
    operation_id = "saveQuickReply",
    params(NamePath),
    request_body = QuickReplyText,
    responses(
        (status = 200, description = "Saved.", body = QuickReply),
        (status = 400, description = "A bad name, a blank text, one over 1,024 characters \
            or over 4,096 bytes once its shortcodes are expanded, or 100 quick replies \
            already.", body = ErrorBody),
    ))]
pub(crate) async fn save_quick_reply(
    State(s): State<AppState>,
    name: Result<Path<NamePath>, PathRejection>,
    StrictJson(body): StrictJson<QuickReplyText>,
) -> ApiResult<QuickReply> {
    let Path(NamePath { name }) = name?;
    Ok(Json(s.node.save_quick_reply(&name, &body.text).await?))
}

/// Removes a quick reply; answers with what it was.
#[utoipa::path(delete, path = "/v1/quick-replies/{name}", tag = "business",
    operation_id = "removeQuickReply",
    params(NamePath),
    responses(
        (status = 200, description = "Removed.", body = QuickReply),
        (status = 400, description = "Not a quick-reply name.", body = ErrorBody),
        (status = 404, description = "No quick reply by that name.", body = ErrorBody),
    ))]
pub(crate) async fn remove_quick_reply(
    State(s): State<AppState>,
    name: Result<Path<NamePath>, PathRejection>,
) -> ApiResult<QuickReply> {
    let Path(NamePath { name }) = name?;
    let reply = s.node.quick_reply(&name)?;
    s.node.remove_quick_reply(&name).await?;
    Ok(Json(reply))
}

/// Sends a quick reply as a direct message.
#[utoipa::path(post, path = "/v1/quick-replies/{name}/send", tag = "business",
    operation_id = "sendQuickReply",
    params(NamePath),
    request_body = QuickReplySend,
    responses(
        (status = 201, description = "Durably queued, as for `POST /v1/messages`.",
            body = MessageView),
        (status = 400, description = "Not a quick-reply name, a bad recipient or wait, as \
            for `POST /v1/messages`.", body = ErrorBody),
        (status = 404, description = "No quick reply by that name, or no known peer.",
            body = ErrorBody),
    ))]
pub(crate) async fn send_quick_reply(
    State(s): State<AppState>,
    name: Result<Path<NamePath>, PathRejection>,
    StrictJson(body): StrictJson<QuickReplySend>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let Path(NamePath { name }) = name?;
    if !params::is_peer_ref(&body.to) {
        return Err(ApiError::bad_request(format!(
            "to: {:?} is not a peer id or @handle",
            body.to
        )));
    }
    let wait = NewMessage::wait_of(body.wait_ms).map_err(ApiError::bad_request)?;
    s.node.quick_reply(&name)?;
    let peer = s.node.resolve(&body.to)?;
    let view = s.node.send_quick_reply(peer, &name, wait).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Whether the business is away, and its away text.
#[utoipa::path(get, path = "/v1/away", tag = "business", operation_id = "getAway",
    responses((status = 200, description = "The away status.", body = AwayStatus)))]
pub(crate) async fn away(State(s): State<AppState>) -> ApiResult<AwayStatus> {
    Ok(Json(s.node.away()?))
}

/// Goes away (the first new message of each conversation gets the away text back, once a
/// day per conversation) or comes back.
#[utoipa::path(put, path = "/v1/away", tag = "business", operation_id = "setAway",
    request_body = AwayChange,
    responses(
        (status = 200, description = "The new status.", body = AwayStatus),
        (status = 400, description = "A blank text, one over 1,024 characters, or one \
            over 4,096 bytes once its shortcodes are expanded.", body = ErrorBody),
        (status = 409, description = "Not a business account, or going away with no text \
            ever given.", body = ErrorBody),
    ))]
pub(crate) async fn set_away(
    State(s): State<AppState>,
    StrictJson(body): StrictJson<AwayChange>,
) -> ApiResult<AwayStatus> {
    Ok(Json(
        s.node.set_away(body.away, body.text.as_deref()).await?,
    ))
}

/// Publishes the business's frequently asked questions in its signed profile.
#[utoipa::path(put, path = "/v1/faq", tag = "business", operation_id = "setFaq",
    request_body = FaqChange,
    responses(
        (status = 200, description = "The new profile.", body = ProfileView),
        (status = 400, description = "More than 10 entries, or a blank or too long \
            question (200 characters) or answer (1,000).", body = ErrorBody),
        (status = 409, description = "Not a business account.", body = ErrorBody),
    ))]
pub(crate) async fn set_faq(
    State(s): State<AppState>,
    StrictJson(body): StrictJson<FaqChange>,
) -> ApiResult<ProfileView> {
    let faq = body.faq.into_iter().map(Into::into).collect();
    Ok(Json(s.node.set_faq(faq).await?))
}

async fn label(
    s: &AppState,
    path: Result<Path<ChatLabelPath>, PathRejection>,
    on: bool,
) -> ApiResult<ChatMarks> {
    let Path(ChatLabelPath { peer, label }) = path?;
    if !params::is_peer_ref(&peer) {
        return Err(ApiError::bad_request(format!(
            "{peer:?} is not a peer id or @handle"
        )));
    }
    let peer = s.node.resolve(&peer)?;
    Ok(Json(if on {
        s.node.label_chat(peer, &label).await?
    } else {
        s.node.unlabel_chat(peer, &label).await?
    }))
}

/// Adds a label to a chat (at most 10 a chat).
#[utoipa::path(post, path = "/v1/chats/{peer}/labels/{label}", tag = "business",
    operation_id = "labelChat",
    params(ChatLabelPath),
    responses(
        (status = 200, description = "The chat's labels and muting.", body = ChatMarks),
        (status = 400, description = "A bad label, 10 labels already, or an ambiguous \
            handle.", body = ErrorBody),
        (status = 404, description = "No known peer, or no conversation with them.",
            body = ErrorBody),
    ))]
pub(crate) async fn label_chat(
    State(s): State<AppState>,
    path: Result<Path<ChatLabelPath>, PathRejection>,
) -> ApiResult<ChatMarks> {
    label(&s, path, true).await
}

/// Removes a label from a chat.
#[utoipa::path(delete, path = "/v1/chats/{peer}/labels/{label}", tag = "business",
    operation_id = "unlabelChat",
    params(ChatLabelPath),
    responses(
        (status = 200, description = "The chat's labels and muting.", body = ChatMarks),
        (status = 400, description = "A bad label, or an ambiguous handle.", body = ErrorBody),
        (status = 404, description = "No known peer, or no conversation with them.",
            body = ErrorBody),
    ))]
pub(crate) async fn unlabel_chat(
    State(s): State<AppState>,
    path: Result<Path<ChatLabelPath>, PathRejection>,
) -> ApiResult<ChatMarks> {
    label(&s, path, false).await
}

/// The inbox chats carrying a label, newest activity first.
#[utoipa::path(get, path = "/v1/labels/{label}/chats", tag = "business",
    operation_id = "getLabelledChats",
    params(LabelPath),
    responses(
        (status = 200, description = "The chats.", body = Vec<ChatView>),
        (status = 400, description = "Not a label.", body = ErrorBody),
    ))]
pub(crate) async fn labelled(
    State(s): State<AppState>,
    label: Result<Path<LabelPath>, PathRejection>,
) -> ApiResult<Vec<ChatView>> {
    let Path(LabelPath { label }) = label?;
    Ok(Json(s.node.inbox_labelled(&label)?))
}

/// Mutes a chat: its messages still arrive, but notify nobody.
#[utoipa::path(post, path = "/v1/chats/{peer}/mute", tag = "business", operation_id = "mute",
    params(PeerParam),
    responses(
        (status = 200, description = "The chat's labels and muting.", body = ChatMarks),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer, or no conversation with them.",
            body = ErrorBody),
    ))]
pub(crate) async fn mute(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<ChatMarks> {
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.mute(peer).await?))
}

/// Unmutes a chat.
#[utoipa::path(delete, path = "/v1/chats/{peer}/mute", tag = "business",
    operation_id = "unmute", params(PeerParam),
    responses(
        (status = 200, description = "The chat's labels and muting.", body = ChatMarks),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer, or no conversation with them.",
            body = ErrorBody),
    ))]
pub(crate) async fn unmute(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<ChatMarks> {
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.unmute(peer).await?))
}

/// Searches the message history (every conversation, both directions) for a text, ignoring
/// case; newest first.
#[utoipa::path(get, path = "/v1/search", tag = "business", operation_id = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "The matching messages, newest first.",
            body = Vec<MessageView>),
        (status = 400, description = "A blank or too long text, or a limit outside 1–1000.",
            body = ErrorBody),
    ))]
pub(crate) async fn search(
    State(s): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> ApiResult<Vec<MessageView>> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(SearchQuery::DEFAULT_LIMIT);
    Ok(Json(s.node.search(&q.text, limit)?))
}
