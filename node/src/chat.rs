//! The [`Node`] handle's chat features beyond text: reactions, replies, shared posts,
//! unsend, edit, read receipts and typing. Each change is a message of its own kind inside
//! the end-to-end session, durable and retried like a text (typing excepted); the rules
//! are in [`crate::chat_rules`].

use paperplane_protocol::{
    dm::MAX_EXCERPT_GRAPHEMES, emoji, MessageBody, MessageId, PeerId, Quote, RecordId,
};
use serde::{Deserialize, Serialize};

use crate::{
    actor::Command,
    chat_rules,
    error::{Error, IdKind, Result},
    messaging::Wait,
    node::Node,
    store::messages::StoredMessage,
    views::MessageView,
};

/// The emoji of a like: a double tap on a message.
pub const LIKE: &str = "❤️";

/// Someone the user may send a post to, as the paper-plane sheet lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShareTarget {
    /// Their id.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer: PeerId,
    /// Their handle, if known.
    pub handle: Option<String>,
    /// Their display name, if known.
    pub display_name: Option<String>,
    /// When the user last exchanged a message with them (Unix ms), if ever.
    pub last_messaged_at: Option<u64>,
}

impl Node {
    /// Resolves a message id from its 32 hex digits or a unique prefix of at least 6 (as
    /// `chat` shows them).
    pub fn resolve_message(&self, reference: &str) -> Result<MessageId> {
        let reference = reference.to_ascii_lowercase();
        let hex = reference.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex || !(6..=32).contains(&reference.len()) {
            return Err(Error::NotAnId {
                reference,
                kind: IdKind::Message,
            });
        }
        match self.store().message_ids_with_prefix(&reference, 2)?[..] {
            [id] => Ok(id),
            [] => Err(Error::NoSuch {
                kind: IdKind::Message,
                id: reference,
            }),
            _ => Err(Error::AmbiguousId {
                prefix: reference,
                kind: IdKind::Message,
            }),
        }
    }

    /// The stored message `id` (in whichever chat holds it).
    fn stored(&self, id: &MessageId) -> Result<StoredMessage> {
        self.store().message(id)?.ok_or_else(|| Error::NoSuch {
            kind: IdKind::Message,
            id: id.to_string(),
        })
    }

    /// Sends a change to message `id` and returns the message as it stands after it.
    async fn change(
        &self,
        id: &MessageId,
        body: impl FnOnce(&StoredMessage) -> MessageBody,
    ) -> Result<MessageView> {
        let target = self.stored(id)?;
        self.send_body(target.peer, body(&target), Wait::Queued)
            .await?;
        Ok(self.view(&self.stored(id)?))
    }

    /// Reacts to message `id` with `reaction`: one emoji (`❤️`, `👍🏽`) or a shortcode
    /// (`:fire:`). One reaction per person per message: a new one replaces the user's
    /// previous one, and the same one again takes it back (like a second double tap).
    /// Returns the message with its reactions.
    pub async fn react(&self, id: &MessageId, reaction: &str) -> Result<MessageView> {
        let emoji =
            emoji::single_emoji(reaction).ok_or_else(|| Error::NotAnEmoji(reaction.to_owned()))?;
        let me = self.peer_id();
        let marks = self
            .stored(id)
            .and_then(|m| Ok(self.store().message_with_marks(&m.peer, id)?))?
            .map(|(_, marks)| marks)
            .unwrap_or_default();
        let emoji = chat_rules::toggled_reaction(&marks, &me, emoji);
        self.change(id, |_| MessageBody::Reaction { target: *id, emoji })
            .await
    }

    /// Likes message `id` (❤️), as a double tap does.
    pub async fn like_message(&self, id: &MessageId) -> Result<MessageView> {
        self.react(id, LIKE).await
    }

    /// Takes back the user's reaction to message `id`.
    pub async fn unreact(&self, id: &MessageId) -> Result<MessageView> {
        self.change(id, |_| MessageBody::Reaction {
            target: *id,
            emoji: None,
        })
        .await
    }

    /// Unsends the user's message `id` for everyone in the chat: its text and reactions
    /// go, "message unsent" stays in its place. Only its author can unsend it.
    pub async fn unsend(&self, id: &MessageId) -> Result<MessageView> {
        self.change(id, |_| MessageBody::Unsend { target: *id })
            .await
    }

    /// Replaces the text of the user's message `id`, within 15 minutes of sending it; the
    /// chat shows it as edited. Only its author can edit it.
    pub async fn edit(&self, id: &MessageId, text: impl Into<String>) -> Result<MessageView> {
        let text = text.into();
        self.change(id, |_| MessageBody::Edit { target: *id, text })
            .await
    }

    /// Replies to message `id` in its chat, quoting it (its author and first words, so the
    /// other person sees what is answered even without that message).
    pub async fn reply(
        &self,
        id: &MessageId,
        text: impl Into<String>,
        wait: Wait,
    ) -> Result<MessageView> {
        let target = self.stored(id)?;
        let shown = self.view(&target);
        let quote = Quote {
            id: *id,
            author: shown.from,
            excerpt: emoji::excerpt(&shown.text, MAX_EXCERPT_GRAPHEMES),
        };
        let body = MessageBody::Reply {
            text: text.into(),
            quote,
        };
        Ok(self.send_body(target.peer, body, wait).await?)
    }

    /// Sends post `post` to `peer` with the paper plane, with `text` (may be empty). The
    /// message carries the post's signed record, so `peer` can show and verify it without
    /// following its author.
    pub async fn share(
        &self,
        post: &RecordId,
        peer: PeerId,
        text: impl Into<String>,
        wait: Wait,
    ) -> Result<MessageView> {
        let post = self.store().post(post)?.ok_or_else(|| Error::NoSuch {
            kind: IdKind::Post,
            id: post.to_string(),
        })?;
        let body = MessageBody::SharedPost {
            post,
            text: text.into(),
        };
        Ok(self.send_body(peer, body, wait).await?)
    }

    /// The people the user may send a post to: everyone they follow, most recently
    /// messaged first, then the others by handle.
    pub fn share_targets(&self) -> Result<Vec<ShareTarget>> {
        let store = self.store();
        let mut out: Vec<ShareTarget> = self
            .following()?
            .into_iter()
            .map(|f| {
                let chat = store.chat(&f.peer_id)?;
                let profile = store.profile(&f.peer_id)?;
                Ok(ShareTarget {
                    peer: f.peer_id,
                    handle: f.handle,
                    display_name: profile.map(|p| p.body.display_name),
                    last_messaged_at: chat
                        .filter(|c| c.last_activity > 0)
                        .map(|c| c.last_activity),
                })
            })
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| {
            b.last_messaged_at
                .cmp(&a.last_messaged_at)
                .then_with(|| a.handle.cmp(&b.handle))
        });
        Ok(out)
    }

    /// Tells `peer` the user is typing (`active`) or stopped. The indicator is not stored
    /// and not retried; the other side shows it for a few seconds ([`crate::Event::Typing`]),
    /// so an app renews it every few seconds while the user types. Returns whether it was
    /// sent: not when read receipts are off for this chat (the same switch covers typing),
    /// the chat is a request not yet accepted, `peer` is blocked or not connected, or no
    /// session with them is up yet.
    pub async fn typing(&self, peer: PeerId, active: bool) -> Result<bool> {
        self.ask(|reply| Command::Typing {
            peer,
            active,
            reply,
        })
        .await
    }

    /// Whether read receipts (and typing indicators) are on for chats without a setting of
    /// their own. On unless switched off.
    pub fn read_receipts(&self) -> Result<bool> {
        Ok(self.store().read_receipts()?)
    }

    /// Switches read receipts and typing indicators on or off for every chat without a
    /// setting of its own. Others' receipts are still shown either way.
    pub async fn set_read_receipts(&self, on: bool) -> Result<()> {
        self.ask(|reply| Command::SetReceipts {
            peer: None,
            on: Some(on),
            reply,
        })
        .await
    }

    /// Switches read receipts and typing indicators for the chat with `peer`: `Some(on)`,
    /// or `None` to follow the global setting.
    pub async fn set_chat_read_receipts(&self, peer: PeerId, on: Option<bool>) -> Result<()> {
        self.ask(|reply| Command::SetReceipts {
            peer: Some(peer),
            on,
            reply,
        })
        .await
    }

    /// Whether read receipts and typing indicators go to `peer` (the chat's own setting,
    /// else the global one).
    pub fn read_receipts_to(&self, peer: &PeerId) -> Result<bool> {
        Ok(self.store().receipts_to(peer)?)
    }
}
