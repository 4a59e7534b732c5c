//! What the library hands to apps (and the API serializes as JSON): plain data built from the
//! signed records, with ids as hex and peers as their `PeerId` strings.

use paperplane_protocol::{
    BlobHash, Comment, ImageKind, MessageBody, MessageId, PeerId, PhotoRef, Post, Profile,
    RecordId, Signed,
};

use crate::{
    chat_rules::{self, MessageMarks},
    store::{
        chat_state::ChatMeta,
        messages::{Chat, DeliveryState, Folder, StoredMessage},
    },
};
use serde::{Deserialize, Serialize};

/// A user's profile as the node knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileView {
    /// The user's id.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer_id: PeerId,
    /// Handle without `@`.
    pub handle: String,
    /// Display name.
    pub display_name: String,
    /// Biography.
    pub bio: String,
    /// Hex SHA-256 of the profile photo.
    #[schema(value_type = Option<crate::api::schema::HashText>)]
    pub avatar: Option<BlobHash>,
    /// Business category, for business accounts.
    pub business_category: Option<String>,
    /// Profile version (increases with every change).
    pub version: u64,
    /// When this version was made (Unix ms).
    pub updated_at: u64,
    /// Whether the profile publishes end-to-end messaging keys.
    pub messaging_keys: bool,
    /// The nodes keeping mail for the user while they are offline.
    #[serde(default)]
    #[schema(value_type = Vec<crate::api::schema::PeerIdText>)]
    pub mailboxes: Vec<PeerId>,
    /// A business's frequently asked questions (empty for others).
    #[serde(default)]
    pub faq: Vec<crate::business::FaqView>,
}

impl From<&Signed<Profile>> for ProfileView {
    fn from(p: &Signed<Profile>) -> Self {
        let b = &p.body;
        Self {
            peer_id: b.author,
            handle: b.handle.as_str().to_owned(),
            display_name: b.display_name.clone(),
            bio: b.bio.clone(),
            avatar: b.avatar.map(|a| a.hash),
            business_category: b.business.as_ref().map(|x| x.category.clone()),
            version: b.version,
            updated_at: b.updated_at,
            messaging_keys: b.messaging.is_some(),
            mailboxes: b
                .messaging
                .as_ref()
                .map(|k| k.mailboxes.clone())
                .unwrap_or_default(),
            faq: crate::business::faq_views(b),
        }
    }
}

/// A photo of a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhotoView {
    /// Hex SHA-256 of the bytes.
    #[schema(value_type = crate::api::schema::HashText)]
    pub hash: BlobHash,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub mime: String,
    /// Whether this node already holds the bytes.
    pub local: bool,
}

impl PhotoView {
    pub(crate) fn new(p: &PhotoRef, local: bool) -> Self {
        Self {
            hash: p.hash,
            size: p.size,
            mime: ImageKind::mime(p.kind).to_owned(),
            local,
        }
    }
}

/// A comment on a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommentView {
    /// Comment id.
    #[schema(value_type = crate::api::schema::RecordIdText)]
    pub id: RecordId,
    /// The post.
    #[schema(value_type = crate::api::schema::RecordIdText)]
    pub post: RecordId,
    /// Who wrote it.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub author: PeerId,
    /// Their handle, if their profile is known.
    pub author_handle: Option<String>,
    /// The text.
    pub text: String,
    /// When (Unix ms).
    pub created_at: u64,
}

impl CommentView {
    pub(crate) fn new(c: &Signed<Comment>, author_handle: Option<String>) -> Self {
        Self {
            id: c.id(),
            post: c.body.post,
            author: c.body.author,
            author_handle,
            text: c.body.text.clone(),
            created_at: c.body.created_at,
        }
    }
}

/// A post with what the node knows of its likes and comments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PostView {
    /// Post id.
    #[schema(value_type = crate::api::schema::RecordIdText)]
    pub id: RecordId,
    /// The author.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub author: PeerId,
    /// Their handle, if their profile is known.
    pub author_handle: Option<String>,
    /// Per-author sequence number.
    pub seq: u64,
    /// When (Unix ms).
    pub created_at: u64,
    /// The caption.
    pub caption: String,
    /// The photos.
    pub photos: Vec<PhotoView>,
    /// Who likes it now.
    #[schema(value_type = Vec<crate::api::schema::PeerIdText>)]
    pub liked_by: Vec<PeerId>,
    /// Whether this node's user likes it.
    pub liked_by_me: bool,
    /// Comments, oldest first.
    pub comments: Vec<CommentView>,
}

impl PostView {
    pub(crate) fn header(p: &Signed<Post>, author_handle: Option<String>) -> Self {
        Self {
            id: p.id(),
            author: p.body.author,
            author_handle,
            seq: p.body.seq,
            created_at: p.body.created_at,
            caption: p.body.caption.clone(),
            photos: Vec::new(),
            liked_by: Vec::new(),
            liked_by_me: false,
            comments: Vec::new(),
        }
    }
}

/// One side of a follow relation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowView {
    /// The other user.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer_id: PeerId,
    /// Their handle, if known.
    pub handle: Option<String>,
    /// Since when (Unix ms).
    pub since: u64,
}

/// The node's state at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Status {
    /// This node's user.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer_id: PeerId,
    /// Their handle.
    pub handle: String,
    /// Addresses others can dial, each ending in `/p2p/<peer_id>`.
    pub listen_addrs: Vec<String>,
    /// How many peers are connected.
    pub connected_peers: usize,
    /// Those peers.
    #[schema(value_type = Vec<crate::api::schema::PeerIdText>)]
    pub peers: Vec<PeerId>,
    /// Records from the network rejected since start (forged, malformed, misplaced).
    pub rejected_records: u64,
    /// Streams peers hold open on this node now (each peer within its cap).
    pub inbound_streams: usize,
    /// Whether peers on the internet can dial this node directly (AutoNAT).
    pub reachability: crate::reach::Reachability,
    /// Public addresses confirmed by AutoNAT.
    pub external_addrs: Vec<String>,
    /// Addresses through relays holding a reservation for this node (`…/p2p-circuit/p2p/<id>`).
    pub relayed_addrs: Vec<String>,
    /// Every open connection.
    pub connections: Vec<ConnectionView>,
    /// Peers in the DHT routing table.
    pub dht_peers: usize,
    /// Whether this node relays for others.
    pub relay_server: bool,
}

/// One open connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionView {
    /// The peer.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer: PeerId,
    /// The address the connection runs over.
    pub address: String,
    /// Whether it runs through a relay.
    pub relayed: bool,
}

/// Where a message stands, as shown to people (serialized as `pending`, `delivered`,
/// `seen`, `failed`, `received`, `stored`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageState {
    /// Ours, durably queued, not yet acknowledged.
    Pending,
    /// Ours, not delivered yet but kept for the recipient by one of their mailboxes (they
    /// were unreachable).
    Stored,
    /// Ours, acknowledged as stored by the recipient.
    Delivered,
    /// Ours, delivered and seen by the recipient (the view's `seen_at` says when).
    Seen,
    /// Ours, refused or undeliverable (the view's `error` says why).
    Failed,
    /// Theirs, received.
    Received,
}

impl MessageState {
    const ALL: [Self; 6] = [
        Self::Pending,
        Self::Stored,
        Self::Delivered,
        Self::Seen,
        Self::Failed,
        Self::Received,
    ];

    /// The state's name as the API and the CLI show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Stored => "stored",
            Self::Delivered => "delivered",
            Self::Seen => "seen",
            Self::Failed => "failed",
            Self::Received => "received",
        }
    }
}

impl std::str::FromStr for MessageState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a message state"))
    }
}

impl PartialEq<&str> for MessageState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for MessageState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of message a [`MessageView`] shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageKind {
    /// Text (emoji included).
    Text,
    /// Text answering another message (`reply_to`).
    Reply,
    /// A post sent with the paper plane (`shared_post`).
    SharedPost,
    /// A photo.
    Photo,
    /// A reaction, edit, unsend or read receipt: the view of such a change as just sent.
    Change,
    /// Unsent by its author: nothing of it is left but its place.
    Unsent,
    /// A kind a newer version sent: "unsupported message — update paperplane".
    Unsupported,
}

/// What a reply quotes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuoteView {
    /// The quoted message (it may be gone, or never have reached this node).
    #[schema(value_type = crate::api::schema::MessageIdText)]
    pub id: MessageId,
    /// Who wrote it.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub author: PeerId,
    /// Its first words.
    pub excerpt: String,
}

/// A post shared into a chat, from the signed record the message carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SharedPostView {
    /// Post id.
    #[schema(value_type = crate::api::schema::RecordIdText)]
    pub id: RecordId,
    /// Its author.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub author: PeerId,
    /// When it was posted (Unix ms).
    pub created_at: u64,
    /// Its caption.
    pub caption: String,
    /// Its photos (fetched from the sender, and checked against these hashes, only when the
    /// signature verifies).
    pub photos: Vec<PhotoView>,
    /// Whether the author's signature verifies. An unverifiable post is shown as such and
    /// its photos are not fetched.
    pub verified: bool,
}

/// One emoji's reactions on a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReactionView {
    /// The emoji.
    pub emoji: String,
    /// How many people reacted with it.
    pub count: usize,
    /// Who, in the order they reacted.
    #[schema(value_type = Vec<crate::api::schema::PeerIdText>)]
    pub by: Vec<PeerId>,
}

/// A direct message as shown to people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageView {
    /// Message id (hex).
    #[schema(value_type = crate::api::schema::MessageIdText)]
    pub id: MessageId,
    /// The other person in the chat.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer: PeerId,
    /// Who sent it.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub from: PeerId,
    /// Whom it was sent to.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub to: PeerId,
    /// Whether this node's user sent it.
    pub outgoing: bool,
    /// What kind of message it is.
    pub kind: MessageKind,
    /// The text as it stands now (edited text if edited; empty if unsent; a caption for a
    /// photo or a shared post).
    pub text: String,
    /// Whether the text is 1–3 emoji only, to be shown large.
    pub emoji_only: bool,
    /// For a reply: what it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<QuoteView>,
    /// For a shared post: the post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_post: Option<SharedPostView>,
    /// Reactions, grouped by emoji.
    pub reactions: Vec<ReactionView>,
    /// When it was last edited (the author's clock), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    /// The sender's timestamp (Unix ms).
    pub sent_at: u64,
    /// When this node stored it (Unix ms).
    pub stored_at: u64,
    /// `pending`, `delivered`, `seen` or `failed` for our messages; `received` for theirs.
    pub state: MessageState,
    /// For ours: when the other person saw it (their clock), once they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_at: Option<u64>,
    /// Why it failed, for failed messages.
    pub error: Option<String>,
    /// The photo, for a photo message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<crate::chat_photo::ChatPhotoView>,
    /// For a group message: the group (then `peer` and `from` are its author).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::api::schema::GroupIdText>)]
    pub group: Option<paperplane_protocol::GroupId>,
    /// For our group message: the members who have seen it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<crate::api::schema::PeerIdText>)]
    pub seen_by: Vec<PeerId>,
}

/// The text shown for a message of a kind this version does not know.
pub const UNSUPPORTED_TEXT: &str = "unsupported message — update paperplane";

impl MessageView {
    /// The view of a stored message for user `me`, as it was sent (no reactions, edits or
    /// receipts applied: see [`MessageView::with_changes`]).
    pub fn new(m: &StoredMessage, me: &PeerId) -> Self {
        Self::with_changes(m, me, &MessageMarks::default(), &ChatMeta::default())
    }

    /// The view of a stored message for user `me` with its `marks` and its chat's `meta`
    /// (how far the other person has seen) applied.
    pub fn with_changes(
        m: &StoredMessage,
        me: &PeerId,
        marks: &MessageMarks,
        meta: &ChatMeta,
    ) -> Self {
        let (from, to) = if m.outgoing {
            (*me, m.peer)
        } else {
            (m.peer, *me)
        };
        let (mut state, error) = match &m.state {
            DeliveryState::Pending => (MessageState::Pending, None),
            DeliveryState::Delivered => (MessageState::Delivered, None),
            DeliveryState::StoredByMailbox => (MessageState::Stored, None),
            DeliveryState::Failed(why) => (MessageState::Failed, Some(why.clone())),
            DeliveryState::Received => (MessageState::Received, None),
        };
        // A receipt covers everything of ours up to the message it names: a message it
        // covers was delivered, whatever its own acknowledgement said so far.
        let seen = m.outgoing
            && meta.seen_at != 0
            && m.sent_at <= meta.seen_up_to
            && matches!(
                state,
                MessageState::Pending | MessageState::Stored | MessageState::Delivered
            );
        if seen {
            state = MessageState::Seen;
        }
        let unsent = marks.unsent_at.is_some();
        let (kind, reply_to, shared_post) = match &m.body {
            _ if unsent => (MessageKind::Unsent, None, None),
            MessageBody::Reply { quote, .. } => (
                MessageKind::Reply,
                Some(QuoteView {
                    id: quote.id,
                    author: quote.author,
                    excerpt: quote.excerpt.clone(),
                }),
                None,
            ),
            MessageBody::SharedPost { post, .. } => (
                MessageKind::SharedPost,
                None,
                Some(SharedPostView::new(post)),
            ),
            MessageBody::Photo { .. } => (MessageKind::Photo, None, None),
            MessageBody::Unsupported { .. } => (MessageKind::Unsupported, None, None),
            MessageBody::Text(_) => (MessageKind::Text, None, None),
            _ => (MessageKind::Change, None, None),
        };
        let text = match (&marks.edit, kind) {
            (_, MessageKind::Unsent) => String::new(),
            (_, MessageKind::Unsupported) => UNSUPPORTED_TEXT.to_owned(),
            (Some(edit), _) => edit.text.clone(),
            (None, _) => m.body.text().to_owned(),
        };
        Self {
            id: m.id,
            peer: m.peer,
            from,
            to,
            outgoing: m.outgoing,
            kind,
            emoji_only: matches!(kind, MessageKind::Text | MessageKind::Reply)
                && paperplane_protocol::emoji::is_emoji_only(&text),
            text,
            reply_to,
            shared_post,
            reactions: chat_rules::reaction_counts(marks)
                .into_iter()
                .map(|(emoji, by)| ReactionView {
                    emoji,
                    count: by.len(),
                    by,
                })
                .collect(),
            edited_at: marks.edit.as_ref().map(|e| e.at),
            sent_at: m.sent_at,
            stored_at: m.stored_at,
            state,
            seen_at: seen.then_some(meta.seen_at),
            group: None,
            seen_by: Vec::new(),
            error,
            photo: crate::chat_photo::ChatPhotoView::of(&m.body, m.outgoing),
        }
    }
}

impl SharedPostView {
    fn new(post: &Signed<Post>) -> Self {
        // Checked for its signature only: a shared post may be old, and its time is the
        // author's claim like any other field.
        let verified = paperplane_crypto::verify_record(post, u64::MAX).is_ok();
        Self {
            id: post.id(),
            author: post.body.author,
            created_at: post.body.created_at,
            caption: post.body.caption.clone(),
            photos: post
                .body
                .photos
                .iter()
                .map(|p| PhotoView::new(p, false))
                .collect(),
            verified,
        }
    }
}

/// A conversation in the inbox or among the requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatView {
    /// The other person.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer: PeerId,
    /// Their handle, if known.
    pub handle: Option<String>,
    /// Their display name, if known.
    pub display_name: Option<String>,
    /// `inbox` or `requests`.
    pub folder: Folder,
    /// Time of the newest message (Unix ms).
    pub last_activity: u64,
    /// Messages not yet read.
    pub unread: u32,
    /// The newest message.
    pub last_message: Option<MessageView>,
    /// The oldest message (for a request: what they first wrote).
    pub first_message: Option<MessageView>,
    /// When the other person's messaging identity key last changed (Unix ms), if it did
    /// while this chat existed: compare safety numbers again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_changed_at: Option<u64>,
    /// The chat's labels, sorted.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Whether the chat is muted (its messages notify nobody).
    #[serde(default)]
    pub muted: bool,
    /// For a group chat: the group (then `peer` is the user's own id and `display_name` the
    /// group's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<ChatGroup>,
}

/// The group a group chat in the inbox is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatGroup {
    /// The group's id.
    #[schema(value_type = crate::api::schema::GroupIdText)]
    pub id: paperplane_protocol::GroupId,
    /// Its name.
    pub name: String,
    /// How many members it has.
    pub members: usize,
}

impl ChatView {
    pub(crate) fn new(
        chat: &Chat,
        profile: Option<&Signed<Profile>>,
        first: Option<MessageView>,
        last: Option<MessageView>,
        key_changed_at: Option<u64>,
    ) -> Self {
        Self {
            peer: chat.peer,
            handle: profile.map(|p| p.body.handle.as_str().to_owned()),
            display_name: profile.map(|p| p.body.display_name.clone()),
            folder: chat.folder,
            last_activity: chat.last_activity,
            unread: chat.unread,
            last_message: last,
            first_message: first,
            key_changed_at,
            labels: Vec::new(),
            muted: false,
            group: None,
        }
    }
}
