//! The business and conversation tools' changes (quick replies, away, labels, muting), each
//! announced as an [`Event`], and the automatic answer while away, called from the receive
//! path once a request's messages are stored.

use paperplane_protocol::{MessageBody, MessageId, PeerId};
use tokio::sync::oneshot;

use super::{dm::Outgoing, Actor};
use crate::{
    business::{rules, AwayStatus, BusinessError, ChatMarks, QuickReply, Request},
    delivery::Folder,
    error::{Error, Result},
    event::Event,
    store::{business::AwaySetting, chat_state::ChatItem, messages::StoredMessage},
};

impl Actor {
    pub(super) fn on_business(&mut self, request: Request) {
        match request {
            Request::SaveTemplate { name, text, reply } => {
                let _ = reply.send(self.save_template(name, text));
            }
            Request::RemoveTemplate { name, reply } => {
                let _ = reply.send(self.remove_template(name));
            }
            Request::SetAway { away, text, reply } => {
                let _ = reply.send(self.set_away(away, text));
            }
            Request::Label {
                peer,
                label,
                on,
                reply,
            } => {
                let _ = reply.send(self.label(peer, &label, on));
            }
            Request::Mute { peer, muted, reply } => {
                let _ = reply.send(self.mute(peer, muted));
            }
        }
    }

    fn save_template(&mut self, name: String, text: String) -> Result<QuickReply> {
        let exists = self.store.quick_reply(&name)?.is_some();
        if !exists && self.store.quick_reply_count()? >= rules::MAX_TEMPLATES {
            return Err(BusinessError::Invalid(format!(
                "you have {} quick replies already; remove one first",
                rules::MAX_TEMPLATES
            ))
            .into());
        }
        self.store.put_quick_reply(&name, &text)?;
        self.emit(Event::QuickReply {
            name: name.clone(),
            text: Some(text.clone()),
        });
        Ok(QuickReply { name, text })
    }

    fn remove_template(&mut self, name: String) -> Result<()> {
        if !self.store.remove_quick_reply(&name)? {
            return Err(BusinessError::NoTemplate(name).into());
        }
        self.emit(Event::QuickReply { name, text: None });
        Ok(())
    }

    fn set_away(&mut self, away: bool, text: Option<String>) -> Result<AwayStatus> {
        let business = self
            .store
            .profile(&self.me)?
            .is_some_and(|p| p.body.business.is_some());
        if away && !business {
            return Err(BusinessError::NotABusiness.into());
        }
        let current = self.store.away()?;
        let setting = AwaySetting {
            away,
            text: text.or(current.text),
        };
        if setting.away && setting.text.is_none() {
            return Err(BusinessError::NoAwayText.into());
        }
        self.store.put_away(&setting)?;
        let status = AwayStatus {
            away: setting.away,
            text: setting.text,
        };
        self.emit(Event::Away {
            status: status.clone(),
        });
        Ok(status)
    }

    fn marks(&self, peer: PeerId) -> Result<ChatMarks> {
        Ok(ChatMarks {
            peer,
            labels: self.store.chat_labels(&peer)?,
            muted: self.store.is_muted(&peer)?,
        })
    }

    fn label(&mut self, peer: PeerId, label: &str, on: bool) -> Result<ChatMarks> {
        if self.store.chat(&peer)?.is_none() {
            return Err(Error::NoConversation(peer));
        }
        let labels = self.store.chat_labels(&peer)?;
        let has = labels.iter().any(|l| l == label);
        if on && !has && labels.len() >= rules::MAX_LABELS_PER_CHAT {
            return Err(BusinessError::Invalid(format!(
                "this chat has {} labels already; remove one first",
                rules::MAX_LABELS_PER_CHAT
            ))
            .into());
        }
        let changed = self.store.set_chat_label(&peer, label, on)?;
        let marks = self.marks(peer)?;
        if changed {
            self.emit(Event::ChatMarks {
                marks: marks.clone(),
            });
        }
        Ok(marks)
    }

    fn mute(&mut self, peer: PeerId, muted: bool) -> Result<ChatMarks> {
        if peer == self.me {
            return Err(Error::SelfAction("mute"));
        }
        if self.store.chat(&peer)?.is_none() {
            return Err(Error::NoConversation(peer));
        }
        let changed = self.store.set_muted(&peer, muted)?;
        let marks = self.marks(peer)?;
        if changed {
            self.emit(Event::ChatMarks {
                marks: marks.clone(),
            });
        }
        Ok(marks)
    }

    /// After `items` from `peer` were stored (`events` announcing the new ones, emitted once
    /// they are durable): while the business is away, answers with the away text if
    /// [`rules::away_due`] says so, and adds [`Event::AwayMessageSent`] to `events`. The
    /// answer is recorded before it is queued, so a conversation gets at most one a day even
    /// if sending fails; a request answered this way stays a request.
    pub(super) fn answer_while_away(
        &mut self,
        peer: PeerId,
        items: &[ChatItem],
        events: &mut Vec<Event>,
    ) {
        match self.try_answer_while_away(peer, items, events) {
            Ok(Some(id)) => events.push(Event::AwayMessageSent { peer, id }),
            Ok(None) => {}
            Err(e) => tracing::warn!(%peer, error = %e, "could not send the away message"),
        }
    }

    /// The away message's id if one was queued.
    fn try_answer_while_away(
        &mut self,
        peer: PeerId,
        items: &[ChatItem],
        events: &[Event],
    ) -> Result<Option<MessageId>> {
        let setting = self.store.away()?;
        let (true, Some(text)) = (setting.away, setting.text) else {
            return Ok(None);
        };
        let is_new = |m: &StoredMessage| {
            events.iter().any(|e| {
                matches!(e, Event::Message { message, .. } if message.id == m.id && message.peer == peer)
            })
        };
        let incoming = items
            .iter()
            .filter_map(|i| match i {
                ChatItem::Shown(m) => Some(m),
                ChatItem::Control(_) => None,
            })
            .filter(|m| !m.outgoing && is_new(m));
        let now = self.now();
        if !rules::away_due(
            incoming.map(|m| &m.body),
            self.store.away_sent_at(&peer)?,
            now,
        ) {
            return Ok(None);
        }
        self.store.put_away_sent_at(&peer, now)?;
        let was_request = self
            .store
            .chat(&peer)?
            .is_some_and(|c| c.folder == Folder::Requests);
        let (reply, mut answer) = oneshot::channel();
        self.send_messages(vec![Outgoing {
            peer,
            body: MessageBody::Text(text),
            reply,
        }]);
        // A refusal is answered at once; a queued message only once it is durable, and it
        // is then the chat's last message (the actor is the store's only writer).
        if let Ok(Err(e)) = answer.try_recv() {
            return Err(Error::Send(e));
        }
        if was_request {
            self.store.keep_as_request(&peer)?;
        }
        Ok(self.store.chat(&peer)?.and_then(|c| c.last_message))
    }
}
