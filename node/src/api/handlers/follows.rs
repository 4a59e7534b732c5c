//! Following and followers.

use axum::{extract::State, Json};

use super::{handle_of, ApiResult, AppState};
use crate::{
    api::{
        params::PeerParam,
        types::{ErrorBody, FollowState},
    },
    views::FollowView,
};

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

/// Follows a peer: subscribes to their feed, tells them, and catches up on their posts.
#[utoipa::path(post, path = "/v1/follow/{peer}", tag = "follows", operation_id = "follow",
    params(PeerParam),
    responses(
        (status = 200, description = "Following.", body = FollowState),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn follow(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<FollowState> {
    set_follow(s, &peer, true).await
}

/// Stops following a peer.
#[utoipa::path(delete, path = "/v1/follow/{peer}", tag = "follows", operation_id = "unfollow",
    params(PeerParam),
    responses(
        (status = 200, description = "Not following.", body = FollowState),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn unfollow(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<FollowState> {
    set_follow(s, &peer, false).await
}

/// Whom the user follows.
#[utoipa::path(get, path = "/v1/following", tag = "follows", operation_id = "listFollowing",
    responses((status = 200, description = "The followed peers.", body = Vec<FollowView>)))]
pub(crate) async fn following(State(s): State<AppState>) -> ApiResult<Vec<FollowView>> {
    Ok(Json(s.node.following()?))
}

/// Who follows the user.
#[utoipa::path(get, path = "/v1/followers", tag = "follows", operation_id = "listFollowers",
    responses((status = 200, description = "The followers.", body = Vec<FollowView>)))]
pub(crate) async fn followers(State(s): State<AppState>) -> ApiResult<Vec<FollowView>> {
    Ok(Json(s.node.followers()?))
}
