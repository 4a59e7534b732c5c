//! What arrives for a group: rosters and keys inside 1:1 messages, and group envelopes,
//! opened with their sender's chain (or held until it arrives); and the sweep of old chains.

use paperplane_crypto::{identity::verify_record, GroupCiphertext, ReceiverChain, SenderKeyShare};
use paperplane_protocol::{
    decode, dm::MAX_SEALED_BYTES, encode, group::MAX_GROUP_PAYLOAD_BYTES, DirectMessage,
    DmRejection, DmResult, GroupEnvelope, GroupId, GroupKey, GroupUpdate, MessageBody, MessageId,
    PeerId, Roster, SealedEnvelope, Signed,
};

use super::{flush::AfterFlush, Actor};
use crate::{
    chat_rules::{self, Effect},
    delivery::{inbox, Folder},
    error::Result,
    event::Event,
    group_rules::{self, OLD_CHAIN_GRACE_MS},
    store::{
        groups::{
            by_id_key, chain_key, group_index_key, group_message_key, held_change_key, held_key,
            update_seen_key, ChainRow, GTree, GroupBatch, GroupRecord, GroupStatus, HeldChange,
            HeldEnvelope, MAX_HELD_CHANGES_PER_GROUP, MAX_HELD_PER_GROUP,
        },
        messages::{DeliveryState, StoredMessage},
    },
    views::MessageView,
};

use super::groups::{HELD_FOR_MS, MAX_CHAINS_PER_GROUP};

/// Most groups kept in requests (added by people the user does not follow).
pub(super) const MAX_REQUEST_GROUPS: usize = 100;

impl Actor {
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
        batch.put(
            GTree::UpdatesSeen,
            update_seen_key(&peer, &id),
            now.to_be_bytes().to_vec(),
        );
        let mut events = Vec::new();
        let mut record = self.store.group(&group)?;
        if let Some(roster) = &update.roster {
            match self.take_roster(&peer, record.as_ref(), roster, now, &mut batch) {
                Ok(Some(chosen))
                    if record.as_ref().is_none_or(|r| r.roster.id() != chosen.id()) =>
                {
                    let folder = match &record {
                        Some(r) => r.folder,
                        None if self.followees.contains(&chosen.body.author) => Folder::Inbox,
                        None => {
                            // A new request: it counts against the strangers' allowance,
                            // and the longest-quiet request groups beyond the bound go.
                            self.inbox.accepted_requests(1, now);
                            self.drop_excess_request_groups()?;
                            Folder::Requests
                        }
                    };
                    if record.is_none() {
                        batch.chat(
                            &group,
                            &crate::store::groups::GroupChat {
                                last_activity: now,
                                ..Default::default()
                            },
                        );
                    }
                    let mut adopted =
                        self.adopt(&mut batch, record.as_ref(), chosen, folder, now)?;
                    if let Some(again) = self.rebase(&mut batch, &adopted.record, now)? {
                        let first = std::mem::take(&mut adopted.updates);
                        let mut again =
                            self.adopt(&mut batch, Some(&adopted.record), again, folder, now)?;
                        events.push(adopted.event);
                        again.updates.splice(0..0, first);
                        adopted = again;
                    }
                    events.push(adopted.event);
                    let first =
                        self.store.next_outgoing_key()? + self.deferred_group_updates as u64;
                    for (seq, update) in (first..).zip(&adopted.updates) {
                        batch.put(
                            GTree::Outgoing,
                            seq.to_be_bytes().to_vec(),
                            paperplane_protocol::encode(update),
                        );
                    }
                    self.deferred_group_updates += adopted.updates.len();
                    record = Some(adopted.record);
                }
                Ok(_) => {}
                Err(why) => tracing::debug!(%peer, %group, %why, "a roster was refused"),
            }
        }
        let mut release = None;
        if let (Some(key), Some(record)) = (&update.key, &record) {
            match self.accept_key(&peer, record, key) {
                Ok(chain) => {
                    for (p, key_id, mut row) in self.store.group_chains_of(&group, &peer)? {
                        if key_id != key.key_id && row.retire_at.is_none() {
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

    /// Keeps fewer than [`MAX_REQUEST_GROUPS`] groups in requests (room for one more),
    /// dropping the longest-quiet ones with everything they hold.
    fn drop_excess_request_groups(&mut self) -> Result<()> {
        let mut requests: Vec<(u64, GroupId)> = self
            .store
            .groups()?
            .into_iter()
            .filter(|(r, _)| r.folder == Folder::Requests)
            .map(|(r, c)| (c.last_activity, r.id()))
            .collect();
        if requests.len() < MAX_REQUEST_GROUPS {
            return Ok(());
        }
        requests.sort();
        for (_, group) in &requests[..=requests.len() - MAX_REQUEST_GROUPS] {
            tracing::info!(%group, "dropping the longest-quiet group request");
            self.store.delete_group(group)?;
        }
        Ok(())
    }

    /// Takes in `roster`, passed on by `from`: verified, written into `batch` among the
    /// group's rosters (valid once its parent is, or waiting for it), and returns the roster
    /// the group is at now ([`group_rules::fork_choice`]).
    ///
    /// A group first heard of must name us and whoever passed it on; that roster is where
    /// this node's knowledge of the group starts. While that is all it knows, a later roster
    /// that names us and is signed by an admin of it replaces it as the start (a joiner whose
    /// adding lost to a concurrent change gets the change made again on the winner).
    pub(super) fn take_roster(
        &self,
        from: &PeerId,
        held: Option<&GroupRecord>,
        roster: &Signed<Roster>,
        now: u64,
        batch: &mut GroupBatch,
    ) -> std::result::Result<Option<Signed<Roster>>, String> {
        verify_record(roster, now).map_err(|e| e.to_string())?;
        let Some(held) = held else {
            if !(roster.body.is_member(&self.me) && roster.body.is_member(from)) {
                return Err("a new group must name us and whoever passed it on".into());
            }
            batch.roster(roster, true);
            return Ok(Some(roster.clone()));
        };
        let group = held.id();
        if roster.body.group != group {
            return Err("for another group".into());
        }
        let mut known = self
            .store
            .group_rosters(&group)
            .map_err(|e| e.to_string())?;
        if known.iter().any(|(r, _)| r.id() == roster.id()) {
            return Ok(None);
        }
        known.push((roster.clone(), false));
        // Everything waiting whose parent is valid now is judged, until nothing changes.
        loop {
            let mut changed = false;
            let mut refused = Vec::new();
            for i in 0..known.len() {
                if known[i].1 {
                    continue;
                }
                let parent = known[i].0.body.parent;
                let Some(p) = known
                    .iter()
                    .find(|(r, valid)| *valid && Some(r.id()) == parent)
                    .map(|(r, _)| r.clone())
                else {
                    continue;
                };
                match group_rules::authorised(&known[i].0.body, &p) {
                    Ok(()) => {
                        known[i].1 = true;
                        batch.roster(&known[i].0, true);
                        changed = true;
                    }
                    Err(e) => refused.push((i, e)),
                }
            }
            for (i, e) in refused.into_iter().rev() {
                let (r, _) = known.remove(i);
                batch.forget_roster(&r);
                if r.id() == roster.id() {
                    return Err(e.to_string());
                }
            }
            if !changed {
                break;
            }
        }
        let valid: Vec<Signed<Roster>> = known
            .iter()
            .filter(|(_, v)| *v)
            .map(|(r, _)| r.clone())
            .collect();
        let waiting = known.iter().any(|(r, v)| !v && r.id() == roster.id());
        if waiting {
            let only_the_start = valid.len() == 1;
            let start = &valid[0].body;
            if only_the_start
                && roster.body.version > start.version
                && roster.body.is_member(&self.me)
                && start.is_admin(&roster.body.author)
            {
                // A new start: what we knew is replaced.
                batch.forget_roster(&valid[0]);
                batch.roster(roster, true);
                return Ok(Some(roster.clone()));
            }
            let lowest = valid.iter().map(|r| r.body.version).min().unwrap_or(0);
            if roster.body.version <= lowest {
                return Ok(None);
            }
            batch.roster(roster, false);
        }
        // At most so many rosters are kept: the oldest go.
        use crate::store::groups::MAX_ROSTERS_KEPT;
        if known.len() > MAX_ROSTERS_KEPT {
            let mut by_version: Vec<&Signed<Roster>> = known.iter().map(|(r, _)| r).collect();
            by_version.sort_by_key(|r| r.body.version);
            for r in &by_version[..known.len() - MAX_ROSTERS_KEPT] {
                batch.forget_roster(r);
            }
        }
        Ok(group_rules::fork_choice(&valid).cloned())
    }

    /// If the user's last roster change is not on the branch the group is at now (a
    /// concurrent change won), the same change made again on top of it, signed and kept.
    fn rebase(
        &self,
        batch: &mut GroupBatch,
        record: &GroupRecord,
        now: u64,
    ) -> Result<Option<Signed<Roster>>> {
        let Some(mine) = record.mine else {
            return Ok(None);
        };
        if record.status != GroupStatus::Member {
            return Ok(None);
        }
        let known: Vec<Signed<Roster>> = self
            .store
            .group_rosters(&record.id())?
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        if group_rules::descends_from(&record.roster, &mine, &known) {
            return Ok(None);
        }
        let Some(ours) = known.iter().find(|r| r.id() == mine) else {
            return Ok(None);
        };
        match group_rules::apply(
            &ours.body.change,
            &record.roster,
            &self.me,
            now,
            rand::random(),
        ) {
            Ok(next) => {
                tracing::info!(group = %record.id(), "making our roster change again on top of a concurrent one");
                let signed = self.identity.sign_record(next);
                batch.roster(&signed, true);
                Ok(Some(signed))
            }
            // Already there (or no longer ours to make).
            Err(_) => Ok(None),
        }
    }

    /// The chain `peer`'s key starts, if we take it: we are a member, and the key is for the
    /// current epoch or a later one (whose roster is on its way). It may come from someone
    /// the roster held does not name yet (a joiner whose roster is still on its way): kept,
    /// within [`MAX_CHAINS_PER_GROUP`], but their messages are refused until they are a
    /// member.
    pub(super) fn accept_key(
        &self,
        peer: &PeerId,
        record: &GroupRecord,
        key: &GroupKey,
    ) -> std::result::Result<ReceiverChain, &'static str> {
        let roster = &record.roster.body;
        if record.status != GroupStatus::Member || *peer == self.me {
            return Err("not a member");
        }
        // Current and replaced keys of members, and keys of joiners on their way: bounded,
        // so no one (member or not) can make this node keep chains without end.
        if self
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
        if self.deferred_group_updates == 0 {
            return;
        }
        self.deferred_group_updates = 0;
        let now = self.now();
        let result = (|| -> Result<_> {
            let waiting = self.store.group_outgoing()?;
            let mut batch = GroupBatch::default();
            let mut updates = Vec::with_capacity(waiting.len());
            for (key, update) in waiting {
                batch.remove(GTree::Outgoing, key);
                updates.push(update);
            }
            let rows = self.queue_group_updates(&mut batch, updates, now)?;
            self.store.commit_group_batch(&batch)?;
            Ok(rows)
        })();
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
            let result =
                self.receive_group_envelope(peer, env.id, &group_env, now, &mut events, None)?;
            if result == DmResult::Stored {
                seen.ids.insert(env.id);
            }
            results.push(result);
        }
        Ok((results, events))
    }

    /// One group envelope: refused, a duplicate, held for its key, or opened and stored.
    pub(super) fn receive_group_envelope(
        &mut self,
        peer: PeerId,
        id: MessageId,
        env: &GroupEnvelope,
        now: u64,
        events: &mut Vec<Event>,
        releasing: Option<&[u8]>,
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
        if self.store.has_group_item(&group, &peer, &id)?
            || (releasing.is_none() && self.store.is_held(&held)?)
        {
            return Ok(DmResult::Duplicate);
        }
        if self.store.group_id_taken(&group, &id)? {
            // Another member's message has this id: a copy of it is not theirs to send.
            return reject(DmRejection::Malformed);
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
        if let Some(key) = releasing {
            // Released in the same transaction that stores it.
            batch.remove(GTree::Held, key.to_vec());
            chat.held = chat.held.saturating_sub(1);
        }
        match message.body {
            MessageBody::Typing { active } => events.push(Event::GroupTyping {
                group,
                peer,
                active,
                expires_at: now + super::dm::TYPING_SHOWN_MS,
            }),
            // Like a 1:1 request: no more until the user opens or accepts it.
            ref body
                if body.is_shown()
                    && record.folder == Folder::Requests
                    && chat.unread >= crate::delivery::inbox::MAX_UNREAD_PER_REQUEST =>
            {
                return reject(DmRejection::RateLimited);
            }
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
                batch.put(GTree::ById, by_id_key(&group, &id), key.clone());
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
                batch.put(GTree::ById, by_id_key(&group, &id), Vec::new());
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
    pub(super) fn release_held(
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
        let mut envelopes: Vec<(u32, Vec<u8>, HeldEnvelope)> = held
            .into_iter()
            .map(|(key, h)| {
                let index = decode::<GroupCiphertext>(&h.envelope.sealed, MAX_GROUP_PAYLOAD_BYTES)
                    .map_or(u32::MAX, |c| c.index);
                (index, key, h)
            })
            .collect();
        envelopes.sort_by_key(|(index, _, _)| *index);
        for (_, key, h) in envelopes {
            let result =
                self.receive_group_envelope(*sender, h.id, &h.envelope, now, events, Some(&key))?;
            if result == DmResult::Rejected(DmRejection::RateLimited) {
                // Still held: the group is a request with too many unread messages.
                continue;
            }
            if result != DmResult::Stored {
                // It will never open: dropped (a crash before this leaves it held, to try
                // again with the next key of its sender).
                tracing::debug!(%sender, %group, ?result, "a held group message could not be opened");
                let mut batch = GroupBatch::default();
                let mut chat = self.store.group_chat(group)?;
                chat.held = chat.held.saturating_sub(1);
                batch.remove(GTree::Held, key);
                batch.chat(group, &chat);
                self.store.commit_group_batch(&batch)?;
            }
        }
        Ok(())
    }

    /// Tries again (every few seconds) the group updates that waited for members' keys.
    pub(super) fn retry_parked_group_updates(&mut self, now: u64) {
        if self.group_updates_parked && now.saturating_sub(self.last_parked_retry) >= 5_000 {
            self.last_parked_retry = now;
            self.group_updates_parked = false;
            self.deferred_group_updates = 1;
            self.send_deferred_group_updates();
        }
    }

    /// Erases chains past their grace and envelopes that waited too long for their key.
    pub(super) fn sweep_groups(&mut self) {
        let now = self.now();
        // Once an hour: the marks of applied updates older than any retry (the outbox gives
        // up after 30 days).
        if (now / super::groups::SWEEP_EVERY_MS).is_multiple_of(60) {
            if let Err(e) = self
                .store
                .prune_updates_seen(now.saturating_sub(31 * 24 * 3_600_000))
                .and_then(|()| self.store.prune_group_sent())
            {
                tracing::error!(error = %e, "pruning applied and delivered group updates");
            }
        }
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
