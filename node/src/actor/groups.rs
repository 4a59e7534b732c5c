//! Group chats, both sides: the user's changes to a roster, sender keys made and handed out
//! over the 1:1 sessions, group messages sealed once and queued for every member, and what
//! arrives: rosters and keys (inside 1:1 messages) and group envelopes.
//!
//! Every step writes one [`GroupBatch`] (one transaction). 1:1 group updates are sealed on
//! the 1:1 sessions and queued in the outbox like any message; a group message is one
//! outbox row per member carrying the same sealed bytes. Rows to one member sort in the
//! order they were written (`Actor::next_stamp`), so a member gets a sender's key before
//! the messages it seals.

use std::collections::{HashMap, HashSet};

use paperplane_crypto::{
    encode_secret, identity::verify_record, Conversation, GroupCiphertext, ReceiverChain,
    SenderKey, SenderKeyShare,
};
use paperplane_protocol::{
    decode, dm::MAX_SEALED_BYTES, encode, group::MAX_GROUP_PAYLOAD_BYTES, DirectMessage,
    DmRejection, DmResult, Epoch, GroupEnvelope, GroupId, GroupKey, GroupUpdate, Member,
    MessageBody, MessageId, PeerId, Record, Roster, RosterChange, SealedEnvelope, Signed,
};
use tokio::sync::oneshot;

use super::{command::Queued, flush::AfterFlush, Actor};
use crate::{
    chat_rules::{self, Effect},
    delivery::{inbox, Folder},
    error::{Error, Result, SendError},
    event::Event,
    group_rules::{self, KeyPlan, Verdict, OLD_CHAIN_GRACE_MS},
    groups::{GroupError, Request},
    store::{
        groups::{
            chain_key, group_index_key, group_message_key, held_change_key, held_key, row_key,
            seen_key, update_seen_key, ChainRow, GTree, GroupBatch, GroupChat, GroupRecord,
            GroupStatus, HeldChange, HeldEnvelope, MyKey, MAX_HELD_CHANGES_PER_GROUP,
            MAX_HELD_PER_GROUP,
        },
        messages::{DeliveryState, OutboxEntry, OutboxKey, StoredMessage},
    },
    views::MessageView,
};

/// Most chains kept per group (a member's current and replaced keys, and keys of joiners
/// whose roster is on its way).
const MAX_CHAINS_PER_GROUP: usize = 4 * paperplane_protocol::group::MAX_GROUP_MEMBERS;
/// How long an envelope waits for its sender's key before it is dropped.
const HELD_FOR_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How often old chains and held envelopes are swept.
pub(super) const SWEEP_EVERY_MS: u64 = 60_000;

/// What adopting a roster gave.
struct Adopted {
    record: GroupRecord,
    updates: Vec<(PeerId, GroupUpdate)>,
    event: Event,
}

impl Actor {
    /// The timestamp of the next message we send: strictly after every earlier one to
    /// anyone, so each recipient's outbox rows sort in the order they were written.
    pub(super) fn next_stamp(&mut self, chat_last: u64, now: u64) -> u64 {
        let stamp = inbox::next_sent_at(chat_last.max(self.last_stamp), now);
        self.last_stamp = stamp;
        stamp
    }

    pub(super) fn on_group_request(&mut self, req: Request) {
        match req {
            Request::Create {
                name,
                members,
                reply,
            } => {
                let _ = reply.send(self.create_group(name, members));
            }
            Request::Change {
                group,
                change,
                reply,
            } => {
                let _ = reply.send(self.change_group(group, change));
            }
            Request::Send { group, body, reply } => self.send_to_group(group, body, reply),
            Request::SendPhoto {
                group,
                photo,
                caption,
                reply,
            } => self.send_photo_to_group(group, photo, caption, reply),
            Request::Typing {
                group,
                active,
                reply,
            } => {
                let _ = reply.send(self.group_typing(group, active));
            }
            Request::Read { group, reply } => {
                let _ = reply.send(self.read_group(group));
            }
            Request::Accept { group, reply } => {
                let _ = reply.send(self.accept_group(group));
            }
        }
    }

    /// Checks that `peer` can be sent to: not us, not blocked, with messaging keys.
    fn check_member(&self, peer: &PeerId) -> Result<()> {
        if *peer == self.me {
            return Err(Error::SelfAction("add"));
        }
        if self.store.is_blocked(peer)? {
            return Err(SendError::Blocked.into());
        }
        let profile = self
            .store
            .profile(peer)?
            .ok_or_else(|| Error::UnknownPeer(peer.to_string()))?;
        if profile.body.messaging.is_none() {
            return Err(Error::NoMessagingKeys(*peer));
        }
        Ok(())
    }

    fn create_group(&mut self, name: String, members: Vec<PeerId>) -> Result<GroupId> {
        let now = self.now();
        let mut list = Vec::new();
        for peer in members {
            if peer != self.me {
                self.check_member(&peer)?;
                list.push(Member { peer, admin: false });
            }
        }
        if list.is_empty() {
            return Err(GroupError::NoMembers.into());
        }
        list.push(Member {
            peer: self.me,
            admin: true,
        });
        let roster = Roster {
            group: GroupId(rand::random()),
            version: 0,
            epoch: Epoch {
                number: 0,
                nonce: rand::random(),
            },
            name,
            members: Roster::canonical_members(list),
            author: self.me,
            changed_at: now,
            change: RosterChange::Create,
        };
        roster.validate(now)?;
        let group = roster.group;
        let signed = self.identity.sign_record(roster);
        let mut batch = GroupBatch::default();
        batch.chat(
            &group,
            &GroupChat {
                last_activity: now,
                ..GroupChat::default()
            },
        );
        let adopted = self.adopt(&mut batch, None, signed, Folder::Inbox, now)?;
        self.commit_with_updates(batch, adopted.updates, vec![adopted.event], now)?;
        Ok(group)
    }

    fn change_group(&mut self, group: GroupId, change: RosterChange) -> Result<()> {
        let now = self.now();
        let record = self.member_record(&group)?;
        if let RosterChange::Add(peers) = &change {
            for peer in peers {
                self.check_member(peer)?;
            }
        }
        let next = group_rules::apply(&change, &record.roster.body, &self.me, now, rand::random())
            .map_err(GroupError::from)?;
        next.validate(now)?;
        let signed = self.identity.sign_record(next);
        let mut batch = GroupBatch::default();
        let adopted = self.adopt(&mut batch, Some(&record), signed, record.folder, now)?;
        self.commit_with_updates(batch, adopted.updates, vec![adopted.event], now)
    }

    /// The group's record, if the user is a member.
    fn member_record(&self, group: &GroupId) -> Result<GroupRecord> {
        let record = self
            .store
            .group(group)?
            .ok_or_else(|| GroupError::NoSuchGroup(group.to_hex()))?;
        if record.status != GroupStatus::Member {
            return Err(GroupError::NotAMember.into());
        }
        Ok(record)
    }

    /// Seals `updates` into `batch`, commits it, and lets the outbox send them after the
    /// flush; `events` go out after it too.
    fn commit_with_updates(
        &mut self,
        mut batch: GroupBatch,
        updates: Vec<(PeerId, GroupUpdate)>,
        events: Vec<Event>,
        now: u64,
    ) -> Result<()> {
        let rows = self.queue_group_updates(&mut batch, updates, now)?;
        self.store.commit_group_batch(&batch)?;
        for (peer, up_to) in rows {
            self.after_flush(AfterFlush::Durable { peer, up_to });
        }
        if !events.is_empty() {
            self.after_flush(AfterFlush::Emit(events));
        }
        Ok(())
    }

    /// Adopts `new` in place of `held`: records it, retires the chains it makes obsolete,
    /// makes or shares our sender key as [`group_rules::key_plan`] says, and (for our own
    /// change) sends the roster to every member and to whoever it removed.
    fn adopt(
        &mut self,
        batch: &mut GroupBatch,
        held: Option<&GroupRecord>,
        new: Signed<Roster>,
        folder: Folder,
        now: u64,
    ) -> Result<Adopted> {
        let roster = &new.body;
        let group = roster.group;
        let member = roster.is_member(&self.me);
        let mine = roster.author == self.me;
        let status = match (member, mine && roster.change == RosterChange::Leave) {
            (true, _) => GroupStatus::Member,
            (false, true) => GroupStatus::Left,
            (false, false) => GroupStatus::Removed,
        };
        let record = GroupRecord {
            roster: new.clone(),
            previous: held.map(|r| r.roster.clone()),
            folder,
            status,
        };
        batch.record(&record);
        for (peer, key_id, mut row) in self.store.group_chains(&group)? {
            let obsolete = !roster.is_member(&peer)
                || row.epoch.number < roster.epoch.number
                || (row.epoch.number == roster.epoch.number && row.epoch != roster.epoch);
            if (obsolete || !member) && row.retire_at.is_none() {
                row.retire_at = Some(if member {
                    now + OLD_CHAIN_GRACE_MS
                } else {
                    now
                });
                batch.chain(&group, &peer, key_id, &row);
            }
        }
        let others: Vec<PeerId> = roster.peers().filter(|p| **p != self.me).copied().collect();
        let was_member = held
            .is_some_and(|r| r.status == GroupStatus::Member && r.roster.body.is_member(&self.me));
        let previous = held.filter(|_| was_member).map(|r| &r.roster.body);
        let my_key = self.store.my_group_key(&group)?;
        let mut updates = Vec::new();
        match group_rules::key_plan(&self.me, previous, roster, my_key.as_ref().map(|k| k.epoch)) {
            KeyPlan::Forget => batch.remove(GTree::MyKeys, group.0.to_vec()),
            KeyPlan::NewKey => {
                let (_, key) = new_key(batch, &group, roster.epoch, now);
                // Who just joined may not hold the roster that added them (nor may the
                // others hold the one adding us): it goes with the key.
                let with_roster = !was_member;
                for peer in &others {
                    let joined = previous.is_some_and(|p| !p.is_member(peer));
                    updates.push((
                        *peer,
                        GroupUpdate {
                            group,
                            roster: (with_roster || joined).then(|| new.clone()),
                            key: Some(key.clone()),
                        },
                    ));
                }
            }
            KeyPlan::ShareWith(joined) => {
                if let Some(mine) = &my_key {
                    let key = key_of(mine);
                    for peer in joined {
                        updates.push((
                            peer,
                            GroupUpdate {
                                group,
                                roster: Some(new.clone()),
                                key: Some(key.clone()),
                            },
                        ));
                    }
                }
            }
            KeyPlan::Nothing => {}
        }
        if mine {
            let covered: HashSet<PeerId> = updates
                .iter()
                .filter(|(_, u)| u.roster.is_some())
                .map(|(p, _)| *p)
                .collect();
            let removed = held
                .map(|r| {
                    r.roster
                        .body
                        .peers()
                        .filter(|p| !roster.is_member(p) && **p != self.me)
                        .copied()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            for peer in others.iter().chain(&removed) {
                if !covered.contains(peer) {
                    // A peer already getting our key gets the roster in the same update.
                    match updates.iter_mut().find(|(p, _)| p == peer) {
                        Some((_, u)) => u.roster = Some(new.clone()),
                        None => updates.push((
                            *peer,
                            GroupUpdate {
                                group,
                                roster: Some(new.clone()),
                                key: None,
                            },
                        )),
                    }
                }
            }
        }
        let event = Event::GroupChanged {
            group,
            version: roster.version,
            change: crate::groups::describe(&self.store, roster),
            request: folder == Folder::Requests,
        };
        Ok(Adopted {
            record,
            updates,
            event,
        })
    }

    /// Seals each update on its member's 1:1 session and writes it into `batch` as an
    /// outbox row (with its body beside it, to seal it again on a fresh session). Returns
    /// each member's last row.
    fn queue_group_updates(
        &mut self,
        batch: &mut GroupBatch,
        updates: Vec<(PeerId, GroupUpdate)>,
        now: u64,
    ) -> Result<HashMap<PeerId, OutboxKey>> {
        let mut sessions: HashMap<PeerId, Conversation> = HashMap::new();
        let mut rows = HashMap::new();
        let mut rng = rand::rng();
        for (peer, update) in updates {
            if peer == self.me || self.store.is_blocked(&peer)? {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(peer) {
                let conv = self
                    .store
                    .conversation(&peer)?
                    .unwrap_or_else(|| Conversation::new(peer));
                let conv = if conv.can_send() {
                    conv
                } else {
                    match self.fresh_session(conv, now) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, "cannot send a group update");
                            continue;
                        }
                    }
                };
                slot.insert(conv);
            }
            let conv = sessions.get_mut(&peer).expect("inserted above");
            let chat_last = self.store.chat(&peer)?.map_or(0, |c| c.last_sent_at);
            let sent_at = self.next_stamp(chat_last, now);
            let message = DirectMessage {
                id: MessageId(rand::random()),
                sent_at,
                body: MessageBody::GroupUpdate(Box::new(update)),
            };
            let envelope = conv
                .encrypt_in_place(&mut rng, &message.to_plaintext())
                .map_err(SendError::from)?;
            let key = row_key(&peer, sent_at, &message.id);
            batch.outbox(
                &key,
                &OutboxEntry {
                    peer,
                    message: message.id,
                    payload: envelope.to_bytes(),
                    queued_at: now,
                },
            );
            batch.put(
                GTree::Sent,
                key.as_bytes().to_vec(),
                encode(&(message.id, message.sent_at, message.body)),
            );
            rows.insert(peer, key);
        }
        for (peer, conv) in sessions {
            batch.put_secret(GTree::Conversations, peer.to_bytes(), encode_secret(&conv));
        }
        Ok(rows)
    }

    fn send_to_group(
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
    fn send_photo_to_group(
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
    fn group_typing(&mut self, group: GroupId, active: bool) -> Result<bool> {
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
    fn queue_group_message(
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
        match target {
            None => {
                let key = group_message_key(&group, sent_at, &self.me, &message.id);
                batch.put(GTree::Messages, key.clone(), encode(&stored));
                batch.put(GTree::Index, index, key);
                chat.last_activity = chat.last_activity.max(sent_at);
                chat.last_message = Some((self.me, message.id));
            }
            Some((key, target, mut marks)) => {
                batch.put(GTree::Index, index, Vec::new());
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
        if !events.is_empty() {
            self.after_flush(AfterFlush::Emit(events));
        }
        let mut view = MessageView::new(&stored, &self.me);
        view.group = Some(group);
        Ok(view)
    }

    /// Writes what a change did to a group message (its marks; an unsend wipes the text; a
    /// receipt moves its author's "seen" mark) and announces it.
    #[allow(clippy::too_many_arguments)]
    fn record_effect(
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

    /// The user opened the group chat: unread to 0 and, unless receipts are off or the
    /// group is a request, one receipt naming the newest message of someone else.
    fn read_group(&mut self, group: GroupId) -> Result<()> {
        let record = self
            .store
            .group(&group)?
            .ok_or_else(|| GroupError::NoSuchGroup(group.to_hex()))?;
        let mut chat = self.store.group_chat(&group)?;
        chat.unread = 0;
        let mut batch = GroupBatch::default();
        batch.chat(&group, &chat);
        self.store.commit_group_batch(&batch)?;
        let receipts = self.store.read_receipts()?;
        if !receipts || record.folder == Folder::Requests || record.status != GroupStatus::Member {
            return Ok(());
        }
        let newest = self
            .store
            .group_messages(&group, 64)?
            .into_iter()
            .rev()
            .find(|(_, m, _)| !m.outgoing)
            .map(|(_, m, _)| m.id);
        if let Some(up_to) = newest {
            if chat.last_receipt != Some(up_to) {
                self.queue_group_message(group, MessageBody::Seen { up_to })?;
            }
        }
        Ok(())
    }

    fn accept_group(&mut self, group: GroupId) -> Result<()> {
        let mut record = self
            .store
            .group(&group)?
            .ok_or_else(|| GroupError::NoSuchGroup(group.to_hex()))?;
        record.folder = Folder::Inbox;
        let mut batch = GroupBatch::default();
        batch.record(&record);
        self.store.commit_group_batch(&batch)?;
        Ok(())
    }

    // --- receiving ---

    /// Applies a group update that came inside a 1:1 message from `peer` (already
    /// decrypted): adopts its roster if it wins, stores its key, and opens the envelopes
    /// that waited for that key. Our own updates it calls for are sent after the 1:1
    /// session that decrypted it is stored ([`Actor::send_deferred_group_updates`]).
    pub(super) fn apply_group_update(
        &mut self,
        peer: PeerId,
        id: MessageId,
        update: &GroupUpdate,
        now: u64,
    ) -> Result<Vec<Event>> {
        if self.store.group_update_seen(&peer, &id)? {
            return Ok(Vec::new());
        }
        let group = update.group;
        let mut batch = GroupBatch::default();
        batch.put(GTree::UpdatesSeen, update_seen_key(&peer, &id), Vec::new());
        let mut events = Vec::new();
        let mut record = self.store.group(&group)?;
        if let Some(roster) = &update.roster {
            match self.judge_roster(&peer, record.as_ref(), roster, now) {
                Ok(true) => {
                    let folder = match &record {
                        Some(r) => r.folder,
                        None if self.followees.contains(&roster.body.author) => Folder::Inbox,
                        None => Folder::Requests,
                    };
                    let adopted =
                        self.adopt(&mut batch, record.as_ref(), roster.clone(), folder, now)?;
                    let mut adopted = adopted;
                    // Our own change lost to a concurrent one: make it again on top of it.
                    if let Some(held) = &record {
                        let ours = &held.roster.body;
                        if ours.author == self.me
                            && ours.version == roster.body.version
                            && adopted.record.status == GroupStatus::Member
                        {
                            if let Ok(next) = group_rules::apply(
                                &ours.change,
                                &roster.body,
                                &self.me,
                                now,
                                rand::random(),
                            ) {
                                tracing::info!(%group, "making our roster change again on top of a concurrent one");
                                let signed = self.identity.sign_record(next);
                                let first = std::mem::take(&mut adopted.updates);
                                let again = self.adopt(
                                    &mut batch,
                                    Some(&adopted.record),
                                    signed,
                                    folder,
                                    now,
                                )?;
                                events.push(adopted.event);
                                adopted = again;
                                adopted.updates.splice(0..0, first);
                            }
                        }
                    }
                    events.push(adopted.event);
                    self.deferred_group_updates.extend(adopted.updates);
                    record = Some(adopted.record);
                }
                Ok(false) => {}
                Err(why) => tracing::debug!(%peer, %group, %why, "a roster was refused"),
            }
        }
        let mut release = None;
        if let (Some(key), Some(record)) = (&update.key, &record) {
            match self.accept_key(&peer, record, key) {
                Ok(chain) => {
                    for (p, key_id, mut row) in self.store.group_chains(&group)? {
                        if p == peer && key_id != key.key_id && row.retire_at.is_none() {
                            row.retire_at = Some(now + OLD_CHAIN_GRACE_MS);
                            batch.chain(&group, &p, key_id, &row);
                        }
                    }
                    batch.chain(
                        &group,
                        &peer,
                        key.key_id,
                        &ChainRow {
                            epoch: key.epoch,
                            chain,
                            retire_at: None,
                        },
                    );
                    release = Some(key.key_id);
                }
                Err(why) => tracing::debug!(%peer, %group, why, "a sender key was refused"),
            }
        }
        self.store.commit_group_batch(&batch)?;
        if let Some(key_id) = release {
            self.release_held(&group, &peer, key_id, now, &mut events)?;
        }
        Ok(events)
    }

    /// Whether `roster`, passed on by `from`, is to be adopted over what is held.
    fn judge_roster(
        &self,
        from: &PeerId,
        held: Option<&GroupRecord>,
        roster: &Signed<Roster>,
        now: u64,
    ) -> std::result::Result<bool, String> {
        verify_record(roster, now).map_err(|e| e.to_string())?;
        match held {
            // A group first heard of: it must name us, and whoever passed it on.
            None => Ok(roster.body.is_member(&self.me) && roster.body.is_member(from)),
            Some(record) => {
                match group_rules::judge(roster, &record.roster, record.previous.as_ref()) {
                    Ok(Verdict::Adopt) => Ok(true),
                    Ok(Verdict::Same | Verdict::Stale) => Ok(false),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    /// The chain `peer`'s key starts, if we take it: we are a member, and the key is for the
    /// current epoch or a later one (whose roster is on its way). It may come from someone
    /// the roster held does not name yet (a joiner whose roster is still on its way): kept,
    /// within [`MAX_CHAINS_PER_GROUP`], but their messages are refused until they are a
    /// member.
    fn accept_key(
        &self,
        peer: &PeerId,
        record: &GroupRecord,
        key: &GroupKey,
    ) -> std::result::Result<ReceiverChain, &'static str> {
        let roster = &record.roster.body;
        if record.status != GroupStatus::Member || *peer == self.me {
            return Err("not a member");
        }
        if !roster.is_member(peer)
            && self
                .store
                .group_chains(&roster.group)
                .map_or(true, |c| c.len() >= MAX_CHAINS_PER_GROUP)
        {
            return Err("too many keys held for the group");
        }
        let current = roster.epoch;
        if key.epoch.number < current.number
            || (key.epoch.number == current.number && key.epoch != current)
        {
            return Err("a key for an epoch this node does not have");
        }
        let share: SenderKeyShare = decode(&key.share, 512).map_err(|_| "an undecodable key")?;
        ReceiverChain::from_share(&share).map_err(|_| "an invalid key")
    }

    /// Sends the updates that group updates received in the last request called for,
    /// now that the 1:1 sessions that decrypted them are stored.
    pub(super) fn send_deferred_group_updates(&mut self) {
        if self.deferred_group_updates.is_empty() {
            return;
        }
        let updates = std::mem::take(&mut self.deferred_group_updates);
        let now = self.now();
        let mut batch = GroupBatch::default();
        let result = self
            .queue_group_updates(&mut batch, updates, now)
            .and_then(|rows| {
                self.store.commit_group_batch(&batch)?;
                Ok(rows)
            });
        match result {
            Ok(rows) => {
                for (peer, up_to) in rows {
                    self.after_flush(AfterFlush::Durable { peer, up_to });
                }
            }
            Err(e) => tracing::error!(error = %e, "queueing group updates"),
        }
    }

    /// Judges and stores the group envelopes of one request from `peer`, each in its own
    /// transaction (they are acknowledged after the flush that covers them).
    pub(super) fn receive_group(
        &mut self,
        peer: PeerId,
        envelopes: &[SealedEnvelope],
    ) -> Result<(Vec<DmResult>, Vec<Event>)> {
        let now = self.now();
        if self.store.is_blocked(&peer)? {
            return Ok((
                vec![DmResult::Rejected(DmRejection::Blocked); envelopes.len()],
                Vec::new(),
            ));
        }
        let mut results = Vec::with_capacity(envelopes.len());
        let mut events = Vec::new();
        let mut seen = inbox::Seen::default();
        for env in envelopes {
            if let Some(verdict) = inbox::precheck(env, &self.me, &mut seen) {
                results.push(verdict);
                continue;
            }
            let Ok(group_env) = GroupEnvelope::from_payload(&env.payload) else {
                results.push(DmResult::Rejected(DmRejection::Malformed));
                continue;
            };
            let result = self.receive_group_envelope(peer, env.id, &group_env, now, &mut events)?;
            if result == DmResult::Stored {
                seen.ids.insert(env.id);
            }
            results.push(result);
        }
        Ok((results, events))
    }

    /// One group envelope: refused, a duplicate, held for its key, or opened and stored.
    fn receive_group_envelope(
        &mut self,
        peer: PeerId,
        id: MessageId,
        env: &GroupEnvelope,
        now: u64,
        events: &mut Vec<Event>,
    ) -> Result<DmResult> {
        let group = env.group;
        let reject = |r| Ok(DmResult::Rejected(r));
        let Some(record) = self.store.group(&group)? else {
            return reject(DmRejection::NotAMember);
        };
        if record.status != GroupStatus::Member {
            return reject(DmRejection::LeftGroup);
        }
        if !record.roster.body.is_member(&peer) {
            return reject(DmRejection::NotAMember);
        }
        let held = held_key(&group, &peer, env.key_id, &id);
        if self.store.has_group_item(&group, &peer, &id)? || self.store.is_held(&held)? {
            return Ok(DmResult::Duplicate);
        }
        let Some(mut row) = self.store.group_chain(&group, &peer, env.key_id)? else {
            let mut chat = self.store.group_chat(&group)?;
            if chat.held >= MAX_HELD_PER_GROUP {
                return reject(DmRejection::RateLimited);
            }
            chat.held += 1;
            let mut batch = GroupBatch::default();
            batch.put(
                GTree::Held,
                held,
                encode(&HeldEnvelope {
                    id,
                    envelope: env.clone(),
                    held_at: now,
                }),
            );
            batch.chat(&group, &chat);
            self.store.commit_group_batch(&batch)?;
            return Ok(DmResult::Stored);
        };
        let Ok(sealed) = decode::<GroupCiphertext>(&env.sealed, MAX_GROUP_PAYLOAD_BYTES) else {
            return reject(DmRejection::Malformed);
        };
        let ad = GroupEnvelope::associated_data(&group, &peer, env.key_id, &id);
        let plaintext = match row.chain.open(&ad, &sealed) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(%peer, %group, error = %e, "a group message does not open");
                return reject(DmRejection::Malformed);
            }
        };
        let message = match DirectMessage::from_plaintext(&plaintext, MAX_SEALED_BYTES) {
            Ok(m)
                if m.id == id
                    && !matches!(m.body, MessageBody::GroupUpdate(_))
                    && (matches!(m.body, MessageBody::Unsupported { .. })
                        || m.validate().is_ok()) =>
            {
                m
            }
            _ => return reject(DmRejection::Malformed),
        };
        let mut batch = GroupBatch::default();
        batch.chain(&group, &peer, env.key_id, &row);
        let index = group_index_key(&group, &peer, &id);
        let sent_at = inbox::clamp_sent_at(message.sent_at, now);
        let mut chat = self.store.group_chat(&group)?;
        match message.body {
            MessageBody::Typing { active } => events.push(Event::GroupTyping {
                group,
                peer,
                active,
                expires_at: now + super::dm::TYPING_SHOWN_MS,
            }),
            body if body.is_shown() => {
                let stored = StoredMessage {
                    id,
                    peer,
                    outgoing: false,
                    sent_at,
                    stored_at: now,
                    body,
                    state: DeliveryState::Received,
                };
                let key = group_message_key(&group, sent_at, &peer, &id);
                batch.put(GTree::Messages, key.clone(), encode(&stored));
                batch.put(GTree::Index, index, key.clone());
                chat.unread += 1;
                chat.last_activity = chat.last_activity.max(sent_at);
                chat.last_message = Some((peer, id));
                let mut view = MessageView::new(&stored, &self.me);
                view.group = Some(group);
                events.push(Event::Message {
                    message: Box::new(view),
                    request: record.folder == Folder::Requests,
                });
                self.chat_photo_received(&stored);
                // Changes that came first apply now, in their authors' order.
                let mut waiting = self.store.held_changes_for(&group, &id)?;
                waiting.sort_by_key(|(_, c)| c.sent_at);
                let mut marks = chat_rules::MessageMarks::default();
                let mut target = stored;
                for (hkey, change) in waiting {
                    batch.remove(GTree::HeldChanges, hkey);
                    chat.held_changes = chat.held_changes.saturating_sub(1);
                    let effect = chat_rules::apply(
                        &target,
                        &mut marks,
                        &self.me,
                        &change.author,
                        &change.body,
                        change.sent_at,
                    );
                    if effect == Effect::Unsent {
                        target.body = MessageBody::Text(String::new());
                    }
                    self.record_effect(
                        &mut batch,
                        &group,
                        &change.author,
                        key.clone(),
                        target.clone(),
                        marks.clone(),
                        &effect,
                        &mut chat,
                        events,
                    );
                }
            }
            body => {
                batch.put(GTree::Index, index, Vec::new());
                let target = body.target().copied();
                match target.and_then(|t| self.store.group_message_by_id(&group, &t).transpose()) {
                    Some(found) => {
                        let (key, target, mut marks) = found?;
                        let effect =
                            chat_rules::apply(&target, &mut marks, &self.me, &peer, &body, sent_at);
                        self.record_effect(
                            &mut batch, &group, &peer, key, target, marks, &effect, &mut chat,
                            events,
                        );
                    }
                    None => match target {
                        Some(target) if chat.held_changes < MAX_HELD_CHANGES_PER_GROUP => {
                            chat.held_changes += 1;
                            batch.put(
                                GTree::HeldChanges,
                                held_change_key(&group, &target, &peer, &id),
                                encode(&HeldChange {
                                    author: peer,
                                    id,
                                    sent_at,
                                    body,
                                }),
                            );
                        }
                        _ => {
                            tracing::debug!(%peer, %group, "a change to a group message was dropped")
                        }
                    },
                }
            }
        }
        batch.chat(&group, &chat);
        self.store.commit_group_batch(&batch)?;
        Ok(DmResult::Stored)
    }

    /// Opens the envelopes that waited for `sender`'s key `key_id`, in the order they were
    /// sealed.
    fn release_held(
        &mut self,
        group: &GroupId,
        sender: &PeerId,
        key_id: u64,
        now: u64,
        events: &mut Vec<Event>,
    ) -> Result<()> {
        let held = self.store.held_for(group, sender, key_id)?;
        if held.is_empty() {
            return Ok(());
        }
        let mut batch = GroupBatch::default();
        let mut chat = self.store.group_chat(group)?;
        chat.held = chat.held.saturating_sub(held.len() as u32);
        for (key, _) in &held {
            batch.remove(GTree::Held, key.clone());
        }
        batch.chat(group, &chat);
        self.store.commit_group_batch(&batch)?;
        let mut envelopes: Vec<(u32, HeldEnvelope)> = held
            .into_iter()
            .map(|(_, h)| {
                let index = decode::<GroupCiphertext>(&h.envelope.sealed, MAX_GROUP_PAYLOAD_BYTES)
                    .map_or(u32::MAX, |c| c.index);
                (index, h)
            })
            .collect();
        envelopes.sort_by_key(|(index, _)| *index);
        for (_, h) in envelopes {
            let result = self.receive_group_envelope(*sender, h.id, &h.envelope, now, events)?;
            if result != DmResult::Stored {
                tracing::debug!(%sender, %group, ?result, "a held group message could not be opened");
            }
        }
        Ok(())
    }

    /// Erases chains past their grace and envelopes that waited too long for their key.
    pub(super) fn sweep_groups(&mut self) {
        let now = self.now();
        let result = (|| -> Result<()> {
            for group in self.store.group_ids()? {
                let mut batch = GroupBatch::default();
                for (peer, key_id, row) in self.store.group_chains(&group)? {
                    if row.retire_at.is_some_and(|at| at <= now) {
                        batch.remove(GTree::Chains, chain_key(&group, &peer, key_id));
                    }
                }
                let mut chat = self.store.group_chat(&group)?;
                if chat.held > 0 {
                    for (key, held) in self.store.held_in(&group)? {
                        if held.held_at + HELD_FOR_MS <= now {
                            batch.remove(GTree::Held, key);
                            chat.held = chat.held.saturating_sub(1);
                        }
                    }
                    batch.chat(&group, &chat);
                }
                self.store.commit_group_batch(&batch)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!(error = %e, "sweeping group keys");
        }
    }
}

/// Makes a new sender key for `epoch`, writes it into `batch`, and returns it with the key
/// the members get.
fn new_key(batch: &mut GroupBatch, group: &GroupId, epoch: Epoch, now: u64) -> (MyKey, GroupKey) {
    let mine = MyKey {
        key_id: rand::random(),
        epoch,
        key: SenderKey::generate(&mut rand::rng()),
        created_at: now,
        sent: 0,
    };
    batch.my_key(group, &mine);
    let key = key_of(&mine);
    (mine, key)
}

/// What the members get of our key: its chain as it stands now.
fn key_of(mine: &MyKey) -> GroupKey {
    GroupKey {
        epoch: mine.epoch,
        key_id: mine.key_id,
        share: encode_secret(&mine.key.share()).to_vec(),
    }
}

/// A group error as a send error.
fn group_send_error(e: Error) -> SendError {
    match e {
        Error::Send(e) => e,
        Error::Store(e) => SendError::Store(e),
        Error::Group(e) => SendError::Group(e),
        other => SendError::Group(GroupError::NoSuchGroup(other.to_string())),
    }
}
