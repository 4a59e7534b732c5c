//! The handlers of the API's routes, one function per route, grouped by area: each extracts
//! its input (strictly: see [`super::body`] and [`super::params`]), calls the [`Node`] and
//! returns JSON (or a library error as an [`ApiError`]). Each carries its OpenAPI
//! description (`#[utoipa::path]`), from which the document is built.

use std::sync::Arc;

use axum::Json;
use base64::{
    alphabet,
    engine::{general_purpose::GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use tokio::sync::watch;

use super::{auth::Credentials, error::ApiError};
use crate::{node::Node, PeerId};

pub(super) mod business;
pub(super) mod chat;
pub(super) mod chat_photos;
pub(super) mod follows;
pub(super) mod groups;
pub(super) mod mailboxes;
pub(super) mod messages;
pub(super) mod node;
pub(super) mod posts;
pub(super) mod profiles;
pub(super) mod web;

/// What every handler gets.
#[derive(Clone)]
pub(super) struct AppState {
    /// The node.
    pub(super) node: Node,
    /// Turns true when the server stops; event streams end then.
    pub(super) stop: watch::Receiver<bool>,
    /// The OpenAPI document, as served.
    pub(super) openapi: Arc<str>,
    /// The token and the web app's sessions.
    pub(super) credentials: Arc<Credentials>,
    /// This server's origin, `http://127.0.0.1:<port>`.
    pub(super) origin: Arc<str>,
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Standard padded base64 that, like the document's pattern, does not insist that the unused
/// bits of the last character be zero.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

fn decode_base64(field: &str, data: &str) -> Result<Vec<u8>, ApiError> {
    BASE64
        .decode(data)
        .map_err(|e| ApiError::bad_request(format!("{field} is not valid base64: {e}")))
}

fn handle_of(node: &Node, peer: PeerId) -> Option<String> {
    node.profile(Some(peer)).ok().map(|p| p.handle)
}

/// A 400 unless `text` is not blank (see [`super::types::is_not_blank`]).
fn not_blank(field: &str, text: &str) -> Result<(), ApiError> {
    if super::types::is_not_blank(text) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("{field} is empty")))
    }
}
