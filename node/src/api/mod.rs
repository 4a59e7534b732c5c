//! The daemon's local HTTP JSON API: the [`server`] the daemon runs on loopback. (Its typed
//! client, the one the CLI uses, lives with the CLI in the `paperplane-cli` package.)
//!
//! Every route lives under `/v1`, needs `Authorization: Bearer <token>` (the token is
//! `<home>/api.token`, mode 0600) and answers JSON; errors are `{"error": "<one line>"}` with a
//! status code that says what kind of failure it was ([`error`]). `GET /v1/events` streams the
//! node's [`crate::Event`]s as Server-Sent Events, and `GET /v1/openapi.json` describes every
//! route.
//!
//! Layout:
//! - [`types`]: the request and response bodies, shared with clients.
//! - [`server`]: the router and [`server::Server`], which binds and serves it; `handlers`:
//!   one function per route.
//! - [`auth`]: the bearer-token check.
//! - [`error`]: library errors as HTTP responses.

pub mod auth;
pub mod error;
mod handlers;
pub mod server;
pub mod types;

pub use server::{BindError, Server};

/// Where the daemon serves its API unless told otherwise (flag `--api` or `api` in the config
/// file).
pub const DEFAULT_API_ADDR: &str = "127.0.0.1:7878";

/// The OpenAPI 3.1 document describing every route, as served at `GET /v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");
