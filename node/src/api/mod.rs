//! The daemon's local HTTP JSON API: the [`server`] the daemon runs on loopback. (Its typed
//! client, the one the CLI uses, lives with the CLI in the `paperplane-cli` package.)
//!
//! Every route lives under `/v1`, is refused to web pages (a foreign `Origin` or a `Host`
//! that is not loopback: [`guard`]), needs `Authorization: Bearer <token>` (the token is
//! `<home>/api.token`, mode 0600, new at each start: [`auth`]) and answers JSON; errors are
//! `{"error": "<one line>"}` with a status code that says what kind of failure it was
//! ([`error`]). `GET /v1/events` streams the node's [`crate::Event`]s as Server-Sent Events,
//! and `GET /v1/openapi.json` serves the OpenAPI document, derived from the code.
//!
//! Layout:
//! - [`types`]: the request and response bodies, shared with clients, with their schemas;
//!   [`chat_types`]: those of reactions, edits, shares, typing and read receipts;
//!   [`group_types`]: those of the group routes.
//! - [`body`]: strict JSON bodies; [`params`]: path parameters checked against their
//!   documented patterns; [`schema`]: schemas of ids and base64 texts.
//! - [`server`]: the routes, their body limits, and [`server::Server`], which binds and
//!   serves them; `handlers`: one function per route, each with its OpenAPI description;
//!   `doc`: the document's shared parts.
//! - [`guard`]: the `Origin`/`Host` check; [`auth`]: the bearer-token check.
//! - [`error`]: library errors as HTTP responses.

pub mod auth;
pub mod body;
pub mod chat_types;
mod doc;
pub mod error;
pub mod group_types;
pub mod guard;
mod handlers;
pub mod params;
pub mod schema;
pub mod server;
pub mod types;
pub mod web;
pub mod web_session;

pub use server::{openapi, BindError, Server};

/// Where the daemon serves its API unless told otherwise (flag `--api` or `api` in the config
/// file).
pub const DEFAULT_API_ADDR: &str = "127.0.0.1:7878";
