//! `/paperplane/dm/1`, both sides, and the outbox.
//!
//! Sending: encrypt on the stored session, write session + message + outbox row in one
//! transaction, flush, answer the caller, then dispatch. Dispatch sends the peer's outbox in
//! order, in batches, up to [`MAX_IN_FLIGHT`] requests at once per peer; every envelope is the
//! stored bytes, never re-encrypted. Acknowledged rows settle as delivered, refused ones as
//! failed (one transaction per response); failures back off and resend everything not yet
//! settled, and every new connection to the peer retries at once.
//!
//! Receiving: each envelope of a request is checked (blocked, addressee, size, already stored
//! under its id, rate), decrypted on a copy of the session, and the request's messages are
//! stored with the advanced session in one transaction; the response goes out only after the
//! flush that makes them durable (group commit, see `flush`).

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

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
use tokio::{sync::oneshot, time::Instant};

use super::{flush::AfterFlush, Actor};
use crate::{
    clock::now_ms,
    error::{Error, Result},
    event::Event,
    store::messages::{DeliveryState, Folder, Received, StoredMessage},
    views::MessageView,
};

/// A message not acknowledged for this long is marked failed.
const GIVE_UP_AFTER_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// Most messages per minute a stranger may send into requests.
const REQUESTS_PER_MINUTE: u32 = 30;
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Envelopes per request we send.
const BATCH: usize = 128;
/// Requests in flight per peer. `BATCH * MAX_IN_FLIGHT` stays below the ratchet's skip bound
/// (1,000), so reordering between requests never exceeds it.
const MAX_IN_FLIGHT: usize = 4;

/// The same failure for every caller of a group (library errors are not `Clone`).
fn same_error(e: &Error) -> Error {
    match e {
        Error::UnknownPeer(p) => Error::UnknownPeer(p.clone()),
        Error::Invalid(v) => Error::Invalid(v.clone()),
        Error::BadRequest(m) => Error::BadRequest(m.clone()),
        Error::Store(s) => Error::Store(crate::store::StoreError::Db(s.to_string())),
        other => Error::Network(other.to_string()),
    }
}

/// A caller's request to send a text message.
pub(super) struct OutgoingText {
    pub(super) peer: PeerId,
    pub(super) text: String,
    pub(super) reply: oneshot::Sender<Result<MessageView>>,
}

/// One request in flight.
struct InFlight {
    peer: PeerId,
    /// Outbox keys and message ids, in the request's order.
    batch: Vec<(Vec<u8>, MessageId)>,
}

/// Delivery state of one peer.
#[derive(Default)]
struct PeerOutbox {
    /// Requests in flight.
    in_flight: usize,
    /// The last outbox row sent; the next batch starts after it.
    cursor: Option<Vec<u8>>,
    /// Failed attempts in a row, and when to try again.
    attempts: u32,
    next_at: Option<Instant>,
}

/// The actor's delivery state.
#[derive(Default)]
pub(super) struct Outbox {
    peers: HashMap<PeerId, PeerOutbox>,
    requests: HashMap<OutboundRequestId, InFlight>,
}

impl Outbox {
    /// Starts tracking `peer`, which has rows in the outbox.
    pub(super) fn add(&mut self, peer: PeerId) {
        self.peers.entry(peer).or_default();
    }
}

impl Actor {
    /// Encrypts and durably queues text messages (one transaction per recipient), and
    /// answers each caller after the flush that makes its message durable.
    pub(super) fn send_messages(&mut self, sends: Vec<OutgoingText>) {
        // Group by recipient, keeping each caller's order.
        let mut by_peer: Vec<(PeerId, Vec<OutgoingText>)> = Vec::new();
        for send in sends {
            match by_peer.iter_mut().find(|(p, _)| *p == send.peer) {
                Some((_, group)) => group.push(send),
                None => by_peer.push((send.peer, vec![send])),
            }
        }
        for (peer, group) in by_peer {
            match self.queue_messages(peer, &group) {
                Ok(views) => {
                    for (send, view) in group.into_iter().zip(views) {
                        match view {
                            Ok(view) => self.after_flush(AfterFlush::Queued {
                                reply: send.reply,
                                view: Box::new(view),
                                peer,
                            }),
                            Err(e) => {
                                let _ = send.reply.send(Err(e));
                            }
                        }
                    }
                }
                Err(e) => {
                    for send in group {
                        let _ = send.reply.send(Err(same_error(&e)));
                    }
                }
            }
        }
    }

    /// Encrypts `sends` to `peer` in order and stores them in one transaction. The outer
    /// error fails them all; an inner one fails one message (e.g. too long).
    fn queue_messages(
        &mut self,
        peer: PeerId,
        sends: &[OutgoingText],
    ) -> Result<Vec<Result<MessageView>>> {
        if peer == self.me {
            return Err(Error::BadRequest("you cannot message yourself".into()));
        }
        if self.store.is_blocked(&peer)? {
            return Err(Error::BadRequest(
                "you blocked this person; unblock them first".into(),
            ));
        }
        let now = now_ms();
        let mut last_sent_at = self.store.chat(&peer)?.map_or(0, |c| c.last_sent_at);
        let mut conv = self
            .store
            .conversation(&peer)?
            .unwrap_or_else(|| Conversation::new(peer));
        let mut rng = rand::rng();
        if !conv.can_send() {
            let profile = self.store.profile(&peer)?.ok_or_else(|| {
                Error::UnknownPeer(format!(
                    "{peer} (no profile known, so no keys to encrypt to)"
                ))
            })?;
            let keys = profile.body.messaging.as_ref().ok_or_else(|| {
                Error::BadRequest(format!(
                    "@{} has not published messaging keys yet",
                    profile.body.handle.as_str()
                ))
            })?;
            conv = conv
                .start(&mut rng, &self.messaging, keys, now)
                .map_err(|e| {
                    Error::BadRequest(format!("cannot start an encrypted session: {e}"))
                })?;
        }
        let mut rows = Vec::new();
        let mut views = Vec::new();
        for send in sends {
            let message = DirectMessage {
                id: MessageId(rand::random()),
                sent_at: now.max(last_sent_at + 1),
                body: MessageBody::Text(send.text.clone()),
            };
            if let Err(e) = message.validate() {
                views.push(Err(e.into()));
                continue;
            }
            let envelope = conv
                .encrypt_in_place(&mut rng, &encode(&message))
                .map_err(|e| Error::BadRequest(format!("cannot encrypt: {e}")))?;
            last_sent_at = message.sent_at;
            let stored = StoredMessage {
                id: message.id,
                peer,
                outgoing: true,
                sent_at: message.sent_at,
                stored_at: now,
                body: message.body,
                state: DeliveryState::Pending,
            };
            views.push(Ok(MessageView::new(&stored, &self.me)));
            rows.push((stored, envelope.to_bytes()));
        }
        if !rows.is_empty() {
            self.store.queue_outgoing(&peer, &conv, &rows)?;
            self.outbox.add(peer);
        }
        Ok(views)
    }

    /// Sends the next batches of `peer`'s outbox, up to [`MAX_IN_FLIGHT`] requests.
    pub(super) fn dispatch(&mut self, peer: PeerId) {
        loop {
            let Some(state) = self.outbox.peers.get(&peer) else {
                return;
            };
            if state.in_flight >= MAX_IN_FLIGHT {
                return;
            }
            let entries = match self.store.outbox_for(&peer, state.cursor.as_deref(), BATCH) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "reading the outbox");
                    return;
                }
            };
            let Some((last, _)) = entries.last() else {
                if state.in_flight == 0 && state.cursor.is_none() {
                    self.outbox.peers.remove(&peer);
                }
                return;
            };
            let last = last.clone();
            let now = now_ms();
            let mut batch = Vec::new();
            let mut envelopes = Vec::new();
            let mut expired = Vec::new();
            for (key, entry) in entries {
                if now.saturating_sub(entry.queued_at) > GIVE_UP_AFTER_MS {
                    expired.push((key, entry.message));
                    continue;
                }
                batch.push((key, entry.message));
                envelopes.push(SealedEnvelope {
                    recipient: peer,
                    id: entry.message,
                    payload: entry.payload,
                });
            }
            if !expired.is_empty() {
                let reason = "not delivered within 30 days".to_owned();
                self.settle(
                    peer,
                    expired
                        .into_iter()
                        .map(|(k, id)| (k, id, Err(reason.clone()))),
                );
            }
            if let Some(state) = self.outbox.peers.get_mut(&peer) {
                state.cursor = Some(last);
                if batch.is_empty() {
                    continue;
                }
                state.in_flight += 1;
            }
            let id = self
                .swarm
                .behaviour_mut()
                .dm
                .send_request(&peer, encode(&DmRequest { envelopes }));
            self.outbox.requests.insert(id, InFlight { peer, batch });
        }
    }

    /// Retries every idle peer whose backoff has passed.
    pub(super) fn retry_due(&mut self) {
        let now = Instant::now();
        let due: Vec<PeerId> = self
            .outbox
            .peers
            .iter()
            .filter(|(_, s)| s.in_flight == 0 && s.next_at.is_none_or(|t| t <= now))
            .map(|(p, _)| *p)
            .collect();
        for peer in due {
            self.dispatch(peer);
        }
    }

    /// A new connection to `peer`: retry at once.
    pub(super) fn retry_now(&mut self, peer: PeerId) {
        if let Some(s) = self.outbox.peers.get_mut(&peer) {
            s.next_at = None;
            s.attempts = 0;
            self.dispatch(peer);
        }
    }

    /// Something failed: resend everything unsettled after a growing pause.
    fn back_off(&mut self, peer: PeerId) {
        let s = self.outbox.peers.entry(peer).or_default();
        s.cursor = None;
        s.attempts = s.attempts.saturating_add(1);
        let wait = Duration::from_millis(500)
            .saturating_mul(1 << s.attempts.min(10))
            .min(MAX_BACKOFF);
        s.next_at = Some(Instant::now() + wait);
    }

    /// Settles outbox rows (in one transaction) and announces the outcomes.
    fn settle(
        &mut self,
        peer: PeerId,
        rows: impl Iterator<Item = (Vec<u8>, MessageId, std::result::Result<(), String>)>,
    ) {
        let rows: Vec<_> = rows.collect();
        let states: Vec<_> = rows
            .iter()
            .map(|(k, _, outcome)| {
                let state = match outcome {
                    Ok(()) => DeliveryState::Delivered,
                    Err(why) => DeliveryState::Failed(why.clone()),
                };
                (k.clone(), state)
            })
            .collect();
        if let Err(e) = self.store.settle(&states) {
            tracing::error!(error = %e, "settling outbox rows");
            return;
        }
        for (_, id, outcome) in rows {
            self.emit(match outcome {
                Ok(()) => Event::MessageDelivered { id, peer },
                Err(reason) => Event::MessageFailed { id, peer, reason },
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
                request_id, error, ..
            } => {
                if let Some(flight) = self.outbox.requests.remove(&request_id) {
                    tracing::debug!(peer = %flight.peer, %error, "message delivery attempt failed");
                    self.finish_request(flight.peer);
                    self.back_off(flight.peer);
                }
            }
            _ => {}
        }
    }

    fn finish_request(&mut self, peer: PeerId) {
        if let Some(s) = self.outbox.peers.get_mut(&peer) {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
    }

    fn on_dm_response(&mut self, request_id: OutboundRequestId, bytes: &[u8]) {
        let Some(InFlight { peer, batch }) = self.outbox.requests.remove(&request_id) else {
            return;
        };
        self.finish_request(peer);
        let results = match decode::<DmResponse>(bytes, MAX_DM_RESPONSE_BYTES) {
            Ok(r) if r.results.len() == batch.len() => r.results,
            _ => {
                tracing::debug!(%peer, "malformed message acknowledgement");
                return self.back_off(peer);
            }
        };
        let mut temporary = false;
        let mut settled = Vec::new();
        for ((key, id), result) in batch.into_iter().zip(results) {
            match result {
                DmResult::Stored | DmResult::Duplicate => settled.push((key, id, Ok(()))),
                DmResult::Rejected(r) if r.is_temporary() => temporary = true,
                DmResult::Rejected(r) => settled.push((key, id, Err(r.to_string()))),
            }
        }
        self.settle(peer, settled.into_iter());
        if temporary {
            self.back_off(peer);
        } else {
            if let Some(s) = self.outbox.peers.get_mut(&peer) {
                s.attempts = 0;
                s.next_at = None;
            }
            self.dispatch(peer);
        }
    }

    fn on_dm_request(&mut self, peer: PeerId, bytes: &[u8], channel: ResponseChannel<Vec<u8>>) {
        let Ok(req) = decode::<DmRequest>(bytes, MAX_DM_REQUEST_BYTES) else {
            tracing::debug!(%peer, "malformed message request");
            return; // dropping the channel fails the peer's request
        };
        if req.envelopes.len() > MAX_ENVELOPES_PER_REQUEST {
            return;
        }
        let (results, events) = match self.receive(peer, &req.envelopes) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "storing received messages");
                let unavailable = DmResult::Rejected(DmRejection::Unavailable);
                (vec![unavailable; req.envelopes.len()], Vec::new())
            }
        };
        self.after_flush(AfterFlush::Respond {
            channel,
            response: DmResponse { results },
            events,
        });
    }

    /// Judges, decrypts and stores the envelopes of one request from `peer`.
    fn receive(
        &mut self,
        peer: PeerId,
        envelopes: &[SealedEnvelope],
    ) -> Result<(Vec<DmResult>, Vec<Event>)> {
        let n = envelopes.len();
        if self.store.is_blocked(&peer)? {
            return Ok((
                vec![DmResult::Rejected(DmRejection::Blocked); n],
                Vec::new(),
            ));
        }
        let now = now_ms();
        let chat = self.store.chat(&peer)?;
        let folder = match &chat {
            Some(c) => c.folder,
            None if self.store.follows(&self.me, &peer)? => Folder::Inbox,
            None => Folder::Requests,
        };
        // Messages a stranger may still send in the current minute.
        let mut allowance = match &chat {
            Some(c)
                if c.folder == Folder::Requests && now.saturating_sub(c.window_start) <= 60_000 =>
            {
                REQUESTS_PER_MINUTE.saturating_sub(c.window_count)
            }
            _ if folder == Folder::Requests => REQUESTS_PER_MINUTE,
            _ => u32::MAX,
        };
        let mut conv = self
            .store
            .conversation(&peer)?
            .unwrap_or_else(|| Conversation::new(peer));
        let mut results: Vec<Option<DmResult>> = vec![None; n];
        let mut accepted: Vec<(usize, StoredMessage)> = Vec::new();
        // Ids accepted so far in this request: the same id again is a duplicate.
        let mut ids = HashSet::new();
        for (i, env) in envelopes.iter().enumerate() {
            let reject = |r| Some(DmResult::Rejected(r));
            if env.recipient != self.me {
                results[i] = reject(DmRejection::NotForMe);
                continue;
            }
            if env.payload.len() > MAX_SEALED_BYTES {
                results[i] = reject(DmRejection::TooLarge);
                continue;
            }
            if ids.contains(&env.id) {
                results[i] = Some(DmResult::Duplicate);
                continue;
            }
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
            // Advances `conv` only if the envelope opens. One that opens but holds no valid
            // message has used up its key: refused as malformed, it is not stored.
            let plaintext = match conv.decrypt_in_place(&self.messaging, &self.prekeys, &envelope) {
                Ok(plaintext) => plaintext,
                Err(_) if stored(&self.store)? => {
                    results[i] = Some(DmResult::Duplicate);
                    continue;
                }
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "undecryptable envelope");
                    results[i] = reject(DmRejection::Undecryptable);
                    continue;
                }
            };
            let message = match decode::<DirectMessage>(&plaintext, MAX_SEALED_BYTES) {
                Ok(m) if m.id == env.id && m.validate().is_ok() => m,
                _ => {
                    results[i] = reject(DmRejection::Malformed);
                    continue;
                }
            };
            allowance = allowance.saturating_sub(1);
            ids.insert(message.id);
            accepted.push((
                i,
                StoredMessage {
                    id: message.id,
                    peer,
                    outgoing: false,
                    sent_at: message.sent_at,
                    stored_at: now,
                    body: message.body,
                    state: DeliveryState::Received,
                },
            ));
        }
        let mut events = Vec::new();
        if !accepted.is_empty() {
            let (indices, items): (Vec<usize>, Vec<_>) = accepted.into_iter().unzip();
            let outcomes = self.store.accept_incoming(&peer, &conv, &items, folder)?;
            for ((i, message), outcome) in indices.into_iter().zip(&items).zip(outcomes) {
                results[i] = Some(match outcome {
                    Received::Duplicate => DmResult::Duplicate,
                    Received::New { folder, .. } => {
                        events.push(Event::Message {
                            message: MessageView::new(message, &self.me),
                            request: folder == Folder::Requests,
                        });
                        DmResult::Stored
                    }
                });
            }
        }
        let results = results
            .into_iter()
            .map(|r| r.unwrap_or(DmResult::Rejected(DmRejection::Unavailable)))
            .collect();
        Ok((results, events))
    }
}
