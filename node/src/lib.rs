//! paperplane: Instagram Direct without Instagram — a personal node that publishes a signed
//! profile and photo feed, follows people and messages them end to end, peer to peer over
//! libp2p, with no server. This crate is the node as a library: everything that does I/O.
//!
//! An app builds a [`Node`] from a home directory ([`NodeConfig`]), calls its async methods
//! and consumes its [`EventStream`]. The daemon (`paperplane daemon`, in the `paperplane-cli`
//! package) is a thin host of this library that serves the local HTTP API ([`api`]).
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
//!
//! Layout:
//! - [`home`]: the home directory: identity key, config file, API token and address.
//! - [`store`]: sled trees for profiles, posts, likes, comments, follows and blobs.
//! - [`net`]: the libp2p behaviour and swarm.
//! - `actor`: the task that owns the swarm and turns commands and network events into store
//!   changes and [`Event`]s.
//! - [`ingest`]: the acceptance rules for records from the network; [`sync_rules`]: what a
//!   sync response may carry and when to ask for the next page; [`serving`]: how much each
//!   peer may ask this node to serve.
//! - `mailbox_rules`: what a mailbox keeps for others (quotas), how fast peers may deposit
//!   and fetch, and the check that a fetch comes from the recipient; `store::mailbox` keeps
//!   the mail.
//! - [`feed`], [`profile`]: read models and the user's own profile.
//! - [`business`]: quick replies, away messages, FAQ, chat labels, muting and search.
//! - [`node`]: the public [`Node`] handle; `messaging` adds its direct-message methods,
//!   `chat` reactions, replies, shares, edits, unsend, receipts and typing (the rules in
//!   [`chat_rules`]), `photo_messaging` its chat-photo methods; [`chat_photo`]: checking and
//!   showing them.
//! - [`api`]: the daemon's local HTTP API server and the bodies it speaks.
//! - [`protocol`]: the wire types (`paperplane-protocol`), re-exported.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod actor;
pub mod anti_entropy;
pub mod api;
pub mod business;
mod chat;
pub mod chat_photo;
pub mod chat_rules;
pub mod clock;
pub mod config;
mod delivery;
pub mod error;
pub mod event;
pub mod feed;
pub mod group_rules;
pub mod groups;
pub mod home;
pub mod ingest;
pub(crate) mod mailbox_rules;
pub mod mailboxes;
mod messaging;
pub mod net;
pub mod node;
mod photo_messaging;
pub mod profile;
pub mod reach;
pub mod serving;
pub mod store;
pub mod sync_rules;
pub mod views;

pub use business::{AwayStatus, BusinessError, ChatMarks, FaqView, QuickReply};
pub use chat::{ShareTarget, LIKE};
pub use clock::Clock;
pub use config::NodeConfig;
pub use delivery::Folder;
pub use error::{Error, IdKind, Result, SendError};
pub use event::Event;
pub use groups::{GroupError, GroupMemberView, GroupView};
pub use home::Home;
pub use messaging::Wait;
pub use node::{init, EventStream, Node, EVENT_BUFFER};
pub use paperplane_protocol as protocol;
pub use paperplane_protocol::MessageId;
pub use paperplane_protocol::{BlobHash, GroupId, PeerId, RecordId};
pub use profile::ProfileUpdate;
pub use views::{
    ChatGroup, ChatView, CommentView, FollowView, MessageKind, MessageState, MessageView,
    PhotoView, PostView, ProfileView, QuoteView, ReactionView, SharedPostView, Status,
};
