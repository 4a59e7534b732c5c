//! The library's error type.

use paperplane_protocol::{PeerId, ValidationError};

use crate::{home::HomeError, store::StoreError};

/// Why a node operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A problem with the home directory or its files.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// The store failed (or is locked by another process).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Input that breaks the protocol's rules (too long, not an image, …).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A peer reference matches no known peer.
    #[error("unknown peer {0}: no profile with that handle or id is known (connect to them or to someone who follows them first)")]
    UnknownPeer(String),
    /// An `@handle` matches several known profiles.
    #[error("{handle} is ambiguous; it matches: {}", .candidates.iter().map(|(p, f)| format!("{p} ({f})")).collect::<Vec<_>>().join(", "))]
    AmbiguousHandle {
        /// The handle asked for.
        handle: String,
        /// Each matching peer with its short fingerprint.
        candidates: Vec<(PeerId, String)>,
    },
    /// A post, comment or photo that is not known.
    #[error("{0}")]
    NotFound(String),
    /// An argument that is not acceptable (bad address, own id where another is needed, …).
    #[error("{0}")]
    BadRequest(String),
    /// A photo could not be fetched from any peer.
    #[error("photo {0} is not available from any connected peer")]
    PhotoUnavailable(String),
    /// The network stack failed.
    #[error("network: {0}")]
    Network(String),
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
