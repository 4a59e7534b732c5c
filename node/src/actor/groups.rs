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

use paperplane_crypto::{encode_secret, Conversation, SenderKey};
use paperplane_protocol::{
    encode, DirectMessage, Epoch, GroupId, GroupKey, GroupUpdate, Member, MessageBody, MessageId,
    PeerId, Record, Roster, RosterChange, Signed,
};

use super::{flush::AfterFlush, Actor};
use crate::{
    delivery::{inbox, Folder},
    error::{Error, Result, SendError},
    event::Event,
    group_rules::{self, KeyPlan, OLD_CHAIN_GRACE_MS},
    groups::{GroupError, Request},
    store::{
        groups::{row_key, GTree, GroupBatch, GroupChat, GroupRecord, GroupStatus, MyKey},
        messages::{OutboxEntry, OutboxKey},
    },
};

/// Most chains kept per group (a member's current and replaced keys, and keys of joiners
/// whose roster is on its way).
pub(super) const MAX_CHAINS_PER_GROUP: usize = 4 * paperplane_protocol::group::MAX_GROUP_MEMBERS;
/// How long an envelope waits for its sender's key before it is dropped.
pub(super) const HELD_FOR_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How often old chains and held envelopes are swept.
pub(super) const SWEEP_EVERY_MS: u64 = 60_000;

/// What adopting a roster gave.
pub(super) struct Adopted {
    pub(super) record: GroupRecord,
    pub(super) updates: Vec<(PeerId, GroupUpdate)>,
    pub(super) event: Event,
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
    pub(super) fn check_member(&self, peer: &PeerId) -> Result<()> {
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

    pub(super) fn create_group(&mut self, name: String, members: Vec<PeerId>) -> Result<GroupId> {
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
            parent: None,
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
        batch.roster(&signed, true);
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

    pub(super) fn change_group(&mut self, group: GroupId, change: RosterChange) -> Result<()> {
        let now = self.now();
        let record = self.member_record(&group)?;
        if let RosterChange::Add(peers) = &change {
            for peer in peers {
                self.check_member(peer)?;
            }
        }
        let next = group_rules::apply(&change, &record.roster, &self.me, now, rand::random())
            .map_err(GroupError::from)?;
        next.validate(now)?;
        let signed = self.identity.sign_record(next);
        let mut batch = GroupBatch::default();
        batch.roster(&signed, true);
        let adopted = self.adopt(&mut batch, Some(&record), signed, record.folder, now)?;
        self.commit_with_updates(batch, adopted.updates, vec![adopted.event], now)
    }

    /// The group's record, if the user is a member.
    pub(super) fn member_record(&self, group: &GroupId) -> Result<GroupRecord> {
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
    pub(super) fn commit_with_updates(
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
    pub(super) fn adopt(
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
            mine: if mine {
                Some(new.id())
            } else {
                held.and_then(|r| r.mine)
            },
            folder,
            status,
        };
        batch.record(&record);
        for (peer, key_id, mut row) in self.store.group_chains(&group)? {
            // A member's chain of an older epoch stays until their key for this one comes
            // (`apply_group_update` retires it then): what they sent before it is still
            // on its way in their outbox, ahead of that key.
            let lost = row.epoch.number == roster.epoch.number && row.epoch != roster.epoch;
            if !member || !roster.is_member(&peer) {
                // Out of the group (we, or they): nothing of theirs is read any more.
                batch.remove(
                    GTree::Chains,
                    crate::store::groups::chain_key(&group, &peer, key_id),
                );
            } else if lost && row.retire_at.is_none() {
                // A key for an epoch that lost to a concurrent one.
                row.retire_at = Some(now + OLD_CHAIN_GRACE_MS);
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
            // A group in requests gets no key of ours until the user accepts it or writes
            // in it (the first message makes one): a stranger's group costs nothing to send.
            KeyPlan::NewKey if folder == Folder::Requests => {
                batch.remove(GTree::MyKeys, group.0.to_vec());
            }
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
    pub(super) fn queue_group_updates(
        &mut self,
        batch: &mut GroupBatch,
        updates: Vec<(PeerId, GroupUpdate)>,
        now: u64,
    ) -> Result<HashMap<PeerId, OutboxKey>> {
        let mut sessions: HashMap<PeerId, Conversation> = HashMap::new();
        let mut rows = HashMap::new();
        let mut rng = rand::rng();
        // Updates to members whose keys this node does not have yet wait in
        // `group_outgoing`, tried again at every sweep.
        let mut parked = self.store.next_outgoing_key()?;
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
                            tracing::info!(%peer, error = %e, "a group update waits for its member's keys");
                            batch.put(
                                GTree::Outgoing,
                                parked.to_be_bytes().to_vec(),
                                encode(&(peer, update)),
                            );
                            parked += 1;
                            self.group_updates_parked = true;
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

    /// The user opened the group chat: unread to 0 and, unless receipts are off or the
    /// group is a request, one receipt naming the newest message of someone else.
    pub(super) fn read_group(&mut self, group: GroupId) -> Result<()> {
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
            .group_messages(&group, 1_000)?
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

    pub(super) fn accept_group(&mut self, group: GroupId) -> Result<()> {
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
}

/// Makes a new sender key for `epoch`, writes it into `batch`, and returns it with the key
/// the members get.
pub(super) fn new_key(
    batch: &mut GroupBatch,
    group: &GroupId,
    epoch: Epoch,
    now: u64,
) -> (MyKey, GroupKey) {
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
pub(super) fn key_of(mine: &MyKey) -> GroupKey {
    GroupKey {
        epoch: mine.epoch,
        key_id: mine.key_id,
        share: encode_secret(&mine.key.share()).to_vec(),
    }
}
