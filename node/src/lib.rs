//! The paperplane node: everything that does I/O.
//!
//! An app builds a [`Node`] from a home directory ([`NodeConfig`]), calls its async methods
//! and consumes its [`EventStream`]. The daemon (`paperplane daemon`) is a thin host of this
//! library that serves the local HTTP API ([`api`]); the CLI is a thin client of that API.
//!
//! Layout:
//! - [`home`]: the home directory: identity key, config file, API token and address.
//! - [`store`]: sled trees for profiles, posts, likes, comments, follows and blobs.
//! - [`net`]: the libp2p behaviour and swarm.
//! - `actor`: the task that owns the swarm and turns commands and network events into store
//!   changes and [`Event`]s.
//! - [`ingest`]: the acceptance rules for records from the network.
//! - [`feed`], [`profile`]: read models and the user's own profile.
//! - [`node`]: the public [`Node`] handle; `messaging` adds its direct-message methods.
//! - [`api`]: the daemon's local HTTP API (server and client); [`cli`]: the command line.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod actor;
pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
mod delivery;
pub mod error;
pub mod event;
pub mod feed;
pub mod home;
pub mod ingest;
mod messaging;
pub mod net;
pub mod node;
pub mod profile;
pub mod store;
pub mod views;

pub use clock::Clock;
pub use config::NodeConfig;
pub use delivery::Folder;
pub use error::{Error, IdKind, Result, SendError};
pub use event::Event;
pub use home::Home;
pub use messaging::Wait;
pub use node::{init, EventStream, Node};
pub use paperplane_protocol::MessageId;
pub use paperplane_protocol::{BlobHash, PeerId, RecordId};
pub use profile::ProfileUpdate;
pub use views::{
    ChatView, CommentView, FollowView, MessageState, MessageView, PhotoView, PostView, ProfileView,
    Status,
};
