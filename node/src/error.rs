//! The library's errors: [`Error`] for every operation, and [`SendError`] for sending a
//! message, whose cases callers branch on.

use std::fmt;

use paperplane_crypto::{x3dh::HandshakeError, EncryptError};
use paperplane_protocol::{PeerId, ValidationError};

use crate::{home::HomeError, store::StoreError};

/// What kind of record an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdKind {
    /// A post.
    Post,
    /// A comment.
    Comment,
    /// A direct message.
    Message,
}

impl IdKind {
    /// How many hex digits a whole id of this kind has.
    pub fn digits(self) -> usize {
        match self {
            Self::Post | Self::Comment => 64,
            Self::Message => 32,
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Post => "post",
            Self::Comment => "comment",
            Self::Message => "message",
        })
    }
}

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
    /// Sending a message failed.
    #[error(transparent)]
    Send(#[from] SendError),
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
    /// A reaction that is not one emoji or shortcode.
    #[error("{0:?} is not one emoji or an emoji shortcode like :fire:")]
    NotAnEmoji(String),
    /// The argument is neither a peer id nor a valid handle.
    #[error("{0:?} is neither a peer id nor a valid @handle")]
    NotAPeerReference(String),
    /// A record reference that is not an id or an id prefix.
    #[error("{reference:?} is not a {kind} id ({} hex digits, or a unique prefix of at least 6)", kind.digits())]
    NotAnId {
        /// What was given.
        reference: String,
        /// What it should name.
        kind: IdKind,
    },
    /// An id prefix that matches several records.
    #[error("{kind} id prefix {prefix} is ambiguous; give more digits")]
    AmbiguousId {
        /// The prefix.
        prefix: String,
        /// What it names.
        kind: IdKind,
    },
    /// No record with that id is known.
    #[error("no {kind} {id}")]
    NoSuch {
        /// What was looked for.
        kind: IdKind,
        /// The id (or prefix) asked for.
        id: String,
    },
    /// There is no conversation with this peer.
    #[error("no conversation with {0}")]
    NoConversation(PeerId),
    /// There is no message request from this peer.
    #[error("no request from {0}")]
    NoRequest(PeerId),
    /// The conversation with this peer is in the inbox, not among the requests.
    #[error("that conversation is in the inbox, not a request")]
    NotARequest(PeerId),
    /// The peer has not published the keys needed for end-to-end messaging.
    #[error("{0} has not published messaging keys")]
    NoMessagingKeys(PeerId),
    /// An action that needs someone else was given the user's own id (follow, block).
    #[error("you cannot {0} yourself")]
    SelfAction(&'static str),
    /// Only the author of a record may do this with it.
    #[error("only the author of a comment can delete it")]
    NotTheAuthor,
    /// A multiaddr that does not parse.
    #[error("bad multiaddr {addr:?}: {reason}")]
    BadAddress {
        /// What was given.
        addr: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A dial to this node's own address.
    #[error("that address is this node")]
    DialSelf,
    /// A dial failed (refused, unreachable, the wrong peer).
    #[error("network: {0}")]
    Dial(String),
    /// A peer id has no address record in the DHT and no known address.
    #[error("network: {0} is not in the DHT (no address record, not in any routing table)")]
    PeerNotFound(PeerId),
    /// A DHT operation with no DHT peer known (or the DHT off).
    #[error("no DHT peer known: start with a bootstrap peer (--bootstrap) or connect to one")]
    NoDhtPeers,
    /// A dial got no connection in time.
    #[error("network: {0}")]
    DialTimedOut(String),
    /// A listen address could not be bound.
    #[error("network: cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The network stack could not be built.
    #[error("network: {0}")]
    Transport(String),
    /// The store holds no profile of the node's own identity.
    #[error("no profile for {0} in the store: run `paperplane init` on an empty home")]
    NoOwnProfile(PeerId),
    /// A photo could not be fetched from any peer.
    #[error("photo {0} is not available from any connected peer")]
    PhotoUnavailable(String),
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
    /// A business or conversation tool refused the request.
    #[error(transparent)]
    Business(#[from] crate::business::BusinessError),
    /// A group action failed.
    #[error(transparent)]
    Group(#[from] crate::groups::GroupError),
    /// The message carries no photo.
    #[error("message {0} has no photo")]
    NotAPhoto(paperplane_protocol::MessageId),
    /// The message's photo is not on this node: still to fetch, or discarded.
    #[error("the photo of message {id} is {state}{}", .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    ChatPhotoNotReady {
        /// The message.
        id: paperplane_protocol::MessageId,
        /// `fetching` or `failed`.
        state: &'static str,
        /// Why it failed.
        reason: Option<String>,
    },
}

/// Why a message was not queued. Nothing was stored when this is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The recipient is the user.
    #[error("you cannot message yourself")]
    ToSelf,
    /// The user blocked the recipient.
    #[error("you blocked this person; unblock them first")]
    Blocked,
    /// No profile of the recipient is known, so there are no keys to encrypt to.
    #[error("unknown peer {0}: no profile known, so no keys to encrypt to (connect to them or to someone who follows them first)")]
    UnknownPeer(PeerId),
    /// The recipient's profile carries no messaging keys.
    #[error("@{0} has not published messaging keys yet")]
    NoMessagingKeys(String),
    /// The recipient's keys did not verify, or the handshake could not be made.
    #[error("cannot start an encrypted session: {0}")]
    Handshake(#[from] HandshakeError),
    /// Encryption failed.
    #[error("cannot encrypt: {0}")]
    Encrypt(#[from] EncryptError),
    /// The message breaks the protocol's rules (too long, …).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A reaction, reply, edit or unsend names a message that is not in the chat.
    #[error("no message {0} in this chat")]
    NoSuchMessage(paperplane_protocol::MessageId),
    /// A reaction, edit or unsend the rules do not allow.
    #[error("{0}")]
    Refused(#[from] crate::chat_rules::Refusal),
    /// Typing indicators are not messages: see `Node::typing`.
    #[error("a typing indicator is not sent as a message")]
    Ephemeral,
    /// The store took the message but could not flush it to disk; it was not confirmed.
    #[error("could not make the message durable: {0}")]
    NotDurable(String),
    /// The group cannot be sent to (no such group, not a member).
    #[error(transparent)]
    Group(crate::groups::GroupError),
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
