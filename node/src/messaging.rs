//! The [`Node`] handle's direct-message methods: send, inbox, requests, chats, blocking and
//! safety numbers.

use std::time::Duration;

use paperplane_protocol::{MessageId, PeerId};

use crate::{
    actor::Command,
    error::{Error, Result},
    event::Event,
    node::Node,
    store::messages::Folder,
    views::{ChatView, MessageView},
};

impl Node {
    /// Sends a text message (≤ 4,096 bytes of UTF-8, any emoji) to `peer`, end-to-end
    /// encrypted. Returns once it is durably queued, in state `pending`; delivery follows
    /// (see [`Event::MessageDelivered`]) whenever the peer is reachable.
    pub async fn send(&self, peer: PeerId, text: String) -> Result<MessageView> {
        self.ask(|reply| Command::Send { peer, text, reply }).await
    }

    /// Sends like [`Node::send`], then waits up to `wait` for the acknowledgement; the
    /// returned state is `delivered` if it came in time, else still `pending` (or `failed`).
    pub async fn send_and_wait(
        &self,
        peer: PeerId,
        text: String,
        wait: Duration,
    ) -> Result<MessageView> {
        let mut events = self.events();
        let mut view = self.send(peer, text).await?;
        let id = view.id;
        let outcome = tokio::time::timeout(wait, async {
            while let Some(e) = events.next().await {
                match e {
                    Event::MessageDelivered { id: d, .. } if d == id => return Ok(()),
                    Event::MessageFailed { id: f, reason, .. } if f == id => return Err(reason),
                    _ => {}
                }
            }
            Err("the node stopped".to_owned())
        })
        .await;
        // The event may have fired before we listened; the store is the truth.
        if let Some(m) = self.store().message(&id)? {
            view = MessageView::new(&m, &self.peer_id());
        } else if let Ok(Err(reason)) = outcome {
            view.state = "failed".into();
            view.error = Some(reason);
        }
        Ok(view)
    }

    /// One message by id.
    pub fn message(&self, id: &MessageId) -> Result<MessageView> {
        self.store()
            .message(id)?
            .map(|m| MessageView::new(&m, &self.peer_id()))
            .ok_or_else(|| Error::NotFound(format!("no message {id}")))
    }

    fn chat_views(&self, folder: Folder) -> Result<Vec<ChatView>> {
        let me = self.peer_id();
        self.store()
            .chats(folder)?
            .iter()
            .map(|c| {
                let last = match &c.last_message {
                    Some(id) => self.store().message(id)?.map(|m| MessageView::new(&m, &me)),
                    None => None,
                };
                let first = self
                    .store()
                    .first_message(&c.peer)?
                    .map(|m| MessageView::new(&m, &me));
                Ok(ChatView::new(
                    c,
                    self.store().profile(&c.peer)?.as_ref(),
                    first,
                    last,
                ))
            })
            .collect()
    }

    /// The inbox: conversations, newest activity first, with unread counts and last message.
    pub fn inbox(&self) -> Result<Vec<ChatView>> {
        self.chat_views(Folder::Inbox)
    }

    /// Message requests: first contact from people the user does not follow.
    pub fn requests(&self) -> Result<Vec<ChatView>> {
        self.chat_views(Folder::Requests)
    }

    /// Up to `limit` messages with `peer` before message `before` (or the newest), oldest
    /// first. Opening a chat marks it read.
    pub fn chat(
        &self,
        peer: PeerId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<MessageView>> {
        let me = self.peer_id();
        let messages = self.store().messages(&peer, before.as_ref(), limit)?;
        self.store().mark_read(&peer)?;
        Ok(messages.iter().map(|m| MessageView::new(m, &me)).collect())
    }

    /// Moves `peer`'s request to the inbox.
    pub fn accept(&self, peer: PeerId) -> Result<()> {
        if self.store().accept_request(&peer)? {
            Ok(())
        } else {
            Err(Error::NotFound(format!("no conversation with {peer}")))
        }
    }

    /// Deletes `peer`'s request (the conversation and its messages).
    pub fn decline(&self, peer: PeerId) -> Result<()> {
        match self.store().chat(&peer)? {
            Some(c) if c.folder == Folder::Requests => {
                self.store().delete_chat(&peer)?;
                Ok(())
            }
            Some(_) => Err(Error::BadRequest(
                "that conversation is in the inbox, not a request".into(),
            )),
            None => Err(Error::NotFound(format!("no request from {peer}"))),
        }
    }

    /// Blocks `peer`: their messages are refused, their follows, likes and comments ignored,
    /// and a pending request from them is deleted.
    pub fn block(&self, peer: PeerId) -> Result<()> {
        if peer == self.peer_id() {
            return Err(Error::BadRequest("you cannot block yourself".into()));
        }
        self.store()
            .set_blocked(&peer, true, crate::clock::now_ms())?;
        if matches!(self.store().chat(&peer)?, Some(c) if c.folder == Folder::Requests) {
            self.store().delete_chat(&peer)?;
        }
        Ok(())
    }

    /// Unblocks `peer`.
    pub fn unblock(&self, peer: PeerId) -> Result<()> {
        self.store()
            .set_blocked(&peer, false, crate::clock::now_ms())
            .map_err(Into::into)
    }

    /// Blocked peers.
    pub fn blocked(&self) -> Result<Vec<PeerId>> {
        self.store().blocked().map_err(Into::into)
    }

    /// The safety number of the user and `peer`: 60 digits both can compare to verify each
    /// other's keys. Needs `peer`'s profile with messaging keys.
    pub fn safety_number(&self, peer: PeerId) -> Result<String> {
        let key = |p: &PeerId| -> Result<[u8; 32]> {
            let profile = self
                .store()
                .profile(p)?
                .ok_or_else(|| Error::UnknownPeer(p.to_string()))?;
            profile
                .body
                .messaging
                .map(|m| m.identity_key)
                .ok_or_else(|| Error::BadRequest(format!("{p} has not published messaging keys")))
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
