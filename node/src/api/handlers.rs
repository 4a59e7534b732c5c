//! The handlers of the API's routes: each extracts its input, calls the [`Node`] and returns
//! JSON (or a library error as an [`ApiError`]).

use std::convert::Infallible;

use axum::{
    body::Body,
    extract::{
        rejection::{JsonRejection, PathRejection, QueryRejection},
        Path, Query, State,
    },
    http::{header, HeaderValue, StatusCode},
    response::{
        sse::{self, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Json,
};
use base64::Engine;
use futures::Stream;
use paperplane_protocol::{BlobHash, ImageKind};
use tokio::sync::watch;

use super::{
    error::ApiError,
    types::{
        BlockState, BlockedPeer, ChatQuery, ConnectRequest, Connected, Created, Decision, Deleted,
        FeedQuery, FollowState, LikeState, NewComment, NewMessage, NewPost, NodeStatus,
        ProfilePatch, RequestDecision, Resolved, SafetyNumber,
    },
    OPENAPI_JSON,
};
use crate::{
    node::Node,
    profile::fingerprint,
    profile::ProfileUpdate,
    views::{ChatView, FollowView, MessageView, PostView, ProfileView},
    MessageId, PeerId,
};

/// What every handler gets.
#[derive(Clone)]
pub(super) struct AppState {
    /// The node.
    pub(super) node: Node,
    /// Turns true when the server stops; event streams end then.
    pub(super) stop: watch::Receiver<bool>,
}

type ApiResult<T> = Result<Json<T>, ApiError>;

fn decode_base64(field: &str, data: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| ApiError::bad_request(format!("{field} is not valid base64: {e}")))
}

fn handle_of(node: &Node, peer: PeerId) -> Option<String> {
    node.profile(Some(peer)).ok().map(|p| p.handle)
}

pub(super) async fn status(State(s): State<AppState>) -> ApiResult<NodeStatus> {
    Ok(Json(NodeStatus {
        node: s.node.status().await?,
        outbox: s.node.outbox_len(),
    }))
}

pub(super) async fn own_profile(State(s): State<AppState>) -> ApiResult<ProfileView> {
    Ok(Json(s.node.profile(None)?))
}

pub(super) async fn set_profile(
    State(s): State<AppState>,
    body: Result<Json<ProfilePatch>, JsonRejection>,
) -> ApiResult<ProfileView> {
    let Json(patch) = body?;
    let avatar = patch
        .avatar_base64
        .as_deref()
        .map(|a| decode_base64("avatar_base64", a))
        .transpose()?;
    let update = ProfileUpdate {
        display_name: patch.display_name,
        bio: patch.bio,
        avatar,
        business: patch.business_category,
    };
    Ok(Json(s.node.set_profile(update).await?))
}

pub(super) async fn profiles(State(s): State<AppState>) -> ApiResult<Vec<ProfileView>> {
    Ok(Json(s.node.profiles()?))
}

pub(super) async fn profile(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<ProfileView> {
    let Path(peer) = peer?;
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.profile(Some(peer))?))
}

pub(super) async fn resolve(
    State(s): State<AppState>,
    reference: Result<Path<String>, PathRejection>,
) -> ApiResult<Resolved> {
    let Path(reference) = reference?;
    let peer_id = s.node.resolve(&reference)?;
    Ok(Json(Resolved {
        peer_id,
        fingerprint: fingerprint(&peer_id),
        handle: handle_of(&s.node, peer_id),
    }))
}

pub(super) async fn connect(
    State(s): State<AppState>,
    body: Result<Json<ConnectRequest>, JsonRejection>,
) -> ApiResult<Connected> {
    let Json(req) = body?;
    let peer_id = s.node.connect(&req.addr).await?;
    Ok(Json(Connected { peer_id }))
}

pub(super) async fn create_post(
    State(s): State<AppState>,
    body: Result<Json<NewPost>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(req) = body?;
    let photos = req
        .photos_base64
        .iter()
        .enumerate()
        .map(|(i, p)| decode_base64(&format!("photos_base64[{i}]"), p))
        .collect::<Result<Vec<_>, _>>()?;
    let id = s.node.post(photos, req.caption).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

pub(super) async fn post(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<PostView> {
    let Path(id) = id?;
    let id = s.node.resolve_post(&id)?;
    Ok(Json(s.node.post_view(&id)?))
}

pub(super) async fn feed(
    State(s): State<AppState>,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> ApiResult<Vec<PostView>> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(FeedQuery::DEFAULT_LIMIT);
    if !(1..=FeedQuery::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {}",
            FeedQuery::MAX_LIMIT
        )));
    }
    Ok(Json(s.node.feed(limit)?))
}

async fn set_follow(s: AppState, peer: &str, following: bool) -> ApiResult<FollowState> {
    let peer_id = s.node.resolve(peer)?;
    if following {
        s.node.follow(peer_id).await?;
    } else {
        s.node.unfollow(peer_id).await?;
    }
    Ok(Json(FollowState {
        peer_id,
        handle: handle_of(&s.node, peer_id),
        following,
    }))
}

pub(super) async fn follow(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<FollowState> {
    let Path(peer) = peer?;
    set_follow(s, &peer, true).await
}

pub(super) async fn unfollow(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<FollowState> {
    let Path(peer) = peer?;
    set_follow(s, &peer, false).await
}

pub(super) async fn following(State(s): State<AppState>) -> ApiResult<Vec<FollowView>> {
    Ok(Json(s.node.following()?))
}

pub(super) async fn followers(State(s): State<AppState>) -> ApiResult<Vec<FollowView>> {
    Ok(Json(s.node.followers()?))
}

async fn set_like(s: AppState, post: &str, liked: bool) -> ApiResult<LikeState> {
    let post = s.node.resolve_post(post)?;
    if liked {
        s.node.like(post).await?;
    } else {
        s.node.unlike(post).await?;
    }
    Ok(Json(LikeState { post, liked }))
}

pub(super) async fn like(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<LikeState> {
    let Path(id) = id?;
    set_like(s, &id, true).await
}

pub(super) async fn unlike(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<LikeState> {
    let Path(id) = id?;
    set_like(s, &id, false).await
}

pub(super) async fn comment(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<NewComment>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Path(id) = id?;
    let Json(req) = body?;
    let post = s.node.resolve_post(&id)?;
    let id = s.node.comment(post, req.text).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

pub(super) async fn delete_comment(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Deleted> {
    let Path(id) = id?;
    let id = s.node.resolve_comment(&id)?;
    s.node.delete_comment(id).await?;
    Ok(Json(Deleted { id, deleted: true }))
}

pub(super) async fn photo(
    State(s): State<AppState>,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(hash) = hash?;
    let hash: BlobHash = hash.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "{hash:?} is not a photo hash (64 hex digits of its SHA-256)"
        ))
    })?;
    let bytes = s.node.photo(hash).await?;
    let mime = ImageKind::sniff(&bytes).map_or("application/octet-stream", ImageKind::mime);
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

/// Parses a message id (32 hex digits).
fn message_id(id: &str) -> Result<MessageId, ApiError> {
    id.trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a message id (32 hex digits)")))
}

pub(super) async fn send_message(
    State(s): State<AppState>,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let Json(req) = body?;
    let wait = req.wait().map_err(ApiError::bad_request)?;
    let peer = s.node.resolve(&req.to)?;
    let view = s.node.send(peer, req.text, wait).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub(super) async fn message(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<MessageView> {
    let Path(id) = id?;
    Ok(Json(s.node.message(&message_id(&id)?)?))
}

pub(super) async fn inbox(State(s): State<AppState>) -> ApiResult<Vec<ChatView>> {
    Ok(Json(s.node.inbox()?))
}

pub(super) async fn requests(State(s): State<AppState>) -> ApiResult<Vec<ChatView>> {
    Ok(Json(s.node.requests()?))
}

pub(super) async fn chat(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
    query: Result<Query<ChatQuery>, QueryRejection>,
) -> ApiResult<Vec<MessageView>> {
    let Path(peer) = peer?;
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(ChatQuery::DEFAULT_LIMIT);
    if !(1..=ChatQuery::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {}",
            ChatQuery::MAX_LIMIT
        )));
    }
    let before = query.before.as_deref().map(message_id).transpose()?;
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.chat(peer, before, limit).await?))
}

pub(super) async fn accept(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<RequestDecision> {
    let Path(peer) = peer?;
    let peer_id = s.node.resolve(&peer)?;
    s.node.accept(peer_id).await?;
    Ok(Json(RequestDecision {
        peer_id,
        handle: handle_of(&s.node, peer_id),
        decision: Decision::Accepted,
    }))
}

pub(super) async fn decline(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<RequestDecision> {
    let Path(peer) = peer?;
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

pub(super) async fn block(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<BlockState> {
    let Path(peer) = peer?;
    set_blocked(&s, &peer, true).await
}

pub(super) async fn unblock(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<BlockState> {
    let Path(peer) = peer?;
    set_blocked(&s, &peer, false).await
}

pub(super) async fn blocked(State(s): State<AppState>) -> ApiResult<Vec<BlockedPeer>> {
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

pub(super) async fn safety_number(
    State(s): State<AppState>,
    peer: Result<Path<String>, PathRejection>,
) -> ApiResult<SafetyNumber> {
    let Path(peer) = peer?;
    let peer_id = s.node.resolve(&peer)?;
    Ok(Json(SafetyNumber {
        peer_id,
        handle: handle_of(&s.node, peer_id),
        safety_number: s.node.safety_number(peer_id)?,
    }))
}

pub(super) async fn events(
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

pub(super) async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
        .into_response()
}
