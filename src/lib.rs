//! paperplane: Instagram Direct without Instagram — a personal node that publishes a signed
//! profile and photo feed, follows people and (soon) messages them end to end, peer to peer
//! over libp2p, with no server.
//!
//! This crate is the public face of the workspace: it re-exports the library API of
//! `paperplane-node` ([`Node`], [`NodeConfig`], [`Event`], …) and the wire types of
//! `paperplane-protocol` (as [`protocol`]).
//!
//! ```no_run
//! # async fn demo() -> paperplane::Result<()> {
//! use paperplane::{Home, Node, NodeConfig};
//! let home = Home::new("/tmp/alice");
//! if !home.is_initialised() {
//!     paperplane::init(&home, "alice", Some("Alice"))?;
//! }
//! let node = Node::start(NodeConfig::from_home(home)?).await?;
//! let mut events = node.events();
//! node.connect("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...").await?;
//! while let Some(event) = events.next().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use paperplane_node::{
    init, BlobHash, ChatView, Clock, CommentView, Error, Event, EventStream, Folder, FollowView,
    Home, IdKind, MessageId, MessageState, MessageView, Node, NodeConfig, PeerId, PhotoView,
    PostView, ProfileUpdate, ProfileView, RecordId, Result, SendError, Status, Wait,
};
pub use paperplane_protocol as protocol;
