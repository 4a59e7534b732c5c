//! Sending to a group: a message of any kind (a photo too) sealed once with our sender key
//! and queued for every member, and typing indicators.

use paperplane_protocol::{
    encode, DirectMessage, GroupEnvelope, GroupId, GroupUpdate, MessageBody, MessageId, PeerId,
    SealedEnvelope,
};
use tokio::sync::oneshot;

use super::{command::Queued, flush::AfterFlush, Actor};
use crate::{
    chat_rules::{self, Effect},
    delivery::Folder,
    error::{Error, Result, SendError},
    event::Event,
    group_rules::{self},
    groups::GroupError,
    store::{
        groups::{
            by_id_key, group_index_key, group_message_key, row_key, seen_key, GTree, GroupBatch,
            GroupChat,
        },
        messages::{DeliveryState, OutboxEntry, StoredMessage},
    },
    views::MessageView,
};

use super::groups::new_key;

impl Actor {
    pub(super) fn send_to_group(
        &mut self,
        group: GroupId,
        body: MessageBody,
        reply: oneshot::Sender<std::result::Result<Queued, SendError>>,
    ) {
        match self.queue_group_message(group, body) {
            Ok(view) => self.after_flush(AfterFlush::Queued {
                reply,
                queued: Box::new(Queued {
                    view,
                    connected: true,
                }),
            }),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// Seals and keeps a photo, then sends its message to the group (see `send_photo` for
    /// 1:1 chats: the sealed blob is written first, so the flush that lets the message leave
    /// covers it).
    pub(super) fn send_photo_to_group(
        &mut self,
        group: GroupId,
        bytes: Vec<u8>,
        caption: String,
        reply: oneshot::Sender<std::result::Result<Queued, SendError>>,
    ) {
        let result = (|| -> std::result::Result<MessageView, SendError> {
            let photo = paperplane_protocol::PhotoRef::for_bytes(&bytes)?;
            let (key, sealed) = paperplane_crypto::seal_attachment(&mut rand::rng(), &bytes);
            let blob = paperplane_protocol::BlobHash::of(&sealed);
            self.store.put_blob(&sealed)?;
            self.store.put_chat_photo(&bytes)?;
            let body = MessageBody::Photo {
                photo: paperplane_protocol::ChatPhoto {
                    blob,
                    blob_size: sealed.len() as u64,
                    photo,
                    key: key.to_bytes(),
                },
                text: caption,
            };
            self.queue_group_message(group, body)
        })();
        match result {
            Ok(view) => self.after_flush(AfterFlush::Queued {
                reply,
                queued: Box::new(Queued {
                    view,
                    connected: true,
                }),
            }),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// Seals a typing indicator with our sender key and sends it, once the advanced key is
    /// durable, to every member connected now. Never stored by them, never retried.
    pub(super) fn group_typing(&mut self, group: GroupId, active: bool) -> Result<bool> {
        let record = self.member_record(&group)?;
        if record.folder == Folder::Requests || !self.store.read_receipts()? {
            return Ok(false);
        }
        let roster = &record.roster.body;
        let Some(mut mine) = self.store.my_group_key(&group)? else {
            return Ok(false);
        };
        let connected: Vec<PeerId> = roster
            .peers()
            .filter(|p| **p != self.me && self.connected.contains(p))
            .copied()
            .collect();
        if mine.epoch != roster.epoch || connected.is_empty() {
            return Ok(false);
        }
        let now = self.now();
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at: self.next_stamp(0, now),
            body: MessageBody::Typing { active },
        };
        let ad = GroupEnvelope::associated_data(&group, &self.me, mine.key_id, &message.id);
        let sealed = mine
            .key
            .seal(&mut rand::rng(), &ad, &message.to_plaintext())
            .map_err(SendError::from)?;
        mine.sent += 1;
        let mut batch = GroupBatch::default();
        batch.my_key(&group, &mine);
        self.store.commit_group_batch(&batch)?;
        let payload = GroupEnvelope {
            group,
            key_id: mine.key_id,
            sealed: encode(&sealed),
        }
        .to_payload();
        for peer in connected {
            self.after_flush(AfterFlush::SendEphemeral {
                peer,
                request: paperplane_protocol::DmRequest {
                    envelopes: vec![SealedEnvelope {
                        recipient: peer,
                        id: message.id,
                        payload: payload.clone(),
                    }],
                },
            });
        }
        Ok(true)
    }

    /// Seals `body` once with our sender key (a new one first if the epoch changed or the
    /// key is due for rotation) and queues it for every member, in one transaction.
    pub(super) fn queue_group_message(
        &mut self,
        group: GroupId,
        body: MessageBody,
    ) -> Result<MessageView, SendError> {
        let now = self.now();
        let record = self.member_record(&group).map_err(group_send_error)?;
        if matches!(body, MessageBody::Typing { .. }) {
            return Err(SendError::Ephemeral);
        }
        if matches!(body, MessageBody::GroupUpdate(_)) {
            return Err(SendError::Refused(chat_rules::Refusal::NotEditable));
        }
        let roster = &record.roster.body;
        let others: Vec<PeerId> = roster.peers().filter(|p| **p != self.me).copied().collect();
        let mut batch = GroupBatch::default();
        if record.folder == Folder::Requests && !matches!(body, MessageBody::Seen { .. }) {
            // Writing in a group request accepts it, as a reply does in a 1:1 request.
            let mut accepted = record.clone();
            accepted.folder = Folder::Inbox;
            batch.record(&accepted);
        }
        let mut my_key = match self.store.my_group_key(&group)? {
            Some(k)
                if k.epoch == roster.epoch
                    && !group_rules::rotation_due(k.sent, k.created_at, now) =>
            {
                k
            }
            _ => {
                let (mine, key) = new_key(&mut batch, &group, roster.epoch, now);
                let updates = others
                    .iter()
                    .map(|p| {
                        (
                            *p,
                            GroupUpdate {
                                group,
                                roster: None,
                                key: Some(key.clone()),
                            },
                        )
                    })
                    .collect();
                let rows = self
                    .queue_group_updates(&mut batch, updates, now)
                    .map_err(group_send_error)?;
                for (peer, up_to) in rows {
                    self.after_flush(AfterFlush::Durable { peer, up_to });
                }
                mine
            }
        };
        let sent_at = self.next_stamp(0, now);
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at,
            body,
        };
        message.validate()?;
        let mut chat = self.store.group_chat(&group)?;
        // A change is checked against its target here, for a clear error; members check again.
        let target = match message.body.target() {
            Some(target) => {
                let found = self
                    .store
                    .group_message_by_id(&group, target)?
                    .ok_or(SendError::NoSuchMessage(*target))?;
                chat_rules::check(
                    &found.1,
                    &found.2,
                    &self.me,
                    &self.me,
                    &message.body,
                    sent_at,
                )?;
                Some(found)
            }
            None => None,
        };
        let ad = GroupEnvelope::associated_data(&group, &self.me, my_key.key_id, &message.id);
        let sealed = my_key
            .key
            .seal(&mut rand::rng(), &ad, &message.to_plaintext())?;
        my_key.sent += 1;
        batch.my_key(&group, &my_key);
        let payload = GroupEnvelope {
            group,
            key_id: my_key.key_id,
            sealed: encode(&sealed),
        }
        .to_payload();
        let mut events = Vec::new();
        let stored = StoredMessage {
            id: message.id,
            peer: self.me,
            outgoing: true,
            sent_at,
            stored_at: now,
            body: message.body.clone(),
            state: DeliveryState::Pending,
        };
        let index = group_index_key(&group, &self.me, &message.id);
        let is_change = target.is_some();
        match target {
            None => {
                let key = group_message_key(&group, sent_at, &self.me, &message.id);
                batch.put(GTree::Messages, key.clone(), encode(&stored));
                batch.put(GTree::Index, index, key.clone());
                batch.put(GTree::ById, by_id_key(&group, &message.id), key);
                chat.last_activity = chat.last_activity.max(sent_at);
                chat.last_message = Some((self.me, message.id));
            }
            Some((key, target, mut marks)) => {
                batch.put(GTree::Index, index, Vec::new());
                batch.put(GTree::ById, by_id_key(&group, &message.id), Vec::new());
                let effect = chat_rules::apply(
                    &target,
                    &mut marks,
                    &self.me,
                    &self.me,
                    &message.body,
                    sent_at,
                );
                self.record_effect(
                    &mut batch,
                    &group,
                    &self.me.clone(),
                    key,
                    target,
                    marks,
                    &effect,
                    &mut chat,
                    &mut events,
                );
            }
        }
        batch.chat(&group, &chat);
        for peer in &others {
            let key = row_key(peer, sent_at, &message.id);
            batch.outbox(
                &key,
                &OutboxEntry {
                    peer: *peer,
                    message: message.id,
                    payload: payload.clone(),
                    queued_at: now,
                },
            );
            self.after_flush(AfterFlush::Durable {
                peer: *peer,
                up_to: key,
            });
        }
        self.store.commit_group_batch(&batch)?;
        let mut view = MessageView::new(&stored, &self.me);
        view.group = Some(group);
        if !is_change {
            events.push(Event::MessageSent {
                message: Box::new(view.clone()),
            });
        }
        if !events.is_empty() {
            self.after_flush(AfterFlush::Emit(events));
        }
        Ok(view)
    }

    /// Writes what a change did to a group message (its marks; an unsend wipes the text; a
    /// receipt moves its author's "seen" mark) and announces it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_effect(
        &self,
        batch: &mut GroupBatch,
        group: &GroupId,
        by: &PeerId,
        key: Vec<u8>,
        mut target: StoredMessage,
        marks: chat_rules::MessageMarks,
        effect: &Effect,
        chat: &mut GroupChat,
        events: &mut Vec<Event>,
    ) {
        match effect {
            Effect::Nothing(why) => {
                tracing::debug!(%why, "a change to a group message was ignored");
                return;
            }
            Effect::Seen { up_to } => {
                if *by == self.me {
                    chat.last_receipt = Some(target.id);
                } else {
                    let seen = self.store.group_seen(group).unwrap_or_default();
                    let before = seen.iter().find(|(p, _, _)| p == by).map_or(0, |s| s.1);
                    batch.put(
                        GTree::Seen,
                        seen_key(group, by),
                        encode(&((*up_to).max(before), self.now())),
                    );
                }
            }
            Effect::Unsent => {
                target.body = MessageBody::Text(String::new());
                batch.put(GTree::Messages, key.clone(), encode(&target));
                batch.put(GTree::Marks, key, encode(&marks));
            }
            Effect::Reacted(_) | Effect::Edited(_) => {
                batch.put(GTree::Marks, key, encode(&marks));
            }
        }
        events.push(Event::GroupMessageChanged {
            group: *group,
            message: target.id,
            by: *by,
        });
    }
}

/// A group error as a send error.
pub(super) fn group_send_error(e: Error) -> SendError {
    match e {
        Error::Send(e) => e,
        Error::Store(e) => SendError::Store(e),
        Error::Group(e) => SendError::Group(e),
        other => SendError::Group(GroupError::NoSuchGroup(other.to_string())),
    }
}
