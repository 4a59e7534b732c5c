//! Photos in chats: send one, and read a received one's bytes once it is decrypted.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use super::{decode_base64, AppState};
use crate::{
    api::{
        body::StrictJson,
        error::ApiError,
        params::{MessageIdParam, PeerParam},
        schema::Binary,
        types::{ErrorBody, NewChatPhoto},
    },
    views::MessageView,
};

/// Sends a photo in the chat with a peer. The photo is sealed under a fresh random key
/// before it leaves the node; the key travels in the end-to-end encrypted message, and the
/// recipient fetches the sealed bytes from this node (`chat_photo_progress` events follow
/// it). Uploads share the turns of `POST /v1/posts`.
#[utoipa::path(post, path = "/v1/chats/{peer}/photos", tag = "messages",
    operation_id = "sendChatPhoto", params(PeerParam), request_body = NewChatPhoto,
    responses(
        (status = 201, description = "Durably queued; `state` says whether the message was \
            delivered within the wait, `photo` describes the photo.", body = MessageView),
        (status = 400, description = "A photo that is not valid base64 or not a JPEG, PNG or \
            WebP of at most 8 MiB, a caption over 4,096 bytes, a wait over 24 h, an \
            ambiguous handle, the user's own id, a blocked peer, or a peer without messaging \
            keys.", body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
        (status = 429, description = "Two uploads were running for the 10 s this one waited \
            for its turn; try again (see `Retry-After`).", body = ErrorBody),
    ))]
pub(crate) async fn send_chat_photo(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
    StrictJson(req): StrictJson<NewChatPhoto>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let wait = req.wait().map_err(ApiError::bad_request)?;
    let photo = decode_base64("photo_base64", &req.photo_base64)?;
    let peer = s.node.resolve(&peer)?;
    let view = s.node.send_photo(peer, photo, req.text, wait).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The bytes of a message's photo: ours, or theirs once fetched, decrypted and verified.
#[utoipa::path(get, path = "/v1/messages/{id}/photo", tag = "messages",
    operation_id = "getChatPhoto", params(MessageIdParam),
    responses(
        (status = 200, description = "The photo.", content(
            (Binary = "image/jpeg"), (Binary = "image/png"), (Binary = "image/webp"))),
        (status = 404, description = "No such message, or it has no photo.", body = ErrorBody),
        (status = 409, description = "The photo is still to fetch from its sender, or was \
            discarded because its bytes did not match the message (the error says which).",
            body = ErrorBody),
    ))]
pub(crate) async fn chat_photo(
    State(s): State<AppState>,
    MessageIdParam(id): MessageIdParam,
) -> Result<Response, ApiError> {
    let (bytes, mime) = s.node.chat_photo(&id)?;
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
