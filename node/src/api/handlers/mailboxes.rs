//! Mailboxes: the nodes keeping the user's mail, the people this node keeps mail for, and
//! fetching now.

use super::{ApiResult, AppState};
use crate::{
    api::{
        body::StrictJson,
        error::ApiError,
        params::PeerParam,
        types::{ErrorBody, MailFetch, SetMailboxes},
    },
    mailboxes::MailboxView,
};
use axum::{extract::State, Json};

/// The user's mailboxes and the people this node keeps mail for.
#[utoipa::path(get, path = "/v1/mailboxes", tag = "mailboxes", operation_id = "getMailboxes",
    responses((status = 200, description = "Both lists.", body = MailboxView)))]
pub(crate) async fn mailboxes(State(s): State<AppState>) -> ApiResult<MailboxView> {
    Ok(Json(s.node.mailboxes()?))
}

/// Names the nodes that keep the user's mail, publishing them in the profile.
#[utoipa::path(put, path = "/v1/mailboxes", tag = "mailboxes", operation_id = "setMailboxes",
    request_body = SetMailboxes,
    responses(
        (status = 200, description = "Named and published.", body = MailboxView),
        (status = 400, description = "More than four, one named twice, or the user.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn set_mailboxes(
    State(s): State<AppState>,
    StrictJson(req): StrictJson<SetMailboxes>,
) -> ApiResult<MailboxView> {
    if req.mailboxes.len() > paperplane_protocol::mailbox::MAX_MAILBOXES {
        return Err(ApiError::bad_request("at most four mailboxes".to_owned()));
    }
    let peers = req
        .mailboxes
        .iter()
        .map(|r| s.node.resolve(r))
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(Json(s.node.set_mailboxes(peers).await?))
}

/// Starts keeping mail for a peer (ciphertext only, with quotas and a 30-day expiry).
#[utoipa::path(put, path = "/v1/mailboxes/keep/{peer}", tag = "mailboxes",
    operation_id = "keepMailFor", params(PeerParam),
    responses(
        (status = 200, description = "Keeping mail for them.", body = MailboxView),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn keep_mail_for(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<MailboxView> {
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.keep_mail_for(peer, true).await?))
}

/// Stops keeping mail for a peer and deletes what is held for them.
#[utoipa::path(delete, path = "/v1/mailboxes/keep/{peer}", tag = "mailboxes",
    operation_id = "stopKeepingMailFor", params(PeerParam),
    responses(
        (status = 200, description = "Not keeping mail for them.", body = MailboxView),
        (status = 400, description = "The user's own id, or an ambiguous handle.",
            body = ErrorBody),
        (status = 404, description = "No known peer by that reference.", body = ErrorBody),
    ))]
pub(crate) async fn stop_keeping_mail_for(
    State(s): State<AppState>,
    PeerParam(peer): PeerParam,
) -> ApiResult<MailboxView> {
    let peer = s.node.resolve(&peer)?;
    Ok(Json(s.node.keep_mail_for(peer, false).await?))
}

/// Asks the user's mailboxes for mail now; the messages arrive as `message` events.
#[utoipa::path(post, path = "/v1/mailboxes/fetch", tag = "mailboxes",
    operation_id = "fetchMail",
    responses((status = 200, description = "The mailboxes were asked.", body = MailFetch)))]
pub(crate) async fn fetch_mail(State(s): State<AppState>) -> ApiResult<MailFetch> {
    Ok(Json(MailFetch {
        asked: s.node.fetch_mail().await?,
    }))
}
