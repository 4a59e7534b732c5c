//! What a [`crate::Node`] handle can ask of the actor: one [`Command`] per change, each
//! with the channel its answer goes back on.

use paperplane_protocol::{BlobHash, MessageBody, PeerId, RecordId};
use tokio::sync::oneshot;

use crate::{
    error::{Result, SendError},
    profile::ProfileUpdate,
    views::{MessageView, ProfileView, Status},
};

/// A message durably queued, as its sender learns it.
pub(crate) struct Queued {
    /// The message.
    pub(crate) view: MessageView,
    /// Whether a connection to the recipient was up when it was queued.
    pub(crate) connected: bool,
}

/// A request from a [`crate::Node`] handle.
pub(crate) enum Command {
    /// Report status.
    Status(oneshot::Sender<Result<Status>>),
    /// Dial an address.
    Connect {
        /// Multiaddr.
        addr: String,
        /// Answered once connected.
        reply: oneshot::Sender<Result<PeerId>>,
    },
    /// Re-run the DHT bootstrap; answered with the routing table's size.
    Bootstrap(oneshot::Sender<Result<usize>>),
    /// Name the user's mailboxes and publish them.
    SetMailboxes {
        /// At most four, validated.
        mailboxes: Vec<PeerId>,
        /// Answered once published.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Start or stop keeping mail for a peer.
    KeepMailFor {
        /// The recipient.
        peer: PeerId,
        /// Keep (or stop and delete).
        keep: bool,
        /// Answered once stored.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Ask the user's mailboxes for mail; answered with how many were asked.
    FetchMail(oneshot::Sender<Result<usize>>),
    /// Change the own profile.
    SetProfile {
        /// The change.
        update: ProfileUpdate,
        /// The new profile.
        reply: oneshot::Sender<Result<ProfileView>>,
    },
    /// Publish a post.
    Post {
        /// Image bytes.
        photos: Vec<Vec<u8>>,
        /// Caption.
        caption: String,
        /// The post id.
        reply: oneshot::Sender<Result<RecordId>>,
    },
    /// Follow or unfollow.
    Follow {
        /// Whom.
        peer: PeerId,
        /// Follow (true) or unfollow.
        following: bool,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Like or unlike.
    Like {
        /// Which post.
        post: RecordId,
        /// Like (true) or unlike.
        liked: bool,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Comment.
    Comment {
        /// Which post.
        post: RecordId,
        /// Text.
        text: String,
        /// The comment id.
        reply: oneshot::Sender<Result<RecordId>>,
    },
    /// Delete an own comment.
    DeleteComment {
        /// Which comment.
        comment: RecordId,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Send a direct message.
    Send {
        /// To whom.
        peer: PeerId,
        /// What it says or does (validated by the actor).
        body: MessageBody,
        /// The message once durably queued.
        reply: oneshot::Sender<std::result::Result<Queued, SendError>>,
    },
    /// Tell a peer the user is typing (or stopped).
    Typing {
        /// Whom.
        peer: PeerId,
        /// Typing or stopped.
        active: bool,
        /// Whether it was sent.
        reply: oneshot::Sender<Result<bool>>,
    },
    /// Switch read receipts and typing indicators, globally or for one chat.
    SetReceipts {
        /// The chat, or `None` for the global switch.
        peer: Option<PeerId>,
        /// On, off, or (for a chat) back to the global switch.
        on: Option<bool>,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Send a photo in a chat (sealed, kept for the recipient to fetch).
    SendPhoto {
        /// To whom.
        peer: PeerId,
        /// The image's bytes (validated by the actor).
        photo: Vec<u8>,
        /// A caption (may be empty).
        caption: String,
        /// The message once durably queued.
        reply: oneshot::Sender<std::result::Result<Queued, SendError>>,
    },
    /// Mark the chat with a peer read.
    MarkRead {
        /// The peer.
        peer: PeerId,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Move a request to the inbox.
    Accept {
        /// Whose request.
        peer: PeerId,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Delete a request.
    Decline {
        /// Whose request.
        peer: PeerId,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Block or unblock a peer.
    SetBlocked {
        /// Whom.
        peer: PeerId,
        /// Block (true) or unblock.
        blocked: bool,
        /// Done.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Fetch a blob from peers into the store.
    FetchBlob {
        /// Which blob.
        hash: BlobHash,
        /// Done (stored) or unavailable.
        reply: oneshot::Sender<Result<()>>,
    },
    /// Change the business and conversation tools' state.
    Business(crate::business::Request),
    /// Group chats.
    Group(crate::groups::Request),
    /// Stop the node.
    Shutdown(oneshot::Sender<Result<()>>),
}
