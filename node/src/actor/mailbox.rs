//! `/paperplane/mailbox/1`, all three sides: the sender leaving sealed envelopes with a
//! recipient's mailbox when the recipient is unreachable, the mailbox keeping them (with the
//! quotas, rates and challenges of [`crate::mailbox_rules`]), and the recipient fetching
//! them, storing them exactly as if they had come directly, and acknowledging them.

use std::collections::{HashMap, HashSet};

use libp2p::request_response::{self, Message, OutboundRequestId, ResponseChannel};
use paperplane_protocol::{
    decode, encode,
    mailbox::{
        DepositResult, FetchProof, MailItem, MailboxRefusal, MailboxRequest, MailboxResponse,
        FETCH_PROOF_LABEL, MAX_DEPOSIT_ENVELOPES, MAX_FETCH_ITEMS, MAX_MAILBOX_REQUEST_BYTES,
        MAX_MAILBOX_RESPONSE_BYTES,
    },
    DmRejection, DmResult, MessageId, PeerId, SealedEnvelope,
};

use super::{flush::AfterFlush, Actor};
use crate::{
    delivery::outbox::Input,
    event::Event,
    mailbox_rules::{Challenges, RateLimits},
    store::messages::OutboxKey,
};

/// How often the node asks its mailboxes for mail while connected to them (5 minutes);
/// it also asks whenever a connection to one comes up.
const FETCH_EVERY_MS: u64 = 5 * 60 * 1000;
/// How often a mailbox drops mail older than 30 days.
const EXPIRE_EVERY_MS: u64 = 10 * 60 * 1000;

/// A deposit's rows: key, message id, sealed envelope.
type DepositRows = Vec<(OutboxKey, MessageId, Vec<u8>)>;

/// A request this node sent on `/paperplane/mailbox/1`.
enum Call {
    /// Envelopes for `recipient`, left with one of their mailboxes; `others` are tried
    /// next if this one fails.
    Deposit {
        recipient: PeerId,
        rows: DepositRows,
        others: Vec<PeerId>,
    },
    /// A challenge asked of one of our mailboxes.
    Challenge { mailbox: PeerId },
    /// A batch of our mail asked for with the challenge `nonce`.
    Fetch { mailbox: PeerId, nonce: [u8; 32] },
}

/// The mailbox sides' state.
#[derive(Default)]
pub(super) struct Mailboxes {
    /// Host: what each peer may still deposit or fetch this minute.
    rates: RateLimits,
    /// Host: challenges handed out.
    challenges: Challenges,
    /// Requests in flight.
    calls: HashMap<OutboundRequestId, Call>,
    /// Recipient: mailboxes a fetch is running with.
    fetching: HashSet<PeerId>,
    /// Recipient: when each mailbox was last asked.
    last_fetch: HashMap<PeerId, u64>,
    /// Host: when old mail was last dropped.
    last_expiry: u64,
    /// Recipient: the mailboxes the user names (the store's list, read once at start and
    /// kept in step by `set_my_mailboxes`), consulted on every tick and connection.
    pub(super) mine: Vec<PeerId>,
}

impl Mailboxes {
    /// The state at start, with the mailboxes the user names.
    pub(super) fn naming(mine: Vec<PeerId>) -> Self {
        Self {
            mine,
            ..Self::default()
        }
    }
}

impl Actor {
    /// The mailboxes `peer` names in their profile.
    fn mailboxes_of(&self, peer: &PeerId) -> Vec<PeerId> {
        self.store
            .profile(peer)
            .ok()
            .flatten()
            .and_then(|p| p.body.messaging)
            .map(|k| k.mailboxes)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| *m != self.me)
            .collect()
    }

    /// The outbox could not reach `peer`: leave `rows` with their first mailbox that takes
    /// them. A recipient without mailboxes keeps waiting for a direct delivery.
    pub(super) fn deposit(&mut self, peer: PeerId, rows: DepositRows) {
        let mut mailboxes = self.mailboxes_of(&peer);
        if mailboxes.is_empty() {
            return;
        }
        // The connected ones first.
        mailboxes.sort_by_key(|m| !self.connected.contains(m));
        let first = mailboxes.remove(0);
        self.send_deposit(first, peer, rows, mailboxes);
    }

    fn send_deposit(
        &mut self,
        mailbox: PeerId,
        recipient: PeerId,
        rows: DepositRows,
        others: Vec<PeerId>,
    ) {
        let rows: DepositRows = rows.into_iter().take(MAX_DEPOSIT_ENVELOPES).collect();
        let envelopes = rows
            .iter()
            .map(|(_, id, payload)| SealedEnvelope {
                recipient,
                id: *id,
                payload: payload.clone(),
            })
            .collect();
        if !self.connected.contains(&mailbox) {
            self.find_peer(mailbox);
        }
        let request = self.swarm.behaviour_mut().mailbox.send_request(
            &mailbox,
            encode(&MailboxRequest::Deposit {
                recipient,
                envelopes,
            }),
        );
        self.mailboxes.calls.insert(
            request,
            Call::Deposit {
                recipient,
                rows,
                others,
            },
        );
    }

    /// Names the user's mailboxes: stored, remembered, and published in a new profile
    /// version.
    pub(super) fn set_my_mailboxes(&mut self, mailboxes: Vec<PeerId>) -> crate::error::Result<()> {
        self.store.set_my_mailboxes(&mailboxes)?;
        self.mailboxes.mine = mailboxes;
        self.publish_messaging_keys()
    }

    /// Asks every mailbox the user names for mail. Returns how many were asked.
    pub(super) fn fetch_mail(&mut self) -> usize {
        let mut asked = 0;
        for mailbox in self.mailboxes.mine.clone() {
            if self.fetch_from(mailbox) {
                asked += 1;
            }
        }
        asked
    }

    /// Starts a fetch from `mailbox` unless one is running.
    pub(super) fn fetch_from(&mut self, mailbox: PeerId) -> bool {
        if mailbox == self.me || !self.mailboxes.fetching.insert(mailbox) {
            return false;
        }
        if !self.connected.contains(&mailbox) {
            self.find_peer(mailbox);
        }
        self.mailboxes.last_fetch.insert(mailbox, self.now());
        let request = self
            .swarm
            .behaviour_mut()
            .mailbox
            .send_request(&mailbox, encode(&MailboxRequest::Challenge));
        self.mailboxes
            .calls
            .insert(request, Call::Challenge { mailbox });
        true
    }

    /// A connection to `peer` came up: if it keeps our mail, ask for it.
    pub(super) fn mailbox_connected(&mut self, peer: PeerId) {
        if self.mailboxes.mine.contains(&peer) {
            self.fetch_from(peer);
        }
    }

    /// Periodic work: fetch from connected mailboxes now and then; drop expired mail.
    pub(super) fn mailbox_tick(&mut self) {
        let now = self.now();
        if now.saturating_sub(self.mailboxes.last_expiry) >= EXPIRE_EVERY_MS {
            self.mailboxes.last_expiry = now;
            match self.store.expire_mail(now) {
                Ok(0) => {}
                Ok(n) => tracing::info!(dropped = n, "dropped mail older than 30 days"),
                Err(e) => tracing::warn!(error = %e, "dropping expired mail"),
            }
        }
        let due: Vec<PeerId> = self
            .mailboxes
            .mine
            .iter()
            .copied()
            .filter(|m| self.connected.contains(m))
            .filter(|m| {
                self.mailboxes
                    .last_fetch
                    .get(m)
                    .is_none_or(|t| now.saturating_sub(*t) >= FETCH_EVERY_MS)
            })
            .collect();
        for m in due {
            self.fetch_from(m);
        }
    }

    /// Whether the node keeps mail for `peer` or `peer` keeps ours (a connection worth
    /// keeping).
    pub(super) fn mailbox_relation(&self, peer: &PeerId) -> bool {
        self.mailboxes.mine.contains(peer) || self.store.keeps_mail_for(peer).unwrap_or(false)
    }

    pub(super) fn on_mailbox_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => self.on_mailbox_request(peer, &request, channel),
                Message::Response {
                    request_id,
                    response,
                } => self.on_mailbox_response(request_id, &response),
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                tracing::debug!(%error, "mailbox request failed");
                self.mailbox_call_failed(request_id);
            }
            _ => {}
        }
    }

    // ---- the mailbox's side ----

    fn on_mailbox_request(
        &mut self,
        peer: PeerId,
        bytes: &[u8],
        channel: ResponseChannel<Vec<u8>>,
    ) {
        let Ok(request) = decode::<MailboxRequest>(bytes, MAX_MAILBOX_REQUEST_BYTES) else {
            tracing::debug!(%peer, "malformed mailbox request");
            return; // dropping the channel fails the peer's request
        };
        let now = self.now();
        let refuse = |r| MailboxResponse::Refused(r);
        let answer = match request {
            MailboxRequest::Deposit {
                recipient,
                envelopes,
            } => {
                let n = envelopes.len();
                if n == 0 || n > MAX_DEPOSIT_ENVELOPES {
                    refuse(MailboxRefusal::Malformed)
                } else if !self.store.keeps_mail_for(&recipient).unwrap_or(false) {
                    refuse(MailboxRefusal::NotKeepingFor)
                } else if !self.mailboxes.rates.allow_deposit(peer, n as u32, now) {
                    refuse(MailboxRefusal::RateLimited)
                } else {
                    match self.store.deposit_mail(&recipient, &peer, &envelopes, now) {
                        Ok(results) => {
                            // Answered once what was stored is on disk.
                            self.after_flush(AfterFlush::RespondMailbox {
                                channel,
                                response: MailboxResponse::Deposited(results),
                            });
                            return;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "storing deposited mail");
                            refuse(MailboxRefusal::Unavailable)
                        }
                    }
                }
            }
            MailboxRequest::Challenge => {
                if self.mailboxes.rates.allow_fetch(peer, now) {
                    let nonce: [u8; 32] = rand::random();
                    self.mailboxes.challenges.issue(peer, nonce, now);
                    MailboxResponse::Challenge(nonce)
                } else {
                    refuse(MailboxRefusal::RateLimited)
                }
            }
            MailboxRequest::Fetch {
                proof,
                signature,
                ack_up_to,
            } => {
                if !self.mailboxes.rates.allow_fetch(peer, now) {
                    refuse(MailboxRefusal::RateLimited)
                } else if let Err(r) = self
                    .mailboxes
                    .challenges
                    .check(&self.me, &peer, &proof, &signature, now)
                {
                    refuse(r)
                } else {
                    self.serve_mail(&proof.recipient, ack_up_to)
                }
            }
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .mailbox
            .send_response(channel, encode(&answer));
    }

    /// Deletes what the recipient acknowledged and hands out the next batch.
    fn serve_mail(&mut self, recipient: &PeerId, ack_up_to: Option<u64>) -> MailboxResponse {
        if let Some(up_to) = ack_up_to {
            if let Err(e) = self.store.ack_mail(recipient, up_to) {
                tracing::error!(error = %e, "deleting acknowledged mail");
                return MailboxResponse::Refused(MailboxRefusal::Unavailable);
            }
        }
        match self.store.mail_after(recipient, ack_up_to, MAX_FETCH_ITEMS) {
            // A full batch fits a response by construction (`MAX_FETCH_ITEMS`).
            Ok((items, more)) => MailboxResponse::Mail { items, more },
            Err(e) => {
                tracing::error!(error = %e, "reading mail");
                MailboxResponse::Refused(MailboxRefusal::Unavailable)
            }
        }
    }

    // ---- the sender's and the recipient's sides ----

    fn on_mailbox_response(&mut self, request: OutboundRequestId, bytes: &[u8]) {
        let Some(call) = self.mailboxes.calls.remove(&request) else {
            return;
        };
        let response = decode::<MailboxResponse>(bytes, MAX_MAILBOX_RESPONSE_BYTES);
        match (call, response) {
            (
                Call::Deposit {
                    recipient,
                    rows,
                    others,
                },
                Ok(MailboxResponse::Deposited(results)),
            ) if results.len() == rows.len() => {
                let held: Vec<(OutboxKey, MessageId)> = rows
                    .iter()
                    .zip(&results)
                    .take_while(|(_, r)| !matches!(r, DepositResult::Refused(_)))
                    .map(|((key, id, _), _)| (key.clone(), *id))
                    .collect();
                if held.len() < rows.len() {
                    // The rest go to the next mailbox, in order.
                    let rest: DepositRows = rows.into_iter().skip(held.len()).collect();
                    if let Some((next, others)) = others.split_first() {
                        self.send_deposit(*next, recipient, rest, others.to_vec());
                    }
                }
                if !held.is_empty() {
                    self.drive_outbox(Input::Deposited {
                        peer: recipient,
                        rows: held,
                    });
                }
            }
            (
                Call::Deposit {
                    recipient,
                    rows,
                    others,
                },
                other,
            ) => {
                tracing::debug!(%recipient, answer = ?other.map(|_| ()), "a mailbox did not take the deposit");
                if let Some((next, others)) = others.split_first() {
                    self.send_deposit(*next, recipient, rows, others.to_vec());
                }
            }
            (Call::Challenge { mailbox }, Ok(MailboxResponse::Challenge(nonce))) => {
                self.send_fetch(mailbox, nonce, None);
            }
            (Call::Fetch { mailbox, nonce }, Ok(MailboxResponse::Mail { items, more })) => {
                self.receive_mail(mailbox, nonce, items, more);
            }
            (Call::Challenge { mailbox } | Call::Fetch { mailbox, .. }, other) => {
                tracing::info!(%mailbox, answer = ?other, "a mailbox refused to hand over mail");
                self.mailboxes.fetching.remove(&mailbox);
            }
        }
    }

    fn mailbox_call_failed(&mut self, request: OutboundRequestId) {
        match self.mailboxes.calls.remove(&request) {
            Some(Call::Deposit {
                recipient,
                rows,
                others,
            }) => {
                if let Some((next, others)) = others.split_first() {
                    self.send_deposit(*next, recipient, rows, others.to_vec());
                }
            }
            Some(Call::Challenge { mailbox } | Call::Fetch { mailbox, .. }) => {
                self.mailboxes.fetching.remove(&mailbox);
            }
            None => {}
        }
    }

    fn send_fetch(&mut self, mailbox: PeerId, nonce: [u8; 32], ack_up_to: Option<u64>) {
        let proof = FetchProof {
            mailbox,
            recipient: self.me,
            nonce,
        };
        let signature = self
            .identity
            .sign_labelled(FETCH_PROOF_LABEL, &proof.signing_bytes())
            .to_vec();
        let request = self.swarm.behaviour_mut().mailbox.send_request(
            &mailbox,
            encode(&MailboxRequest::Fetch {
                proof,
                signature,
                ack_up_to,
            }),
        );
        self.mailboxes
            .calls
            .insert(request, Call::Fetch { mailbox, nonce });
    }

    /// Stores a batch of our mail as if each envelope had come straight from its sender
    /// (the same checks, the same deduplication: a message that also came directly is
    /// stored once), then, once that is on disk, acknowledges it and asks for more.
    fn receive_mail(&mut self, mailbox: PeerId, nonce: [u8; 32], items: Vec<MailItem>, more: bool) {
        if items.is_empty() {
            self.mailboxes.fetching.remove(&mailbox);
            return;
        }
        let mut events = Vec::new();
        let mut ack_up_to = None;
        let mut stop = false;
        'runs: for run in items.chunk_by(|a, b| {
            a.depositor == b.depositor
                && super::dm::is_group(&a.envelope) == super::dm::is_group(&b.envelope)
        }) {
            let sender = run[0].depositor;
            let envelopes: Vec<SealedEnvelope> = run
                .iter()
                .map(|i| i.envelope.clone())
                .filter(|e| e.recipient == self.me)
                .collect();
            let results = if envelopes.len() != run.len() {
                // Mail for someone else: the mailbox mixed it up; drop the batch's rest.
                vec![DmResult::Rejected(DmRejection::NotForMe); run.len()]
            } else {
                let received = if super::dm::is_group(&envelopes[0]) {
                    self.receive_group(sender, &envelopes)
                } else {
                    self.receive(sender, &envelopes)
                };
                match received {
                    Ok((results, e)) => {
                        events.extend(e);
                        results
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "storing fetched mail");
                        vec![DmResult::Rejected(DmRejection::Unavailable); run.len()]
                    }
                }
            };
            self.send_deferred_group_updates();
            for (item, result) in run.iter().zip(results) {
                match result {
                    DmResult::Rejected(r) if r.is_temporary() => {
                        // Kept by the mailbox and fetched again later.
                        stop = true;
                        break 'runs;
                    }
                    DmResult::Rejected(r) => {
                        tracing::debug!(sender = %item.depositor, reason = %r, "dropping fetched mail");
                        ack_up_to = Some(item.seq);
                    }
                    DmResult::Stored | DmResult::Duplicate => ack_up_to = Some(item.seq),
                }
            }
        }
        self.after_flush(AfterFlush::MailStored {
            mailbox,
            nonce,
            ack_up_to,
            more: more && !stop,
            events,
        });
    }

    /// A fetched batch is on disk (`stored`): announce it, acknowledge it, ask for more.
    pub(super) fn mail_stored(
        &mut self,
        stored: bool,
        mailbox: PeerId,
        nonce: [u8; 32],
        ack_up_to: Option<u64>,
        more: bool,
        events: Vec<Event>,
    ) {
        if !stored {
            self.mailboxes.fetching.remove(&mailbox);
            return;
        }
        for e in events {
            self.emit(e);
        }
        if ack_up_to.is_none() && !more {
            self.mailboxes.fetching.remove(&mailbox);
            return;
        }
        // The acknowledgement rides on the next fetch; an empty answer ends the session.
        self.send_fetch(mailbox, nonce, ack_up_to);
    }

    /// Rows a mailbox holds: their messages show "stored by a mailbox".
    pub(super) fn mark_stored(&mut self, peer: PeerId, rows: Vec<(OutboxKey, MessageId)>) {
        let keys: Vec<OutboxKey> = rows.iter().map(|(k, _)| k.clone()).collect();
        match self.store.mark_stored_by_mailbox(&keys) {
            Ok(marked) => {
                for (_, id) in rows.into_iter().filter(|(k, _)| marked.contains(k)) {
                    self.emit(Event::MessageStored { id, peer });
                }
            }
            Err(e) => tracing::warn!(error = %e, "marking messages stored by a mailbox"),
        }
    }
}
