//! The chat beyond text: reactions, unsend, edit, shared posts, typing and read receipts.

use axum::{extract::State, http::StatusCode, Json};

use super::{ApiResult, AppState};
use crate::{
    api::{
        body::StrictJson,
        chat_types::{
            ChatReadReceipts, ChatReceiptsState, MessageEdit, NewReaction, NewShare, ReadReceipts,
            TypingSent, TypingState,
        },
        error::ApiError,
        params::{self, MessageRefParam, PeerParam},
        types::{ErrorBody, NewMessage},
    },
    chat::{ShareTarget, LIKE},
    views::MessageView,
};

/// Reacts to a message with one emoji (❤️ unless given): one reaction per person per
/// message; the same one again takes it back.
#[utoipa::path(post, path = "/v1/messages/{id}/reactions", tag = "messages",
    operation_id = "react", params(MessageRefParam), request_body = NewReaction,
    responses(
        (status = 200, description = "The message with its reactions.", body = MessageView),
        (status = 400, description = "Not one emoji or shortcode.", body = ErrorBody),
        (status = 404, description = "No such message.", body = ErrorBody),
        (status = 409, description = "The message was unsent.", body = ErrorBody),
    ))]
pub(crate) async fn react(
    State(s): State<AppState>,
    MessageRefParam(id): MessageRefParam,
    StrictJson(req): StrictJson<NewReaction>,
) -> ApiResult<MessageView> {
    let id = s.node.resolve_message(&id)?;
    let emoji = req.emoji.as_deref().unwrap_or(LIKE);
    Ok(Json(s.node.react(&id, emoji).await?))
}

/// Takes back the user's reaction to a message.
#[utoipa::path(delete, path = "/v1/messages/{id}/reactions", tag = "messages",
    operation_id = "unreact", params(MessageRefParam),
    responses(
        (status = 200, description = "The message with its reactions.", body = MessageView),
        (status = 404, description = "No such message.", body = ErrorBody),
        (status = 409, description = "The message was unsent.", body = ErrorBody),
    ))]
pub(crate) async fn unreact(
    State(s): State<AppState>,
    MessageRefParam(id): MessageRefParam,
) -> ApiResult<MessageView> {
    Ok(Json(s.node.unreact(&s.node.resolve_message(&id)?).await?))
}

/// Unsends one of the user's messages for everyone in the chat.
#[utoipa::path(delete, path = "/v1/messages/{id}", tag = "messages", operation_id = "unsend",
    params(MessageRefParam),
    responses(
        (status = 200, description = "The message, now unsent.", body = MessageView),
        (status = 404, description = "No such message.", body = ErrorBody),
        (status = 409, description = "Not the user's message.", body = ErrorBody),
    ))]
pub(crate) async fn unsend(
    State(s): State<AppState>,
    MessageRefParam(id): MessageRefParam,
) -> ApiResult<MessageView> {
    Ok(Json(s.node.unsend(&s.node.resolve_message(&id)?).await?))
}

/// Edits one of the user's messages, within 15 minutes of sending it.
#[utoipa::path(patch, path = "/v1/messages/{id}", tag = "messages", operation_id = "edit",
    params(MessageRefParam), request_body = MessageEdit,
    responses(
        (status = 200, description = "The message with its new text.", body = MessageView),
        (status = 400, description = "A blank text or one over 4,096 bytes.", body = ErrorBody),
        (status = 404, description = "No such message.", body = ErrorBody),
        (status = 409, description = "Not the user's message, not a text, unsent, or more \
            than 15 minutes old.", body = ErrorBody),
    ))]
pub(crate) async fn edit(
    State(s): State<AppState>,
    MessageRefParam(id): MessageRefParam,
    StrictJson(req): StrictJson<MessageEdit>,
) -> ApiResult<MessageView> {
    super::not_blank("text", &req.text)?;
    Ok(Json(
        s.node.edit(&s.node.resolve_message(&id)?, req.text).await?,
    ))
}

/// Sends a post into a chat with the paper plane: the message carries the post's signed
/// record.
#[utoipa::path(post, path = "/v1/shares", tag = "messages", operation_id = "share",
    request_body = NewShare,
    responses(
        (status = 201, description = "Durably queued.", body = MessageView),
        (status = 400, description = "A text over 4,096 bytes, an ambiguous reference, the \
            user's own id, a blocked peer, or a peer without messaging keys.",
            body = ErrorBody),
        (status = 404, description = "No such post, or no known peer by that reference.",
            body = ErrorBody),
    ))]
pub(crate) async fn share(
    State(s): State<AppState>,
    StrictJson(req): StrictJson<NewShare>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    if !params::is_peer_ref(&req.to) {
        return Err(ApiError::bad_request(format!(
            "to: {:?} is not a peer id or @handle",
            req.to
        )));
    }
    let wait = NewMessage::wait_of(req.wait_ms).map_err(ApiError::bad_request)?;
    let post = s.node.resolve_post(&req.post)?;
    let peer = s.node.resolve(&req.to)?;
    let view = s.node.share(&post, peer, req.text, wait).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The people the user may send a post to: those they follow, most recently messaged
/// first.
#[utoipa::path(get, path = "/v1/share-targets", tag = "messages",
    operation_id = "getShareTargets",
    responses((status = 200, description = "The people.", body = Vec<ShareTarget>)))]
pub(crate) async fn share_targets(State(s): State<AppState>) -> ApiResult<Vec<ShareTarget>> {
    Ok(Json(s.node.share_targets()?))
}

/// Tells a peer the user is typing, or stopped (not stored; shown for a few seconds).
#[utoipa::path(post, path = "/v1/chats/{peer}/typing", tag = "messages",
    operation_id = "typing", params(PeerParam), request_body = TypingState,
    responses(
        (status = 200, description = "Whether it was sent.", body = TypingSent),
        (status = 400, description = "An ambiguous handle, or the user's own id.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn typing(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
    StrictJson(req): StrictJson<TypingState>,
) -> ApiResult<TypingSent> {
    let peer = s.node.resolve(&peer)?;
    Ok(Json(TypingSent {
        sent: s.node.typing(peer, req.active).await?,
    }))
}

/// Whether read receipts and typing indicators are sent (chats without their own switch).
#[utoipa::path(get, path = "/v1/settings/read-receipts", tag = "messages",
    operation_id = "getReadReceipts",
    responses((status = 200, description = "The switch.", body = ReadReceipts)))]
pub(crate) async fn read_receipts(State(s): State<AppState>) -> ApiResult<ReadReceipts> {
    Ok(Json(ReadReceipts {
        on: s.node.read_receipts()?,
    }))
}

/// Switches read receipts and typing indicators for chats without their own switch.
/// Others' receipts are shown either way.
#[utoipa::path(put, path = "/v1/settings/read-receipts", tag = "messages",
    operation_id = "setReadReceipts", request_body = ReadReceipts,
    responses((status = 200, description = "The switch.", body = ReadReceipts)))]
pub(crate) async fn set_read_receipts(
    State(s): State<AppState>,
    StrictJson(req): StrictJson<ReadReceipts>,
) -> ApiResult<ReadReceipts> {
    s.node.set_read_receipts(req.on).await?;
    Ok(Json(req))
}

/// Switches read receipts and typing indicators for one chat (`null`: follow the global
/// switch).
#[utoipa::path(put, path = "/v1/chats/{peer}/read-receipts", tag = "messages",
    operation_id = "setChatReadReceipts", params(PeerParam), request_body = ChatReadReceipts,
    responses(
        (status = 200, description = "The switch as it applies now.", body = ChatReceiptsState),
        (status = 400, description = "An ambiguous handle.", body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn set_chat_read_receipts(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
    StrictJson(req): StrictJson<ChatReadReceipts>,
) -> ApiResult<ChatReceiptsState> {
    let peer_id = s.node.resolve(&peer)?;
    s.node.set_chat_read_receipts(peer_id, req.on).await?;
    Ok(Json(ChatReceiptsState {
        peer_id,
        on: s.node.read_receipts_to(&peer_id)?,
    }))
}
