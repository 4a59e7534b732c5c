//! The chat beyond plain messages, on the actor: how a message is shown (with its reactions,
//! edit, unsend and receipt), what a new message sets off (a shared post's photos), read
//! receipts when the user opens a chat, and typing indicators.

use paperplane_protocol::{
    DirectMessage, DmRequest, MessageBody, MessageId, PeerId, SealedEnvelope,
};
use tokio::sync::oneshot;

use super::{dm::Outgoing, flush::AfterFlush, Actor};
use crate::{
    delivery::Folder,
    error::{Result, SendError},
    event::Event,
    store::messages::StoredMessage,
    views::MessageView,
};

impl Actor {
    /// How `message` (just stored) is shown, with whatever changes already apply to it.
    pub(super) fn view_of(&self, message: &StoredMessage) -> MessageView {
        let marks = self
            .store
            .message_with_marks(&message.peer, &message.id)
            .ok()
            .flatten()
            .map(|(_, marks)| marks)
            .unwrap_or_default();
        let meta = self.store.chat_meta(&message.peer).unwrap_or_default();
        MessageView::with_changes(message, &self.me, &marks, &meta)
    }

    /// What a new message sets off: a shared post whose signature verifies has its photos
    /// fetched (from the sender first, then its author), checked against their hashes.
    pub(super) fn on_new_message(&mut self, message: &StoredMessage) {
        if let MessageBody::SharedPost { post, .. } = &message.body {
            if paperplane_crypto::verify_record(post, u64::MAX).is_ok() {
                self.fetch_photos(&post.body, &[message.peer]);
            } else {
                tracing::debug!(peer = %message.peer, "a shared post does not verify; its photos are not fetched");
            }
        }
    }

    /// Sends `peer` a read receipt up to the newest of their messages, if receipts go to
    /// them and that message was not covered by the last receipt. Queued like a message
    /// (durable, retried).
    pub(super) fn send_receipt(&mut self, peer: PeerId) -> Result<()> {
        // A request's sender learns nothing (not even "seen") until it is accepted.
        let accepted = matches!(self.store.chat(&peer)?, Some(c) if c.folder == Folder::Inbox);
        if !accepted || !self.store.receipts_to(&peer)? {
            return Ok(());
        }
        let Some(newest) = self.store.newest_received(&peer)? else {
            return Ok(());
        };
        if self.store.chat_meta(&peer)?.last_receipt == Some(newest.id) {
            return Ok(());
        }
        let (reply, _) = oneshot::channel();
        self.send_messages(vec![Outgoing {
            peer,
            body: MessageBody::Seen { up_to: newest.id },
            reply,
        }]);
        Ok(())
    }

    /// Switches receipts globally (`peer` `None`; `on` `None` leaves it) or for one chat.
    pub(super) fn set_receipts(&mut self, peer: Option<PeerId>, on: Option<bool>) -> Result<()> {
        let now_on = match peer {
            None => {
                if let Some(on) = on {
                    self.store.set_read_receipts(on)?;
                }
                self.store.read_receipts()?
            }
            Some(peer) => {
                self.store.update_chat_meta(&peer, |m| m.receipts = on)?;
                self.store.receipts_to(&peer)?
            }
        };
        self.emit(Event::ReadReceipts { peer, on: now_on });
        Ok(())
    }

    /// Tells `peer` the user is typing (or stopped), if receipts go to them, they are
    /// connected and a session with them is up; whether it was sent. Never stored as a
    /// message, never retried: the session it advances is made durable before the
    /// indicator leaves.
    pub(super) fn send_typing(&mut self, peer: PeerId, active: bool) -> Result<bool, SendError> {
        if peer == self.me {
            return Err(SendError::ToSelf);
        }
        // Like a receipt: nothing to a request not yet accepted, nor to someone blocked.
        let request = matches!(self.store.chat(&peer)?, Some(c) if c.folder == Folder::Requests);
        if request
            || self.store.is_blocked(&peer)?
            || !self.store.receipts_to(&peer)?
            || !self.connected.contains(&peer)
        {
            return Ok(false);
        }
        let Some(mut conv) = self.store.conversation(&peer)? else {
            return Ok(false);
        };
        if !conv.can_send() {
            return Ok(false);
        }
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at: self.now(),
            body: MessageBody::Typing { active },
        };
        let envelope = conv.encrypt_in_place(&mut rand::rng(), &message.to_plaintext())?;
        self.store.put_conversation(&peer, &conv)?;
        self.after_flush(AfterFlush::SendEphemeral {
            peer,
            request: DmRequest {
                envelopes: vec![SealedEnvelope {
                    recipient: peer,
                    id: message.id,
                    payload: envelope.to_bytes(),
                }],
            },
        });
        Ok(true)
    }
}
