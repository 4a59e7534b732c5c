//! Profiles: the user's own, the ones this node knows, and resolving a peer reference.

use axum::{extract::State, Json};

use super::{decode_base64, handle_of, not_blank, ApiResult, AppState};
use crate::{
    api::{
        body::StrictJson,
        params::{PeerParam, ReferenceParam},
        types::{ErrorBody, ProfilePatch, Resolved},
    },
    profile::{fingerprint, ProfileUpdate},
    views::ProfileView,
};

/// The user's own profile.
#[utoipa::path(get, path = "/v1/profile", tag = "profiles", operation_id = "getOwnProfile",
    responses((status = 200, description = "The profile.", body = ProfileView)))]
pub(crate) async fn own_profile(State(s): State<AppState>) -> ApiResult<ProfileView> {
    Ok(Json(s.node.profile(None)?))
}

/// Changes the user's profile; signs and publishes the new version. Absent fields stay as
/// they are.
#[utoipa::path(put, path = "/v1/profile", tag = "profiles", operation_id = "updateProfile",
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "The new version.", body = ProfileView),
        (status = 400, description = "A text too long, a blank business category, or an \
            avatar that is not valid base64 or not a JPEG, PNG or WebP of at most 8 MiB.",
            body = ErrorBody),
    ))]
pub(crate) async fn set_profile(
    State(s): State<AppState>,
    StrictJson(patch): StrictJson<ProfilePatch>,
) -> ApiResult<ProfileView> {
    if let Some(Some(category)) = &patch.business_category {
        not_blank("business_category", category)?;
    }
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
        ..Default::default()
    };
    Ok(Json(s.node.set_profile(update).await?))
}

/// Every profile this node knows.
#[utoipa::path(get, path = "/v1/profiles", tag = "profiles", operation_id = "listProfiles",
    responses((status = 200, description = "The profiles.", body = Vec<ProfileView>)))]
pub(crate) async fn profiles(State(s): State<AppState>) -> ApiResult<Vec<ProfileView>> {
    Ok(Json(s.node.profiles()?))
}

/// A peer's profile. A peer id this node has never met is looked up in the DHT, dialled and
/// asked for its profile (for up to 15 s).
#[utoipa::path(get, path = "/v1/profiles/{peer}", tag = "profiles", operation_id = "getProfile",
    params(PeerParam),
    responses(
        (status = 200, description = "The profile.", body = ProfileView),
        (status = 400, description = "An ambiguous handle (the candidates are listed).",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference, and (for a peer id) \
            none found in the DHT.", body = ErrorBody),
        (status = 409, description = "A peer id this node has not met, and no DHT peer to \
            ask.", body = ErrorBody),
        (status = 502, description = "The peer was found but could not be dialled.",
            body = ErrorBody),
        (status = 504, description = "The peer was not reached in time.", body = ErrorBody),
    ))]
pub(crate) async fn profile(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<ProfileView> {
    let peer = s.node.resolve(&peer)?;
    if peer == s.node.peer_id() {
        return Ok(Json(s.node.profile(None)?));
    }
    Ok(Json(
        s.node
            .find_profile(peer, std::time::Duration::from_secs(15))
            .await?,
    ))
}

/// Resolves a peer id or @handle.
#[utoipa::path(get, path = "/v1/resolve/{reference}", tag = "profiles",
    operation_id = "resolvePeer", params(ReferenceParam),
    responses(
        (status = 200, description = "The peer.", body = Resolved),
        (status = 400, description = "An ambiguous handle (the candidates are listed).",
            body = ErrorBody),
        (status = 404, description = "No known peer by that handle.", body = ErrorBody),
    ))]
pub(crate) async fn resolve(
    State(s): State<AppState>,
    ReferenceParam(reference): ReferenceParam,
) -> ApiResult<Resolved> {
    let peer_id = s.node.resolve(&reference)?;
    Ok(Json(Resolved {
        peer_id,
        fingerprint: fingerprint(&peer_id),
        handle: handle_of(&s.node, peer_id),
    }))
}
