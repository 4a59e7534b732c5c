//! The [`Node`] handle's direct-message methods: send (with a [`Wait`] policy), inbox,
//! requests, chats, blocking and safety numbers. Reads go to the store; every change goes to
//! the actor, which writes it and announces it as an [`Event`].

use std::time::Duration;

use paperplane_protocol::{MessageBody, MessageId, PeerId};

use crate::store::messages::{DeliveryState, StoredMessage};

use crate::{
    actor::Command,
    delivery::Folder,
    error::{Error, IdKind, Result, SendError},
    event::Event,
    node::{Node, Received},
    views::{ChatView, MessageState, MessageView},
};

/// How long [`Node::send`] waits for the recipient's acknowledgement before it returns.
/// Whatever the choice, the message is durably queued when `send` returns and delivery goes
/// on in the background; the wait only decides which state the caller sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wait {
    /// Return as soon as the message is durably queued (state `pending`).
    Queued,
    /// Wait [`Wait::MOMENT`] if the recipient is connected, else return at once: a chat app's
    /// "sent" tick.
    #[default]
    Moment,
    /// Wait up to this long.
    Up(Duration),
    /// Wait until the message is delivered or has failed, or the node stops.
    Settled,
}

impl Wait {
    /// How long [`Wait::Moment`] waits for a connected recipient.
    pub const MOMENT: Duration = Duration::from_millis(1_500);
}

impl Node {
    /// Sends a text message (≤ 4,096 bytes of UTF-8, any emoji) to `peer`, end-to-end
    /// encrypted. Returns once it is durably queued and `wait` is over: state `delivered` if
    /// the recipient acknowledged it by then, `failed` if they refused it, else `pending`
    /// (delivery goes on; see [`Event::MessageDelivered`]).
    pub async fn send(
        &self,
        peer: PeerId,
        text: impl Into<String>,
        wait: Wait,
    ) -> Result<MessageView, SendError> {
        let body = MessageBody::Text(text.into());
        self.send_command(|reply| Command::Send { peer, body, reply }, wait)
            .await
    }

    /// Sends the command `make` builds (a message to send) and waits as `wait` says.
    pub(crate) async fn send_command(
        &self,
        make: impl FnOnce(
            tokio::sync::oneshot::Sender<Result<crate::actor::Queued, SendError>>,
        ) -> Command,
        wait: Wait,
    ) -> Result<MessageView, SendError> {
        // Listening before sending: the acknowledgement may beat the reply.
        let events = (wait != Wait::Queued).then(|| self.events());
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.commands()
            .send(make(reply))
            .await
            .map_err(|_| SendError::Stopped)?;
        let queued = answer.await.map_err(|_| SendError::Stopped)??;
        let mut view = queued.view;
        let limit = match wait {
            Wait::Queued => return Ok(view),
            Wait::Moment if queued.connected => Some(Wait::MOMENT),
            Wait::Moment => return Ok(view),
            Wait::Up(d) => Some(d),
            Wait::Settled => None,
        };
        let Some(mut events) = events else {
            return Ok(view);
        };
        let id = view.id;
        let settled = async {
            while let Some(received) = events.receive().await {
                match received {
                    Received::Event(e) => match *e {
                        Event::MessageDelivered { id: d, .. } if d == id => return None,
                        Event::MessageFailed { id: f, reason, .. } if f == id => {
                            return Some(reason)
                        }
                        _ => {}
                    },
                    // The event that settles it may be among those missed: the store knows.
                    Received::Missed(_) if self.settled_in_store(&id) => return None,
                    Received::Missed(_) => {}
                }
            }
            None
        };
        let failure = match limit {
            Some(limit) => tokio::time::timeout(limit, settled).await.ok().flatten(),
            None => settled.await,
        };
        // The store is the truth (an event may have been missed by a slow listener).
        match self.store().message(&id) {
            Ok(Some(m)) => view = self.view(&m),
            _ => {
                if let Some(reason) = failure {
                    view.state = MessageState::Failed;
                    view.error = Some(reason);
                }
            }
        }
        Ok(view)
    }

    /// Whether our message `id` is delivered or failed, as the store has it.
    fn settled_in_store(&self, id: &MessageId) -> bool {
        matches!(
            self.store().message(id),
            Ok(Some(StoredMessage {
                state: DeliveryState::Delivered | DeliveryState::Failed(_),
                ..
            }))
        )
    }

    /// How `m` is shown now: with its reactions, edit or unsend, the other person's read
    /// receipt, and where its photo stands.
    pub(crate) fn view(&self, m: &StoredMessage) -> MessageView {
        let store = self.store();
        let marks = store
            .message_with_marks(&m.peer, &m.id)
            .ok()
            .flatten()
            .map(|(_, marks)| marks)
            .unwrap_or_default();
        let meta = store.chat_meta(&m.peer).unwrap_or_default();
        let mut view = MessageView::with_changes(m, &self.peer_id(), &marks, &meta);
        if let Some(post) = &mut view.shared_post {
            for photo in &mut post.photos {
                photo.local = store.has_blob(&photo.hash).unwrap_or(false);
            }
        }
        if let (Some(photo), MessageBody::Photo { .. }) = (view.photo.take(), &m.body) {
            view.photo = Some(self.photo_state(m, photo));
        }
        view
    }

    /// One message by id.
    pub fn message(&self, id: &MessageId) -> Result<MessageView> {
        self.store()
            .message(id)?
            .map(|m| self.view(&m))
            .ok_or_else(|| Error::NoSuch {
                kind: IdKind::Message,
                id: id.to_string(),
            })
    }

    fn chat_views(&self, folder: Folder) -> Result<Vec<ChatView>> {
        self.store()
            .chats(folder)?
            .iter()
            // A chat opened by a change alone (a reaction to a message that never came) has
            // nothing to show.
            .filter(|c| c.last_message.is_some())
            .map(|c| {
                let last = match &c.last_message {
                    Some(id) => self
                        .store()
                        .message_with_marks(&c.peer, id)?
                        .map(|(m, _)| self.view(&m)),
                    None => None,
                };
                let first = self.store().first_message(&c.peer)?.map(|m| self.view(&m));
                Ok(ChatView::new(
                    c,
                    self.store().profile(&c.peer)?.as_ref(),
                    first,
                    last,
                    self.store().key_changed_at(&c.peer)?,
                ))
            })
            .collect()
    }

    /// The inbox: conversations, newest activity first, with unread counts and last message.
    pub fn inbox(&self) -> Result<Vec<ChatView>> {
        let chats = self.with_marks(self.chat_views(Folder::Inbox)?)?;
        self.with_groups(chats, Folder::Inbox)
    }

    /// Message requests: first contact from people the user does not follow, and groups
    /// they added the user to.
    pub fn requests(&self) -> Result<Vec<ChatView>> {
        let chats = self.with_marks(self.chat_views(Folder::Requests)?)?;
        self.with_groups(chats, Folder::Requests)
    }

    /// Up to `limit` messages with `peer` before message `before` (or the newest), oldest
    /// first, without changing anything.
    pub fn messages(
        &self,
        peer: PeerId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<MessageView>> {
        Ok(self
            .store()
            .messages(&peer, before.as_ref(), limit)?
            .iter()
            .map(|m| self.view(m))
            .collect())
    }

    /// Opens a chat: up to `limit` messages with `peer` before message `before` (or the
    /// newest), oldest first, and marks the chat read ([`Event::ChatRead`] if it had unread
    /// messages), which sends `peer` a read receipt up to their newest message unless read
    /// receipts are off for this chat.
    pub async fn chat(
        &self,
        peer: PeerId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<MessageView>> {
        let messages = self.messages(peer, before, limit)?;
        self.mark_read(peer).await?;
        Ok(messages)
    }

    /// Marks the chat with `peer` read (and sends a read receipt, as [`Node::chat`]).
    pub async fn mark_read(&self, peer: PeerId) -> Result<()> {
        self.ask(|reply| Command::MarkRead { peer, reply }).await
    }

    /// Moves `peer`'s request to the inbox ([`Event::RequestAccepted`]).
    pub async fn accept(&self, peer: PeerId) -> Result<()> {
        self.ask(|reply| Command::Accept { peer, reply }).await
    }

    /// Deletes `peer`'s request: the conversation and its messages
    /// ([`Event::RequestDeclined`]).
    pub async fn decline(&self, peer: PeerId) -> Result<()> {
        self.ask(|reply| Command::Decline { peer, reply }).await
    }

    /// Blocks `peer`: their messages are refused, their follows, likes and comments ignored,
    /// and a pending request from them is deleted ([`Event::Blocked`]).
    pub async fn block(&self, peer: PeerId) -> Result<()> {
        self.ask(|reply| Command::SetBlocked {
            peer,
            blocked: true,
            reply,
        })
        .await
    }

    /// Unblocks `peer` ([`Event::Blocked`]).
    pub async fn unblock(&self, peer: PeerId) -> Result<()> {
        self.ask(|reply| Command::SetBlocked {
            peer,
            blocked: false,
            reply,
        })
        .await
    }

    /// Blocked peers.
    pub fn blocked(&self) -> Result<Vec<PeerId>> {
        self.store().blocked().map_err(Into::into)
    }

    /// The safety number of the user and `peer`: 60 digits both can compare to verify each
    /// other's keys. It is computed from the key the conversation's session actually uses
    /// for `peer` (from their profile if there is no session yet).
    pub fn safety_number(&self, peer: PeerId) -> Result<String> {
        let session_key = self
            .store()
            .conversation(&peer)?
            .and_then(|c| c.active_session().map(|s| s.remote_identity_key()));
        let key = |p: &PeerId| -> Result<[u8; 32]> {
            if *p == peer {
                if let Some(k) = session_key {
                    return Ok(k);
                }
            }
            let profile = self
                .store()
                .profile(p)?
                .ok_or_else(|| Error::UnknownPeer(p.to_string()))?;
            profile
                .body
                .messaging
                .map(|m| m.identity_key)
                .ok_or(Error::NoMessagingKeys(*p))
        };
        let me = self.peer_id();
        Ok(paperplane_crypto::safety_number(
            (&me, &key(&me)?),
            (&peer, &key(&peer)?),
        ))
    }

    /// Number of messages waiting in the outbox.
    pub fn outbox_len(&self) -> usize {
        self.store().outbox_len()
    }
}
