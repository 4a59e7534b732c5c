//! Posts, the feed, likes, comments and photos.

use axum::{
    body::Body,
    extract::{rejection::QueryRejection, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use paperplane_protocol::ImageKind;

use super::{decode_base64, not_blank, ApiResult, AppState};
use crate::{
    api::{
        body::StrictJson,
        error::ApiError,
        params::{HashParam, PeerParam, RecordParam},
        schema::Binary,
        types::{Created, Deleted, ErrorBody, FeedQuery, LikeState, NewComment, NewPost},
    },
    views::PostView,
};

/// Posts 1–10 photos with a caption. At most two uploads run at once; others wait for a
/// turn (up to 10 s, then 429).
#[utoipa::path(post, path = "/v1/posts", tag = "feed", operation_id = "createPost",
    request_body = NewPost,
    responses(
        (status = 201, description = "Posted.", body = Created),
        (status = 400, description = "A photo that is not valid base64 or not a JPEG, PNG or \
            WebP of at most 8 MiB, no photo or more than 10, or a caption too long.",
            body = ErrorBody),
        (status = 429, description = "Two uploads were running for the 10 s this one waited \
            for its turn; try again (see `Retry-After`).", body = ErrorBody),
    ))]
pub(crate) async fn create_post(
    State(s): State<AppState>,
    StrictJson(req): StrictJson<NewPost>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let NewPost {
        caption,
        photos_base64,
    } = req;
    let mut photos = Vec::with_capacity(photos_base64.len());
    // Each base64 text is freed as soon as it is decoded.
    for (i, p) in photos_base64.into_iter().enumerate() {
        photos.push(decode_base64(&format!("photos_base64[{i}]"), &p)?);
    }
    let id = s.node.post(photos, caption).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One post with its likes and comments.
#[utoipa::path(get, path = "/v1/posts/{id}", tag = "feed", operation_id = "getPost",
    params(RecordParam),
    responses(
        (status = 200, description = "The post.", body = PostView),
        (status = 400, description = "A prefix that more than one post has.", body = ErrorBody),
        (status = 404, description = "No such post.", body = ErrorBody),
    ))]
pub(crate) async fn post(
    State(s): State<AppState>,
    RecordParam(id): RecordParam,
) -> ApiResult<PostView> {
    let id = s.node.resolve_post(&id)?;
    Ok(Json(s.node.post_view(&id)?))
}

/// One author's posts this node holds, newest first, with likes and comments: every post of
/// the user and of people followed; of others, only those that reached this node.
#[utoipa::path(get, path = "/v1/profiles/{peer}/posts", tag = "feed",
    operation_id = "getPostsOf", params(PeerParam, FeedQuery),
    responses(
        (status = 200, description = "The posts.", body = Vec<PostView>),
        (status = 400, description = "A limit out of range, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn posts_of(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> ApiResult<Vec<PostView>> {
    let Query(query) = query?;
    let limit = query.limit()?;
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.posts_of(peer, limit)?))
}

/// Own and followed authors' posts, newest first, with likes and comments.
#[utoipa::path(get, path = "/v1/feed", tag = "feed", operation_id = "getFeed",
    params(FeedQuery),
    responses((status = 200, description = "The posts.", body = Vec<PostView>)))]
pub(crate) async fn feed(
    State(s): State<AppState>,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> ApiResult<Vec<PostView>> {
    let Query(query) = query?;
    let limit = query.limit()?;
    Ok(Json(s.node.feed(limit)?))
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

/// Likes a post.
#[utoipa::path(post, path = "/v1/posts/{id}/like", tag = "feed", operation_id = "like",
    params(RecordParam),
    responses(
        (status = 200, description = "Liked.", body = LikeState),
        (status = 400, description = "A prefix that more than one post has.", body = ErrorBody),
        (status = 404, description = "No such post.", body = ErrorBody),
    ))]
pub(crate) async fn like(
    State(s): State<AppState>,
    RecordParam(id): RecordParam,
) -> ApiResult<LikeState> {
    set_like(s, &id, true).await
}

/// Takes back a like.
#[utoipa::path(delete, path = "/v1/posts/{id}/like", tag = "feed", operation_id = "unlike",
    params(RecordParam),
    responses(
        (status = 200, description = "Not liked.", body = LikeState),
        (status = 400, description = "A prefix that more than one post has.", body = ErrorBody),
        (status = 404, description = "No such post.", body = ErrorBody),
    ))]
pub(crate) async fn unlike(
    State(s): State<AppState>,
    RecordParam(id): RecordParam,
) -> ApiResult<LikeState> {
    set_like(s, &id, false).await
}

/// Comments on a post.
#[utoipa::path(post, path = "/v1/posts/{id}/comments", tag = "feed", operation_id = "comment",
    params(RecordParam), request_body = NewComment,
    responses(
        (status = 201, description = "Commented.", body = Created),
        (status = 400, description = "A blank or too long text, or a prefix that more than \
            one post has.", body = ErrorBody),
        (status = 404, description = "No such post.", body = ErrorBody),
    ))]
pub(crate) async fn comment(
    State(s): State<AppState>,
    RecordParam(id): RecordParam,
    StrictJson(req): StrictJson<NewComment>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    not_blank("text", &req.text)?;
    let post = s.node.resolve_post(&id)?;
    let id = s.node.comment(post, req.text).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Deletes one of the user's own comments.
#[utoipa::path(delete, path = "/v1/comments/{id}", tag = "feed", operation_id = "deleteComment",
    params(RecordParam),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        (status = 400, description = "Someone else's comment, or a prefix that more than one \
            comment has.", body = ErrorBody),
        (status = 404, description = "No such comment.", body = ErrorBody),
    ))]
pub(crate) async fn delete_comment(
    State(s): State<AppState>,
    RecordParam(id): RecordParam,
) -> ApiResult<Deleted> {
    let id = s.node.resolve_comment(&id)?;
    s.node.delete_comment(id).await?;
    Ok(Json(Deleted { id, deleted: true }))
}

/// The bytes of a photo, fetched from peers (and verified against the hash) if this node
/// does not hold them yet.
#[utoipa::path(get, path = "/v1/photos/{hash}", tag = "feed", operation_id = "getPhoto",
    params(HashParam),
    responses(
        (status = 200, description = "The photo.", content(
            (Binary = "image/jpeg"), (Binary = "image/png"), (Binary = "image/webp"),
            (Binary = "application/octet-stream"))),
        (status = 404, description = "No peer within reach has that photo.", body = ErrorBody),
    ))]
pub(crate) async fn photo(
    State(s): State<AppState>,
    HashParam(hash): HashParam,
) -> Result<Response, ApiError> {
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
