//! `/paperplane/dm/1`, both sides: the actor's hands for the delivery core.
//!
//! Sending: encrypt on the stored session, write session + message + outbox row in one
//! transaction, flush, answer the caller, then tell the outbox state machine
//! ([`crate::delivery::outbox`]) that the rows are durable. Its actions are carried out here:
//! read rows from the store, send them as one request, settle rows (one transaction per
//! answer) and announce the outcomes. Every envelope is the stored bytes, never re-encrypted.
//!
//! Receiving: the sender's standing is read from the store and judged by
//! [`crate::delivery::inbox`] (blocked, folder, allowance); each envelope is prechecked,
//! decrypted on a copy of the session, and the request's messages are stored with the
//! advanced session in one transaction; the response goes out only after the flush that
//! makes them durable (group commit, see `flush`).

use std::collections::VecDeque;

use libp2p::request_response::{self, Message, OutboundRequestId, ResponseChannel};
use paperplane_crypto::{Conversation, Envelope};
use paperplane_protocol::{
    decode,
    dm::{
        MAX_DM_REQUEST_BYTES, MAX_DM_RESPONSE_BYTES, MAX_ENVELOPES_PER_REQUEST, MAX_SEALED_BYTES,
    },
    encode, DirectMessage, DmRejection, DmRequest, DmResponse, DmResult, MessageBody, MessageId,
    PeerId, SealedEnvelope,
};
use tokio::sync::oneshot;

use super::{command::Queued, flush::AfterFlush, Actor};
use crate::{
    chat_rules::{self, Effect},
    delivery::{
        inbox::{self, Admission, Folder, Standing},
        outbox::{Action, Input, Row, Settlement},
    },
    error::{Result, SendError},
    event::Event,
    store::chat_state::{Applied, ChatItem, ControlOutcome, ControlRow},
    store::messages::{DeliveryState, OutboxKey, Received, StoredMessage},
    views::MessageView,
};

/// A caller's request to send a message.
pub(super) struct Outgoing {
    pub(super) peer: PeerId,
    pub(super) body: MessageBody,
    pub(super) reply: oneshot::Sender<Result<Queued, SendError>>,
}

/// What queueing a group of messages to one peer gave: each message's view (or why it was
/// refused), and the last outbox row written.
type QueuedRows = (Vec<Result<MessageView, SendError>>, Option<OutboxKey>);

impl Actor {
    /// Encrypts and durably queues text messages (one transaction per recipient), and
    /// answers each caller after the flush that makes its message durable.
    pub(super) fn send_messages(&mut self, sends: Vec<Outgoing>) {
        // Group by recipient, keeping each caller's order.
        let mut by_peer: Vec<(PeerId, Vec<Outgoing>)> = Vec::new();
        for send in sends {
            match by_peer.iter_mut().find(|(p, _)| *p == send.peer) {
                Some((_, group)) => group.push(send),
                None => by_peer.push((send.peer, vec![send])),
            }
        }
        for (peer, group) in by_peer {
            match self.queue_messages(peer, &group) {
                Ok((views, last_row)) => {
                    if let Some(up_to) = last_row {
                        self.after_flush(AfterFlush::Durable { peer, up_to });
                    }
                    let connected = self.connected.contains(&peer);
                    for (send, view) in group.into_iter().zip(views) {
                        match view {
                            Ok(view) => self.after_flush(AfterFlush::Queued {
                                reply: send.reply,
                                queued: Box::new(Queued { view, connected }),
                            }),
                            Err(e) => {
                                let _ = send.reply.send(Err(e));
                            }
                        }
                    }
                }
                Err(e) => {
                    for send in group {
                        let _ = send.reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// Encrypts `sends` to `peer` in order and stores them in one transaction, returning
    /// each message's view and the last outbox row written. The outer error fails them all;
    /// an inner one fails one message (e.g. too long).
    fn queue_messages(
        &mut self,
        peer: PeerId,
        sends: &[Outgoing],
    ) -> Result<QueuedRows, SendError> {
        if peer == self.me {
            return Err(SendError::ToSelf);
        }
        if self.store.is_blocked(&peer)? {
            return Err(SendError::Blocked);
        }
        let now = self.now();
        let mut last_sent_at = self.store.chat(&peer)?.map_or(0, |c| c.last_sent_at);
        let mut conv = self
            .store
            .conversation(&peer)?
            .unwrap_or_else(|| Conversation::new(peer));
        let mut rng = rand::rng();
        if !conv.can_send() {
            conv = self.fresh_session(conv, now)?;
        }
        let mut rows = Vec::new();
        let mut views = Vec::new();
        let mut sent = Vec::new();
        for send in sends {
            let sent_at = self.next_stamp(last_sent_at, now);
            let item = match self.outgoing_item(peer, &send.body, sent_at, now) {
                Ok(item) => item,
                Err(e) => {
                    views.push(Err(e));
                    continue;
                }
            };
            let message = DirectMessage {
                id: item.id(),
                sent_at,
                body: item.body().clone(),
            };
            let envelope = conv.encrypt_in_place(&mut rng, &message.to_plaintext())?;
            last_sent_at = sent_at;
            let view = self.view_of_outgoing(&item, now);
            if matches!(item, ChatItem::Shown(_)) {
                sent.push(Event::MessageSent {
                    message: Box::new(view.clone()),
                });
            }
            views.push(Ok(view));
            rows.push((item, envelope.to_bytes()));
        }
        if rows.is_empty() {
            return Ok((views, None));
        }
        let (last_row, outcomes) = self.store.queue_outgoing(&self.me, &peer, &conv, &rows)?;
        let changes = outcomes
            .into_iter()
            .flatten()
            .filter_map(|outcome| match outcome {
                ControlOutcome::Applied(applied) => change_event(peer, &applied),
                _ => None,
            });
        sent.extend(changes);
        if !sent.is_empty() {
            self.after_flush(AfterFlush::Emit(sent));
        }
        Ok((views, last_row))
    }

    /// The chat item for `body` sent to `peer` at `sent_at`: a message, or a change whose
    /// target must exist in the chat and which the rules must allow (checked here, for a
    /// clear error; the recipient checks again).
    fn outgoing_item(
        &self,
        peer: PeerId,
        body: &MessageBody,
        sent_at: u64,
        now: u64,
    ) -> Result<ChatItem, SendError> {
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at,
            body: body.clone(),
        };
        message.validate()?;
        if matches!(body, MessageBody::Typing { .. }) {
            return Err(SendError::Ephemeral);
        }
        let Some(target) = body.target() else {
            return Ok(ChatItem::Shown(StoredMessage {
                id: message.id,
                peer,
                outgoing: true,
                sent_at,
                stored_at: now,
                body: message.body,
                state: DeliveryState::Pending,
            }));
        };
        let (stored, marks) = self
            .store
            .message_with_marks(&peer, target)?
            .ok_or(SendError::NoSuchMessage(*target))?;
        chat_rules::check(&stored, &marks, &self.me, &self.me, body, sent_at)
            .map_err(SendError::Refused)?;
        Ok(ChatItem::Control(ControlRow {
            id: message.id,
            peer,
            outgoing: true,
            sent_at,
            body: message.body,
        }))
    }

    /// What the sender is shown for an item just queued: the message, or for a change the
    /// message it changes (as it will be once the change is applied).
    fn view_of_outgoing(&self, item: &ChatItem, now: u64) -> MessageView {
        match item {
            ChatItem::Shown(m) => MessageView::new(m, &self.me),
            ChatItem::Control(c) => MessageView::new(
                &StoredMessage {
                    id: c.id,
                    peer: c.peer,
                    outgoing: true,
                    sent_at: c.sent_at,
                    stored_at: now,
                    body: c.body.clone(),
                    state: DeliveryState::Pending,
                },
                &self.me,
            ),
        }
    }

    /// `conv` with a new session started (and made the one we send on) from its peer's
    /// current profile keys; older sessions stay for what the peer still sends on them.
    pub(super) fn fresh_session(
        &self,
        conv: Conversation,
        now: u64,
    ) -> Result<Conversation, SendError> {
        let peer = *conv.remote();
        let profile = self
            .store
            .profile(&peer)?
            .ok_or(SendError::UnknownPeer(peer))?;
        let keys =
            profile.body.messaging.as_ref().ok_or_else(|| {
                SendError::NoMessagingKeys(profile.body.handle.as_str().to_owned())
            })?;
        Ok(conv.start(&mut rand::rng(), &self.messaging, keys, now)?)
    }

    /// Feeds the outbox state machine and carries out what it asks, until it asks nothing.
    pub(super) fn drive_outbox(&mut self, input: Input<OutboxKey>) {
        let now = self.now();
        let mut actions: VecDeque<_> = self.outbox.handle(input, now).into();
        while let Some(action) = actions.pop_front() {
            match action {
                Action::Read {
                    peer,
                    after,
                    up_to,
                    limit,
                } => {
                    let input = match self.store.outbox_for(&peer, after.as_ref(), &up_to, limit) {
                        Ok(rows) => Input::Rows {
                            peer,
                            rows: rows
                                .into_iter()
                                .map(|(key, entry)| Row {
                                    key,
                                    message: entry.message,
                                    queued_at: entry.queued_at,
                                    payload: entry.payload,
                                })
                                .collect(),
                        },
                        Err(e) => {
                            tracing::error!(error = %e, "reading the outbox");
                            Input::Unreadable(peer)
                        }
                    };
                    actions.extend(self.outbox.handle(input, now));
                }
                Action::Send {
                    batch,
                    peer,
                    envelopes,
                } => {
                    let envelopes = envelopes
                        .into_iter()
                        .map(|(id, payload)| SealedEnvelope {
                            recipient: peer,
                            id,
                            payload,
                        })
                        .collect();
                    if !self.connected.contains(&peer) {
                        // Its newest addresses may be only in the DHT (a relay it moved to).
                        self.find_peer(peer);
                        // Dialled here from a fresh source port (see `connect`); the request
                        // waits for this dial instead of starting its own.
                        let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                            .allocate_new_port()
                            .build();
                        let _ = self.swarm.dial(opts);
                    }
                    let request = self
                        .swarm
                        .behaviour_mut()
                        .dm
                        .send_request(&peer, encode(&DmRequest { envelopes }));
                    self.dm_requests.insert(request, batch);
                }
                Action::Settle { peer, rows } => self.settle(peer, rows),
                Action::Deposit { peer, rows } => self.deposit(peer, rows),
                Action::MarkStored { peer, rows } => self.mark_stored(peer, rows),
                Action::Reseal { peer } => match self.reseal(peer) {
                    Ok(up_to) => self.after_flush(AfterFlush::Resealed { peer, up_to }),
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "cannot start a fresh session");
                        actions.extend(self.outbox.handle(Input::ResealFailed(peer), now));
                    }
                },
            }
        }
    }

    /// `peer` cannot decrypt what we send (they lost their session state, restored a backup,
    /// or ours was rolled back): starts a fresh session from their current profile and seals
    /// every unsettled message to them again on it (same ids, same timestamps, so nothing
    /// shows twice), in one transaction. Returns the last row.
    fn reseal(&mut self, peer: PeerId) -> Result<Option<OutboxKey>, SendError> {
        let conv = self
            .store
            .conversation(&peer)?
            .unwrap_or_else(|| Conversation::new(peer));
        let mut conv = self.fresh_session(conv, self.now())?;
        let mut rng = rand::rng();
        let mut rows = Vec::new();
        for (key, _) in self.store.outbox_all(&peer)? {
            let Some((id, sent_at, body)) = self.store.sealed_item_at(&key)? else {
                continue;
            };
            let message = DirectMessage { id, sent_at, body };
            let envelope = conv.encrypt_in_place(&mut rng, &message.to_plaintext())?;
            rows.push((key, envelope.to_bytes()));
        }
        tracing::info!(%peer, messages = rows.len(), "sealing again on a fresh session");
        Ok(self.store.reseal_outgoing(&peer, &conv, &rows)?)
    }

    /// Settles outbox rows (in one transaction) and announces the outcomes.
    fn settle(&mut self, peer: PeerId, rows: Vec<(OutboxKey, MessageId, Settlement)>) {
        let states: Vec<_> = rows
            .iter()
            .map(|(key, _, how)| {
                let state = match how {
                    Settlement::Delivered => DeliveryState::Delivered,
                    Settlement::Failed(why) => DeliveryState::Failed(why.clone()),
                };
                (key.clone(), state)
            })
            .collect();
        if let Err(e) = self.store.settle(&states) {
            tracing::error!(error = %e, "settling outbox rows");
            return;
        }
        for (_, id, how) in rows {
            self.emit(match how {
                Settlement::Delivered => Event::MessageDelivered { id, peer },
                Settlement::Failed(reason) => Event::MessageFailed { id, peer, reason },
            });
        }
    }

    pub(super) fn on_dm_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => self.on_dm_request(peer, &request, channel),
                Message::Response {
                    request_id,
                    response,
                } => self.on_dm_response(request_id, &response),
            },
            request_response::Event::OutboundFailure {
                request_id,
                error,
                peer,
                ..
            } => {
                if let Some(batch) = self.dm_requests.remove(&request_id) {
                    tracing::debug!(%peer, %error, "message delivery attempt failed");
                    self.drive_outbox(Input::Failed { batch });
                }
            }
            _ => {}
        }
    }

    fn on_dm_response(&mut self, request_id: OutboundRequestId, bytes: &[u8]) {
        let Some(batch) = self.dm_requests.remove(&request_id) else {
            return;
        };
        let input = match decode::<DmResponse>(bytes, MAX_DM_RESPONSE_BYTES) {
            Ok(r) => Input::Answered {
                batch,
                outcomes: r.results.iter().map(inbox::outcome_of).collect(),
            },
            Err(e) => {
                tracing::debug!(error = %e, "malformed message acknowledgement");
                Input::Failed { batch }
            }
        };
        self.drive_outbox(input);
    }

    fn on_dm_request(&mut self, peer: PeerId, bytes: &[u8], channel: ResponseChannel<Vec<u8>>) {
        let Ok(req) = decode::<DmRequest>(bytes, MAX_DM_REQUEST_BYTES) else {
            tracing::debug!(%peer, "malformed message request");
            return; // dropping the channel fails the peer's request
        };
        if req.envelopes.len() > MAX_ENVELOPES_PER_REQUEST {
            return;
        }
        // Runs of 1:1 envelopes and of group envelopes, each judged and stored in order.
        let mut results = Vec::with_capacity(req.envelopes.len());
        let mut events = Vec::new();
        for run in req.envelopes.chunk_by(|a, b| is_group(a) == is_group(b)) {
            let received = if is_group(&run[0]) {
                self.receive_group(peer, run)
            } else {
                self.receive(peer, run)
            };
            match received {
                Ok((r, e)) => {
                    results.extend(r);
                    events.extend(e);
                }
                Err(e) => {
                    tracing::error!(error = %e, "storing received messages");
                    let unavailable = DmResult::Rejected(DmRejection::Unavailable);
                    results.extend(vec![unavailable; run.len()]);
                }
            }
            self.send_deferred_group_updates();
        }
        self.after_flush(AfterFlush::Respond {
            channel,
            response: DmResponse { results },
            events,
        });
    }

    /// Keeps at most [`inbox::MAX_REQUEST_CHATS`] request chats, dropping the longest-quiet
    /// ones (their messages and sessions go with them). Their sessions are not retired into
    /// the replay cache: under a flood of fresh identities that would rewrite the whole
    /// cache for every new request (the sender is authenticated by the transport today, so a
    /// replay could only come from them; a declined or blocked request is retired).
    fn drop_excess_requests(&mut self, keep: &PeerId) -> Result<()> {
        let requests = self
            .store
            .chats(Folder::Requests)?
            .into_iter()
            .map(|c| (c.peer, c.last_activity))
            .collect();
        for peer in inbox::requests_to_drop(requests, keep) {
            tracing::info!(%peer, "dropping the longest-quiet message request");
            self.store.delete_chat(&peer, None)?;
        }
        Ok(())
    }

    /// Judges, decrypts and stores the envelopes of one request from `peer`.
    pub(super) fn receive(
        &mut self,
        peer: PeerId,
        envelopes: &[SealedEnvelope],
    ) -> Result<(Vec<DmResult>, Vec<Event>)> {
        let n = envelopes.len();
        let now = self.now();
        let blocked = self.store.is_blocked(&peer)?;
        let chat = if blocked {
            None
        } else {
            self.store.chat(&peer)?
        };
        let standing = Standing {
            blocked,
            followed: self.followees.contains(&peer),
            chat: chat.as_ref().map(|c| (c.folder, c.request_window())),
            unread: chat.as_ref().map_or(0, |c| c.unread),
        };
        let (folder, mut allowance) = match self.inbox.admit(&peer, &standing, now) {
            Admission::Refused(r) => return Ok((vec![DmResult::Rejected(r); n], Vec::new())),
            Admission::Admitted { folder, allowance } => (folder, allowance),
        };
        let mut conv = self
            .store
            .conversation(&peer)?
            .unwrap_or_else(|| Conversation::new(peer));
        let mut results: Vec<Option<DmResult>> = vec![None; n];
        let mut accepted: Vec<(usize, ChatItem)> = Vec::new();
        // Whether any envelope opened (the session advanced and must be stored), and the
        // newest typing state among them.
        let (mut decrypted, mut typing) = (false, None);
        // Group updates (rosters and keys) among them, applied before the session is stored.
        let mut group_updates = Vec::new();
        // Ids accepted and payloads seen so far in this request.
        let mut seen = inbox::Seen::default();
        let mut banned = false;
        for (i, env) in envelopes.iter().enumerate() {
            if banned {
                results[i] = Some(DmResult::Rejected(DmRejection::RateLimited));
                continue;
            }
            if let Some(verdict) = inbox::precheck(env, &self.me, &mut seen) {
                results[i] = Some(verdict);
                continue;
            }
            let reject = |r| Some(DmResult::Rejected(r));
            let Ok(envelope) = Envelope::from_bytes(&env.payload) else {
                results[i] = reject(DmRejection::Malformed);
                continue;
            };
            // A retry (its acknowledgement was lost) is answered `Duplicate`. One carrying a
            // handshake is looked up before decrypting, since it could open a session
            // again; any other fails to decrypt (its key is used up), and only then is the
            // store asked, which keeps that lookup off the hot path.
            let stored = |store: &crate::store::Store| store.has_message_with(&peer, &env.id);
            if envelope.handshake.is_some() && stored(&self.store)? {
                results[i] = Some(DmResult::Duplicate);
                continue;
            }
            if allowance == 0 {
                results[i] = Some(if stored(&self.store)? {
                    DmResult::Duplicate
                } else {
                    DmResult::Rejected(DmRejection::RateLimited)
                });
                continue;
            }
            // A handshake that would open a new session costs a signature check and several
            // X25519 operations: charged before it is done. (An initiator repeats its
            // handshake on every message until the first reply; those open no session.)
            let opens_session = envelope.handshake.is_some()
                && !conv
                    .sessions()
                    .iter()
                    .any(|s| s.id() == envelope.session_id);
            if opens_session && !self.inbox.charge_handshake(peer, now) {
                results[i] = Some(DmResult::Rejected(DmRejection::RateLimited));
                continue;
            }
            // A peer whose envelopes keep failing is not opened again this minute.
            if !self.inbox.may_open(&peer, now) {
                results[i] = Some(if stored(&self.store)? {
                    DmResult::Duplicate
                } else {
                    DmResult::Rejected(DmRejection::RateLimited)
                });
                continue;
            }
            // A stranger may not make this node keep many skipped message keys (each is
            // stored with the session): their conversation is checked after opening, on a
            // copy kept to go back to.
            let before = (folder == Folder::Requests).then(|| conv.clone());
            // Advances `conv` only if the envelope opens. One that opens but holds no valid
            // message has used up its key: refused as malformed, it is not stored.
            let opened = conv.decrypt_in_place_at(
                &self.messaging,
                &self.prekeys,
                &self.replays,
                &envelope,
                now,
            );
            let plaintext = match opened {
                Ok(plaintext) => plaintext,
                Err(_) if stored(&self.store)? => {
                    results[i] = Some(DmResult::Duplicate);
                    continue;
                }
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "undecryptable envelope");
                    results[i] = reject(DmRejection::Undecryptable);
                    banned = self.inbox.undecryptable(peer, now);
                    continue;
                }
            };
            if let Some(before) = before {
                let skipped: usize = conv
                    .sessions()
                    .iter()
                    .map(|s| s.stored_skipped_keys())
                    .sum();
                if skipped > inbox::MAX_SKIPPED_FOR_STRANGERS {
                    tracing::debug!(%peer, skipped, "a stranger's message skips too far");
                    conv = before;
                    results[i] = reject(DmRejection::Malformed);
                    continue;
                }
            }
            let message = match DirectMessage::from_plaintext(&plaintext, MAX_SEALED_BYTES) {
                Ok(m) if m.id == env.id && (is_unsupported(&m.body) || m.validate().is_ok()) => m,
                _ => {
                    results[i] = reject(DmRejection::Malformed);
                    continue;
                }
            };
            decrypted = true;
            allowance = allowance.saturating_sub(1);
            seen.ids.insert(message.id);
            let sent_at = inbox::clamp_sent_at(message.sent_at, now);
            match message.body {
                // Shown at once, never stored: acknowledged as stored.
                MessageBody::Typing { active } => {
                    results[i] = Some(DmResult::Stored);
                    typing = Some(active);
                }
                // Not a message of this chat: the group's state changes.
                MessageBody::GroupUpdate(update) => {
                    results[i] = Some(DmResult::Stored);
                    group_updates.push((message.id, update));
                }
                body if body.is_shown() => accepted.push((
                    i,
                    ChatItem::Shown(StoredMessage {
                        id: message.id,
                        peer,
                        outgoing: false,
                        sent_at,
                        stored_at: now,
                        body,
                        state: DeliveryState::Received,
                    }),
                )),
                body => accepted.push((
                    i,
                    ChatItem::Control(ControlRow {
                        id: message.id,
                        peer,
                        outgoing: false,
                        sent_at,
                        body,
                    }),
                )),
            }
        }
        let mut events = Vec::new();
        if decrypted {
            // Written before the session: should only these reach the disk, the sender's
            // retry decrypts again on the older session and is recognised as applied.
            for (id, update) in &group_updates {
                events.extend(self.apply_group_update(peer, *id, update, now)?);
            }
            let (indices, items): (Vec<usize>, Vec<_>) = accepted.into_iter().unzip();
            let outcomes = self
                .store
                .accept_incoming(&self.me, &peer, &conv, &items, folder)?;
            let mut new_requests = 0;
            // A new request chat may be opened by a change alone (one naming a message that
            // never came): it counts towards the bound like any other.
            let mut new_request_chat =
                chat.is_none() && folder == Folder::Requests && !items.is_empty();
            for ((i, item), outcome) in indices.into_iter().zip(&items).zip(outcomes) {
                results[i] = Some(match outcome {
                    Received::Duplicate => DmResult::Duplicate,
                    Received::New {
                        folder,
                        first,
                        released,
                    } => {
                        if folder == Folder::Requests {
                            new_requests += 1;
                            new_request_chat |= first;
                        }
                        if let ChatItem::Shown(message) = item {
                            self.on_new_message(message);
                            self.chat_photo_received(message);
                            // Only changes that waited for it can have touched it yet.
                            let view = if released.is_empty() {
                                MessageView::new(message, &self.me)
                            } else {
                                self.view_of(message)
                            };
                            events.push(Event::Message {
                                message: Box::new(view),
                                request: folder == Folder::Requests,
                            });
                        }
                        events.extend(released.iter().filter_map(|a| change_event(peer, a)));
                        DmResult::Stored
                    }
                    Received::Change(outcome) => {
                        match outcome {
                            ControlOutcome::Applied(applied) => {
                                events.extend(change_event(peer, &applied));
                            }
                            ControlOutcome::Held | ControlOutcome::Recorded => {}
                            ControlOutcome::Ignored(why) => {
                                tracing::debug!(%peer, %why, "a change to a message was ignored");
                            }
                        }
                        DmResult::Stored
                    }
                });
            }
            self.answer_while_away(peer, &items, &mut events);
            self.inbox.accepted_requests(new_requests, now);
            if new_request_chat {
                self.drop_excess_requests(&peer)?;
            }
            if let Some(active) = typing {
                events.push(Event::Typing {
                    peer,
                    active,
                    expires_at: now + TYPING_SHOWN_MS,
                });
            }
        }
        if banned {
            tracing::info!(%peer, "refusing a peer that keeps sending undecryptable messages");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        let results = results
            .into_iter()
            .map(|r| r.unwrap_or(DmResult::Rejected(DmRejection::Unavailable)))
            .collect();
        Ok((results, events))
    }
}

/// How long a typing indicator shows unless renewed (the typist's node renews it every
/// few seconds while they type).
pub(crate) const TYPING_SHOWN_MS: u64 = 6_000;

pub(super) fn is_group(envelope: &SealedEnvelope) -> bool {
    paperplane_protocol::GroupEnvelope::is_group_payload(&envelope.payload)
}

fn is_unsupported(body: &MessageBody) -> bool {
    matches!(body, MessageBody::Unsupported { .. })
}

/// The event announcing a change applied in the chat with `peer` (none for a change that
/// did nothing).
pub(super) fn change_event(peer: PeerId, applied: &Applied) -> Option<Event> {
    let (message, by, at) = (applied.target, applied.by, applied.at);
    Some(match &applied.effect {
        Effect::Reacted(emoji) => Event::Reaction {
            peer,
            message,
            by,
            emoji: emoji.clone(),
        },
        Effect::Unsent => Event::MessageUnsent { peer, message, by },
        Effect::Edited(text) => Event::MessageEdited {
            peer,
            message,
            text: text.clone(),
            edited_at: at,
        },
        Effect::Seen { .. } => Event::MessagesSeen {
            peer,
            up_to: message,
            seen_at: at,
        },
        Effect::Nothing(_) => return None,
    })
}
