//! `/paperplane/dm/1`, both sides, and the outbox.
//!
//! Sending: encrypt on the stored session, write session + message + outbox row in one
//! transaction, flush, answer the caller, then dispatch. Dispatch sends the peer's outbox in
//! order, in batches, one request in flight per peer; every envelope is the stored bytes,
//! never re-encrypted. Acknowledged rows settle as delivered; refused ones as failed;
//! failures back off and retry, and every new connection to the peer retries at once.
//!
//! Receiving: each envelope is checked (blocked, addressee, size, seen before), decrypted on
//! a copy of the session, and stored with the advanced session in one transaction; the
//! response goes out only after the flush that makes them durable (group commit).

use std::{collections::HashMap, time::Duration};

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
use sha2::{Digest, Sha256};
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

/// The request in flight to one peer.
pub(super) struct InFlight {
    id: OutboundRequestId,
    /// Outbox keys and message ids, in the request's order.
    batch: Vec<(Vec<u8>, MessageId)>,
}

/// Retry schedule of one peer.
pub(super) struct Retry {
    attempts: u32,
    next_at: Instant,
}

/// Per-peer delivery state of the actor.
#[derive(Default)]
pub(super) struct Outbox {
    pub(super) peers: std::collections::HashSet<PeerId>,
    pub(super) in_flight: HashMap<PeerId, InFlight>,
    pub(super) requests: HashMap<OutboundRequestId, PeerId>,
    pub(super) retry: HashMap<PeerId, Retry>,
}

impl Actor {
    /// Encrypts and durably queues a text message to `peer`; answers after the flush.
    pub(super) fn send_message(
        &mut self,
        peer: PeerId,
        text: String,
        reply: oneshot::Sender<Result<MessageView>>,
    ) {
        match self.queue_message(peer, MessageBody::Text(text)) {
            Ok(view) => self.after_flush(AfterFlush::Queued {
                reply,
                view: Box::new(view),
                peer,
            }),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    fn queue_message(&mut self, peer: PeerId, body: MessageBody) -> Result<MessageView> {
        if peer == self.me {
            return Err(Error::BadRequest("you cannot message yourself".into()));
        }
        if self.store.is_blocked(&peer)? {
            return Err(Error::BadRequest(
                "you blocked this person; unblock them first".into(),
            ));
        }
        let chat = self.store.chat(&peer)?;
        let now = now_ms();
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at: now.max(chat.as_ref().map_or(0, |c| c.last_sent_at + 1)),
            body,
        };
        message.validate()?;
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
        let (conv, envelope) = conv
            .encrypt(&mut rng, &encode(&message))
            .map_err(|e| Error::BadRequest(format!("cannot encrypt: {e}")))?;
        let stored = StoredMessage {
            id: message.id,
            peer,
            outgoing: true,
            sent_at: message.sent_at,
            stored_at: now,
            body: message.body,
            state: DeliveryState::Pending,
        };
        self.store
            .queue_outgoing(&conv, &stored, envelope.to_bytes(), Folder::Inbox)?;
        self.outbox.peers.insert(peer);
        Ok(MessageView::new(&stored, &self.me))
    }

    /// Sends the next batch of `peer`'s outbox, unless one is in flight.
    pub(super) fn dispatch(&mut self, peer: PeerId) {
        if self.outbox.in_flight.contains_key(&peer) {
            return;
        }
        let entries = match self.store.outbox_for(&peer, MAX_ENVELOPES_PER_REQUEST) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "reading the outbox");
                return;
            }
        };
        if entries.is_empty() {
            self.outbox.peers.remove(&peer);
            self.outbox.retry.remove(&peer);
            return;
        }
        let now = now_ms();
        let mut batch = Vec::new();
        let mut envelopes = Vec::new();
        for (key, entry) in entries {
            if now.saturating_sub(entry.queued_at) > GIVE_UP_AFTER_MS {
                self.settle(
                    &key,
                    entry.message,
                    peer,
                    Err("not delivered within 30 days".into()),
                );
                continue;
            }
            batch.push((key, entry.message));
            envelopes.push(SealedEnvelope {
                recipient: peer,
                payload: entry.payload,
            });
        }
        if batch.is_empty() {
            return self.dispatch(peer);
        }
        let id = self
            .swarm
            .behaviour_mut()
            .dm
            .send_request(&peer, encode(&DmRequest { envelopes }));
        self.outbox.requests.insert(id, peer);
        self.outbox.in_flight.insert(peer, InFlight { id, batch });
    }

    /// Retries every peer whose backoff has passed.
    pub(super) fn retry_due(&mut self) {
        let now = Instant::now();
        let due: Vec<PeerId> = self
            .outbox
            .peers
            .iter()
            .filter(|p| !self.outbox.in_flight.contains_key(p))
            .filter(|p| self.outbox.retry.get(p).is_none_or(|r| r.next_at <= now))
            .copied()
            .collect();
        for peer in due {
            self.dispatch(peer);
        }
    }

    /// A new connection to `peer`: retry at once.
    pub(super) fn retry_now(&mut self, peer: PeerId) {
        self.outbox.retry.remove(&peer);
        if self.outbox.peers.contains(&peer) {
            self.dispatch(peer);
        }
    }

    fn back_off(&mut self, peer: PeerId) {
        let r = self.outbox.retry.entry(peer).or_insert(Retry {
            attempts: 0,
            next_at: Instant::now(),
        });
        r.attempts = r.attempts.saturating_add(1);
        let wait = Duration::from_millis(500)
            .saturating_mul(1 << r.attempts.min(10))
            .min(MAX_BACKOFF);
        r.next_at = Instant::now() + wait;
    }

    fn settle(
        &mut self,
        key: &[u8],
        id: MessageId,
        peer: PeerId,
        outcome: std::result::Result<(), String>,
    ) {
        let state = match &outcome {
            Ok(()) => DeliveryState::Delivered,
            Err(why) => DeliveryState::Failed(why.clone()),
        };
        if let Err(e) = self.store.settle(key, &id, state) {
            tracing::error!(error = %e, "settling an outbox row");
            return;
        }
        self.emit(match outcome {
            Ok(()) => Event::MessageDelivered { id, peer },
            Err(reason) => Event::MessageFailed { id, peer, reason },
        });
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
                if let Some(peer) = self.outbox.requests.remove(&request_id) {
                    tracing::debug!(%peer, %error, "message delivery attempt failed");
                    self.outbox.in_flight.remove(&peer);
                    self.back_off(peer);
                }
            }
            _ => {}
        }
    }

    fn on_dm_response(&mut self, request_id: OutboundRequestId, bytes: &[u8]) {
        let Some(peer) = self.outbox.requests.remove(&request_id) else {
            return;
        };
        let Some(flight) = self.outbox.in_flight.remove(&peer) else {
            return;
        };
        debug_assert_eq!(flight.id, request_id);
        let results = match decode::<DmResponse>(bytes, MAX_DM_RESPONSE_BYTES) {
            Ok(r) if r.results.len() == flight.batch.len() => r.results,
            _ => {
                tracing::debug!(%peer, "malformed message acknowledgement");
                self.back_off(peer);
                return;
            }
        };
        let mut temporary = false;
        for ((key, id), result) in flight.batch.into_iter().zip(results) {
            match result {
                DmResult::Stored | DmResult::Duplicate => self.settle(&key, id, peer, Ok(())),
                DmResult::Rejected(r) if r.is_temporary() => temporary = true,
                DmResult::Rejected(r) => self.settle(&key, id, peer, Err(r.to_string())),
            }
        }
        if temporary {
            self.back_off(peer);
        } else {
            self.outbox.retry.remove(&peer);
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
        let mut results = Vec::with_capacity(req.envelopes.len());
        let mut events = Vec::new();
        for env in &req.envelopes {
            let result = match self.receive(peer, env) {
                Ok((result, event)) => {
                    events.extend(event);
                    result
                }
                Err(e) => {
                    tracing::error!(error = %e, "storing a received message");
                    DmResult::Rejected(DmRejection::Unavailable)
                }
            };
            results.push(result);
        }
        self.after_flush(AfterFlush::Respond {
            channel,
            response: DmResponse { results },
            events,
        });
    }

    /// Judges, decrypts and stores one envelope from `peer`.
    fn receive(&mut self, peer: PeerId, env: &SealedEnvelope) -> Result<(DmResult, Option<Event>)> {
        let reject = |r| Ok((DmResult::Rejected(r), None));
        if self.store.is_blocked(&peer)? {
            return reject(DmRejection::Blocked);
        }
        if env.recipient != self.me {
            return reject(DmRejection::NotForMe);
        }
        if env.payload.len() > MAX_SEALED_BYTES {
            return reject(DmRejection::TooLarge);
        }
        let digest: [u8; 32] = Sha256::digest(&env.payload).into();
        if self.store.envelope_seen(&digest)? {
            return Ok((DmResult::Duplicate, None));
        }
        let chat = self.store.chat(&peer)?;
        let followed = self.store.follows(&self.me, &peer)?;
        let folder = match &chat {
            Some(c) => c.folder,
            None if followed => Folder::Inbox,
            None => Folder::Requests,
        };
        let now = now_ms();
        if let Some(c) = chat.as_ref().filter(|c| c.folder == Folder::Requests) {
            if now.saturating_sub(c.window_start) <= 60_000 && c.window_count >= REQUESTS_PER_MINUTE
            {
                return reject(DmRejection::RateLimited);
            }
        }
        let Ok(envelope) = Envelope::from_bytes(&env.payload) else {
            return reject(DmRejection::Malformed);
        };
        let conv = self
            .store
            .conversation(&peer)?
            .unwrap_or_else(|| Conversation::new(peer));
        let (conv, plaintext) = match conv.decrypt(&self.messaging, &self.prekeys, &envelope) {
            Ok(ok) => ok,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "undecryptable envelope");
                return reject(DmRejection::Undecryptable);
            }
        };
        let Ok(message) = decode::<DirectMessage>(&plaintext, MAX_SEALED_BYTES) else {
            return reject(DmRejection::Malformed);
        };
        if message.validate().is_err() {
            return reject(DmRejection::Malformed);
        }
        let stored = StoredMessage {
            id: message.id,
            peer,
            outgoing: false,
            sent_at: message.sent_at,
            stored_at: now,
            body: message.body,
            state: DeliveryState::Received,
        };
        Ok(
            match self
                .store
                .accept_incoming(&conv, &digest, &stored, folder)?
            {
                Received::Duplicate => (DmResult::Duplicate, None),
                Received::New { folder, .. } => (
                    DmResult::Stored,
                    Some(Event::Message {
                        message: MessageView::new(&stored, &self.me),
                        request: folder == Folder::Requests,
                    }),
                ),
            },
        )
    }
}
