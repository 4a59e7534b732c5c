//! Group commit: work that must wait until the store is durable (acknowledging received
//! messages, confirming queued ones) waits here; one flush covers everything that arrived
//! before it started, and the next flush starts as soon as it ends.

use libp2p::request_response::ResponseChannel;
use paperplane_protocol::{
    encode,
    mailbox::{DepositResult, MailboxRefusal, MailboxResponse},
    DmRejection, DmRequest, DmResponse, DmResult, PeerId,
};
use tokio::sync::{mpsc, oneshot};

use super::{command::Queued, Actor};
use crate::store::messages::OutboxKey;
use crate::{delivery::outbox::Input, error::SendError, event::Event};

/// Most pieces of work flushed on the actor itself; more go to the blocking pool.
const INLINE_FLUSH_MAX: usize = 4;

/// Something to do once the store is flushed.
pub(super) enum AfterFlush {
    /// Acknowledge received envelopes and announce the new messages.
    Respond {
        channel: ResponseChannel<Vec<u8>>,
        response: DmResponse,
        events: Vec<Event>,
    },
    /// Confirm a queued message to its sender.
    Queued {
        reply: oneshot::Sender<Result<Queued, SendError>>,
        queued: Box<Queued>,
    },
    /// Announce changes written with this flush.
    Emit(Vec<Event>),
    /// Send a typing indicator once its session is durable (never retried).
    SendEphemeral { peer: PeerId, request: DmRequest },
    /// Let the outbox send a peer's rows up to this one.
    Durable { peer: PeerId, up_to: OutboxKey },
    /// Answer a mailbox deposit once the envelopes kept are on disk.
    RespondMailbox {
        channel: ResponseChannel<Vec<u8>>,
        response: MailboxResponse,
    },
    /// A batch of mail fetched from `mailbox` is stored: acknowledge it, ask for more.
    MailStored {
        mailbox: PeerId,
        nonce: [u8; 32],
        ack_up_to: Option<u64>,
        more: bool,
        events: Vec<Event>,
    },
    /// Let the outbox send a peer's rows sealed again on a fresh session.
    Resealed {
        peer: PeerId,
        up_to: Option<OutboxKey>,
    },
}

/// The flush pipeline's state.
pub(super) struct Flusher {
    waiting: Vec<AfterFlush>,
    flushing: Vec<AfterFlush>,
    in_flight: bool,
    done_tx: mpsc::Sender<std::result::Result<(), String>>,
}

impl Flusher {
    /// A flusher reporting completions on `done_tx`.
    pub(super) fn new(done_tx: mpsc::Sender<std::result::Result<(), String>>) -> Self {
        Self {
            waiting: Vec::new(),
            flushing: Vec::new(),
            in_flight: false,
            done_tx,
        }
    }
}

impl Actor {
    /// Whether work waits for a flush.
    pub(super) fn flusher_busy(&self) -> bool {
        self.flusher.in_flight
    }

    /// Runs `work` after the next flush. The flush itself starts when the actor has
    /// finished handling the current event ([`Actor::kick_flush`]), so everything one event
    /// produced shares it.
    pub(super) fn after_flush(&mut self, work: AfterFlush) {
        self.flusher.waiting.push(work);
    }

    /// Starts a flush if work waits and none is running. A little work (a lone message, as
    /// in a conversation at human pace) is flushed right here: waiting for the disk on the
    /// actor costs the same as waiting elsewhere, and saves two thread hand-offs on the
    /// round trip. More work is flushed on the blocking pool while the actor goes on.
    pub(super) fn kick_flush(&mut self) {
        let f = &mut self.flusher;
        if f.in_flight || f.waiting.is_empty() {
            return;
        }
        f.flushing = std::mem::take(&mut f.waiting);
        f.in_flight = true;
        if f.flushing.len() <= INLINE_FLUSH_MAX {
            let result = self.store.flush_blocking().map_err(|e| e.to_string());
            self.on_flushed(result);
            return;
        }
        let store = self.store.clone();
        let done = f.done_tx.clone();
        // Straight on the blocking pool, reporting from there: one hand-off fewer than an
        // async task awaiting the flush.
        tokio::task::spawn_blocking(move || {
            let result = store.flush_blocking().map_err(|e| e.to_string());
            let _ = done.blocking_send(result);
        });
    }

    /// A flush ended: finish the work that waited for it.
    pub(super) fn on_flushed(&mut self, result: std::result::Result<(), String>) {
        self.flusher.in_flight = false;
        let work = std::mem::take(&mut self.flusher.flushing);
        if let Err(e) = &result {
            tracing::error!(error = %e, "flushing the store failed");
        }
        // What the outbox learns, after the replies.
        let mut outbox_inputs = Vec::new();
        for w in work {
            match w {
                AfterFlush::Respond {
                    channel,
                    mut response,
                    events,
                } => {
                    if result.is_err() {
                        for r in &mut response.results {
                            if *r == DmResult::Stored {
                                *r = DmResult::Rejected(DmRejection::Unavailable);
                            }
                        }
                    } else {
                        for e in events {
                            self.emit(e);
                        }
                    }
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .dm
                        .send_response(channel, encode(&response));
                }
                AfterFlush::RespondMailbox {
                    channel,
                    mut response,
                } => {
                    if let (Err(_), MailboxResponse::Deposited(results)) = (&result, &mut response)
                    {
                        for r in results.iter_mut() {
                            if *r == DepositResult::Stored {
                                *r = DepositResult::Refused(MailboxRefusal::Unavailable);
                            }
                        }
                    }
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .mailbox
                        .send_response(channel, encode(&response));
                }
                AfterFlush::MailStored {
                    mailbox,
                    nonce,
                    ack_up_to,
                    more,
                    events,
                } => self.mail_stored(result.is_ok(), mailbox, nonce, ack_up_to, more, events),
                AfterFlush::Emit(events) => {
                    if result.is_ok() {
                        for e in events {
                            self.emit(e);
                        }
                    }
                }
                AfterFlush::SendEphemeral { peer, request } => {
                    // A session that did not reach the disk must not have been used.
                    if result.is_ok() && self.connected.contains(&peer) {
                        self.swarm
                            .behaviour_mut()
                            .dm
                            .send_request(&peer, encode(&request));
                    }
                }
                AfterFlush::Durable { peer, up_to } => {
                    // After a failed flush the rows stay unsendable until a later flush
                    // covers them (the next send to this peer, or a restart).
                    if result.is_ok() {
                        outbox_inputs.push(Input::Durable { peer, up_to });
                    }
                }
                AfterFlush::Resealed { peer, up_to } => {
                    outbox_inputs.push(if result.is_ok() {
                        Input::Resealed { peer, up_to }
                    } else {
                        Input::ResealFailed(peer)
                    });
                }
                AfterFlush::Queued { reply, queued } => match &result {
                    Ok(()) => {
                        let _ = reply.send(Ok(*queued));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(SendError::NotDurable(e.clone())));
                    }
                },
            }
        }
        for input in outbox_inputs {
            self.drive_outbox(input);
        }
    }
}
