//! The `paperplane` command line, outside the library: the `paperplane` binary (`src/main.rs`)
//! parses arguments and calls this crate, which hosts the daemon on the `paperplane` library
//! and talks to a running daemon through its local HTTP API.
//!
//! Layout:
//! - [`cli`]: the commands (clap), the daemon host, notification commands and the text
//!   rendering for people; errors are `anyhow` here, at the binary's edge.
//! - [`client`]: [`client::Client`], a typed client of the daemon's local API, one async
//!   method per route (`client_chat`: the chat routes beyond text; `client_groups`: the
//!   group routes).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
pub mod client;
mod client_chat;
mod client_groups;
