//! Typed events a node emits: to library users through [`crate::EventStream`], to API
//! clients over Server-Sent Events (serialized with a `type` tag).

use paperplane_protocol::{MessageId, PeerId, RecordId};
use serde::{Deserialize, Serialize};

use crate::views::{CommentView, MessageView, PostView, ProfileView};

/// Something happened that an app may want to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A newer version of someone's profile arrived (or our own changed).
    Profile {
        /// The profile.
        profile: ProfileView,
    },
    /// Someone the user has a conversation with published a new messaging identity key
    /// (a new device, a reinstall — or someone else): their safety number changed. Also
    /// carries the new profile.
    KeyChanged {
        /// The new profile.
        profile: ProfileView,
    },
    /// A post arrived (or we posted).
    Post {
        /// The post.
        post: PostView,
    },
    /// Someone liked or unliked a post.
    Like {
        /// The post.
        post: RecordId,
        /// Who.
        by: PeerId,
        /// True for a like, false for an unlike.
        liked: bool,
    },
    /// A comment arrived.
    Comment {
        /// The comment.
        comment: CommentView,
    },
    /// A comment was deleted by its author.
    CommentDeleted {
        /// The post.
        post: RecordId,
        /// The comment.
        comment: RecordId,
    },
    /// Someone followed or unfollowed someone.
    Follow {
        /// The follower.
        follower: PeerId,
        /// Who is (un)followed.
        followee: PeerId,
        /// True for follow.
        following: bool,
    },
    /// A direct message arrived and is stored.
    Message {
        /// The message.
        message: Box<MessageView>,
        /// True if it sits in message requests (the sender is not followed): a quieter
        /// notification.
        request: bool,
    },
    /// The user sent a message (from any client: the CLI, the API, a page, the library),
    /// now durably queued: every other open view of the chat can show it at once.
    MessageSent {
        /// The message as queued (pending).
        message: Box<MessageView>,
    },
    /// The recipient acknowledged one of our messages as stored.
    MessageDelivered {
        /// The message.
        id: MessageId,
        /// The recipient.
        peer: PeerId,
    },
    /// The recipient could not be reached and one of their mailboxes keeps the message
    /// for them: not delivered yet, but no longer waiting on this node alone.
    MessageStored {
        /// The message.
        id: MessageId,
        /// The recipient.
        peer: PeerId,
    },
    /// Someone reacted to a message in the chat with `peer` (the user or the other
    /// person), or took their reaction back (`emoji` is `None`).
    Reaction {
        /// The other person in the chat.
        peer: PeerId,
        /// The message.
        message: MessageId,
        /// Who reacted.
        by: PeerId,
        /// The emoji, or `None` for a reaction taken back.
        emoji: Option<String>,
    },
    /// A message was unsent by its author: show "message unsent" in its place.
    MessageUnsent {
        /// The other person in the chat.
        peer: PeerId,
        /// The message.
        message: MessageId,
        /// Its author.
        by: PeerId,
    },
    /// A message was edited by its author.
    MessageEdited {
        /// The other person in the chat.
        peer: PeerId,
        /// The message.
        message: MessageId,
        /// Its new text.
        text: String,
        /// When (the author's clock, Unix ms).
        edited_at: u64,
    },
    /// The other person saw our messages up to `up_to` (a read receipt).
    MessagesSeen {
        /// The other person.
        peer: PeerId,
        /// The newest of our messages they saw.
        up_to: MessageId,
        /// When (their clock, Unix ms).
        seen_at: u64,
    },
    /// The other person is typing in the chat (or stopped). Not stored: show it until
    /// `expires_at` unless a newer one arrives.
    Typing {
        /// Who.
        peer: PeerId,
        /// Typing now, or stopped.
        active: bool,
        /// Until when to show it (Unix ms, this node's clock).
        expires_at: u64,
    },
    /// The user switched read receipts (and typing indicators) for every chat (`peer` is
    /// `None`) or for one.
    ReadReceipts {
        /// The chat, or `None` for the global switch.
        peer: Option<PeerId>,
        /// Whether receipts are sent there now.
        on: bool,
    },
    /// One of our messages was refused or could not be delivered in time.
    MessageFailed {
        /// The message.
        id: MessageId,
        /// The recipient.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// The user opened a chat that had unread messages.
    ChatRead {
        /// The other person.
        peer: PeerId,
    },
    /// The user accepted a message request: the chat moved to the inbox.
    RequestAccepted {
        /// Who asked.
        peer: PeerId,
    },
    /// The user declined a message request: the chat and its messages are deleted.
    RequestDeclined {
        /// Who asked.
        peer: PeerId,
    },
    /// The user blocked or unblocked someone.
    Blocked {
        /// Whom.
        peer: PeerId,
        /// True for blocked, false for unblocked.
        blocked: bool,
    },
    /// A quick reply was saved (`text`) or removed (no `text`).
    QuickReply {
        /// Its name.
        name: String,
        /// Its text, or `None` once removed.
        text: Option<String>,
    },
    /// The business went away or came back.
    Away {
        /// The new status.
        status: crate::business::AwayStatus,
    },
    /// An away message was sent automatically to someone who wrote while the business was
    /// away.
    AwayMessageSent {
        /// To whom.
        peer: PeerId,
        /// The message.
        id: MessageId,
    },
    /// A chat's labels or muting changed.
    ChatMarks {
        /// The chat's labels and muting now.
        marks: crate::business::ChatMarks,
    },
    /// A chat photo is on its way: the recipient has fetched `bytes` of its `total` sealed
    /// bytes (seen by both ends: the recipient fetching, the sender serving).
    ChatPhotoProgress {
        /// The message.
        id: MessageId,
        /// The other person in the chat.
        peer: PeerId,
        /// Sealed bytes fetched so far.
        bytes: u64,
        /// All the sealed bytes.
        total: u64,
    },
    /// A received chat photo is decrypted, verified and stored.
    ChatPhotoReady {
        /// The message.
        id: MessageId,
        /// The sender.
        peer: PeerId,
    },
    /// A received chat photo was discarded: its bytes did not match the message.
    ChatPhotoFailed {
        /// The message.
        id: MessageId,
        /// The sender.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// A peer connected.
    PeerConnected {
        /// The peer.
        peer: PeerId,
    },
    /// The last connection to a peer closed.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// A group's roster changed (or the user was added to a group): re-read it.
    GroupChanged {
        /// The group.
        group: paperplane_protocol::GroupId,
        /// The roster's version now.
        version: u64,
        /// What changed, e.g. "ana added ben".
        change: String,
        /// Whether the group is in requests (added by someone the user does not follow).
        request: bool,
    },
    /// A member of a group is typing (or stopped).
    GroupTyping {
        /// The group.
        group: paperplane_protocol::GroupId,
        /// Who.
        peer: PeerId,
        /// Typing now, or stopped.
        active: bool,
        /// Until when to show it (Unix ms, this node's clock).
        expires_at: u64,
    },
    /// A reaction, edit, unsend or read receipt changed a group message: re-read it.
    GroupMessageChanged {
        /// The group.
        group: paperplane_protocol::GroupId,
        /// The message.
        message: paperplane_protocol::MessageId,
        /// Who changed it.
        by: PeerId,
    },
}
