//! The sending side's state machine: which outbox rows to send next, in which batches, how
//! many at once, when to try again, and when to give up.
//!
//! [`Outbox::handle`] takes an [`Input`] and the time and returns [`Action`]s for the actor
//! to carry out against the store and the swarm. It reads nothing itself: to learn what a
//! recipient's outbox holds it asks with [`Action::Read`], and the actor answers with
//! [`Input::Rows`]. Only rows known to be on disk are ever asked for: a recipient's rows up
//! to the key named by the last [`Input::Durable`], which the actor feeds only after a flush
//! that succeeded, so no ciphertext leaves before the ratchet state that made it is durable.
//! Rows are the unit of delivery, one per (recipient, message): a message
//! to several recipients (a group) is several rows that share a [`MessageId`] and settle
//! independently. A second route to a recipient (a mailbox) becomes a second kind of
//! [`Action::Send`] with its own backoff; the rows and their settling stay as they are.

use std::collections::HashMap;

use paperplane_protocol::{MessageId, PeerId};
use rand::{rngs::StdRng, RngExt, SeedableRng};

/// A message not acknowledged this long after it was queued is given up (30 days).
pub(crate) const GIVE_UP_AFTER_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// The first pause after a failed attempt; it doubles with every failure in a row.
pub(crate) const FIRST_BACKOFF_MS: u64 = 500;
/// The longest pause between attempts (5 minutes).
pub(crate) const MAX_BACKOFF_MS: u64 = 5 * 60 * 1000;
/// Envelopes per request.
pub(crate) const BATCH: usize = 128;
/// Requests in flight per recipient. `BATCH * MAX_IN_FLIGHT` stays below the ratchet's skip
/// bound (1,000), so reordering between requests never exceeds it.
pub(crate) const MAX_IN_FLIGHT: usize = 4;
/// The reason a message that was given up carries.
pub(crate) const GAVE_UP: &str = "not delivered within 30 days";
/// Fresh sessions started in a row for a recipient who cannot decrypt what we send, before
/// the messages are marked failed.
pub(crate) const MAX_RESEALS: u32 = 3;
/// The reason a message carries when even fresh sessions did not help.
pub(crate) const UNREADABLE: &str = "the recipient could not decrypt it";

/// One outbox row as the store holds it: `K` is the store's key for it (rows sort by key in
/// the order they were queued).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row<K> {
    /// The store's key.
    pub(crate) key: K,
    /// The message inside.
    pub(crate) message: MessageId,
    /// When it was queued (Unix ms).
    pub(crate) queued_at: u64,
    /// The sealed envelope, sent unchanged on every attempt.
    pub(crate) payload: Vec<u8>,
}

/// Names one request in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct BatchId(u64);

/// What the recipient answered for one envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Stored (or already stored): delivered.
    Delivered,
    /// Refused for good, with the reason shown to the user.
    Refused(String),
    /// Refused for now (rate limit, storage trouble): send again after a pause.
    TryLater,
    /// The recipient could not decrypt it: our session with them is broken (they lost their
    /// state, restored a backup, or ours was rolled back). Everything unsettled is sealed
    /// again on a fresh session.
    Undecryptable,
}

/// How a row ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Settlement {
    /// The recipient has it.
    Delivered,
    /// It will never be delivered; the reason says why.
    Failed(String),
}

/// Something that happened, fed to [`Outbox::handle`].
#[derive(Debug)]
pub(crate) enum Input<K> {
    /// `peer`'s rows up to and including `up_to` are on disk and may be sent.
    Durable {
        /// Whose rows.
        peer: PeerId,
        /// The last durable row.
        up_to: K,
    },
    /// A connection to `peer` came up: try again at once.
    Connected(PeerId),
    /// Time passed: retry whoever's pause is over.
    Tick,
    /// The answer to [`Action::Read`]: up to the asked number of `peer`'s rows after the
    /// asked key, in key order.
    Rows {
        /// Whose rows.
        peer: PeerId,
        /// The rows.
        rows: Vec<Row<K>>,
    },
    /// The store could not answer [`Action::Read`] for `peer`: try again after a pause.
    Unreadable(PeerId),
    /// The recipient answered a request, one outcome per envelope in the request's order.
    Answered {
        /// Which request.
        batch: BatchId,
        /// The outcomes.
        outcomes: Vec<Outcome>,
    },
    /// A request failed (no connection, timeout, unusable answer).
    Failed {
        /// Which request.
        batch: BatchId,
    },
    /// The answer to [`Action::Reseal`]: `peer`'s rows are sealed again on a fresh session
    /// and on disk up to `up_to` (`None`: there were none left).
    Resealed {
        /// Whose rows.
        peer: PeerId,
        /// The last row, now durable.
        up_to: Option<K>,
    },
    /// [`Action::Reseal`] could not be done (no keys for the peer, the store failed).
    ResealFailed(PeerId),
    /// A mailbox of `peer` holds these rows now (the answer to [`Action::Deposit`]; rows it
    /// refused are left out).
    Deposited {
        /// Whose rows.
        peer: PeerId,
        /// The rows stored (or already held) by the mailbox, in key order.
        rows: Vec<(K, MessageId)>,
    },
}

/// Something for the actor to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action<K> {
    /// Read up to `limit` of `peer`'s rows after `after` (from the oldest if `None`) up to
    /// and including `up_to`, and answer with [`Input::Rows`].
    Read {
        /// Whose rows.
        peer: PeerId,
        /// Start after this key.
        after: Option<K>,
        /// Stop at this key (the last durable row).
        up_to: K,
        /// At most this many.
        limit: usize,
    },
    /// Send these envelopes to `peer` in one request and answer with [`Input::Answered`] or
    /// [`Input::Failed`] naming `batch`.
    Send {
        /// The request's name.
        batch: BatchId,
        /// To whom.
        peer: PeerId,
        /// Message ids and sealed envelopes, in order.
        envelopes: Vec<(MessageId, Vec<u8>)>,
    },
    /// Start a fresh session with `peer`, seal every unsettled row for `peer` again on it
    /// (same messages, same ids), make that durable, and answer with [`Input::Resealed`] or
    /// [`Input::ResealFailed`].
    Reseal {
        /// Whose rows.
        peer: PeerId,
    },
    /// The recipient could not be reached: leave these envelopes with one of `peer`'s
    /// mailboxes (if they name any) and answer with [`Input::Deposited`] (or nothing, if
    /// none took them: the next failed attempt asks again).
    Deposit {
        /// To whom.
        peer: PeerId,
        /// Each row's key and message, and the sealed envelope, in order.
        rows: Vec<(K, MessageId, Vec<u8>)>,
    },
    /// These rows are stored by a mailbox of `peer`: show it (they stay unsettled until the
    /// recipient acknowledges them).
    MarkStored {
        /// Whose rows.
        peer: PeerId,
        /// Each row's key and message.
        rows: Vec<(K, MessageId)>,
    },
    /// Settle these rows (one transaction) and announce the outcomes.
    Settle {
        /// Whose rows.
        peer: PeerId,
        /// Each row's key, message and how it ended.
        rows: Vec<(K, MessageId, Settlement)>,
    },
}

/// The sending state of one recipient.
#[derive(Debug)]
struct Recipient<K> {
    /// The last row known to be on disk; nothing after it is sent.
    durable: K,
    /// Requests in flight.
    in_flight: usize,
    /// A [`Action::Read`] is outstanding.
    reading: bool,
    /// The last row sent; the next batch starts after it.
    cursor: Option<K>,
    /// Failed attempts in a row.
    attempts: u32,
    /// No new attempt before this time (Unix ms), after a failure.
    next_at: Option<u64>,
    /// An [`Action::Reseal`] is outstanding: nothing is sent meanwhile.
    resealing: bool,
    /// Fresh sessions started in a row without a delivery.
    reseals: u32,
    /// How many times the rows were sealed again; a request remembers the generation it
    /// was sent in, so an old session's late refusals do not reseal twice.
    generation: u32,
    /// The last row a mailbox holds: rows after it are deposited when a direct attempt
    /// fails. (Kept in memory only: after a restart a mailbox answers a second deposit of a
    /// row as a duplicate.)
    deposited: Option<K>,
}

impl<K> Recipient<K> {
    fn new(durable: K) -> Self {
        Self {
            durable,
            in_flight: 0,
            reading: false,
            cursor: None,
            attempts: 0,
            next_at: None,
            resealing: false,
            reseals: 0,
            generation: 0,
            deposited: None,
        }
    }
}

/// A request in flight.
#[derive(Debug)]
struct InFlight<K> {
    peer: PeerId,
    /// The recipient's generation when it was sent.
    generation: u32,
    /// Keys and message ids, in the request's order.
    rows: Vec<(K, MessageId)>,
    /// The envelopes, kept to leave them with a mailbox if the recipient is unreachable.
    payloads: Vec<Vec<u8>>,
}

/// The outbox's state: recipients with rows to send and the requests in flight.
#[derive(Debug)]
pub(crate) struct Outbox<K> {
    recipients: HashMap<PeerId, Recipient<K>>,
    in_flight: HashMap<BatchId, InFlight<K>>,
    next_batch: u64,
    /// Spreads the retries of many recipients that failed together (after an outage).
    rng: StdRng,
}

/// The pause after `attempts` failures in a row, before jitter: 0.5 s doubling up to 5 min.
pub(crate) fn backoff_ms(attempts: u32) -> u64 {
    FIRST_BACKOFF_MS
        .saturating_mul(1 << attempts.min(20))
        .min(MAX_BACKOFF_MS)
}

impl<K: Clone + Ord> Outbox<K> {
    /// An empty outbox whose retry jitter is drawn from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            recipients: HashMap::new(),
            in_flight: HashMap::new(),
            next_batch: 0,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Whether `peer` has rows this outbox is delivering.
    pub(crate) fn is_tracking(&self, peer: &PeerId) -> bool {
        self.recipients.contains_key(peer)
    }

    /// Requests in flight, to every recipient.
    #[cfg(test)]
    pub(crate) fn requests_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Takes `input` at time `now` (Unix ms) and says what to do.
    pub(crate) fn handle(&mut self, input: Input<K>, now: u64) -> Vec<Action<K>> {
        let mut out = Vec::new();
        match input {
            Input::Durable { peer, up_to } => {
                match self.recipients.get_mut(&peer) {
                    Some(r) => r.durable = r.durable.clone().max(up_to),
                    None => {
                        self.recipients.insert(peer, Recipient::new(up_to));
                    }
                }
                self.dispatch(peer, &mut out);
            }
            Input::Connected(peer) => {
                if let Some(r) = self.recipients.get_mut(&peer) {
                    r.attempts = 0;
                    r.next_at = None;
                    self.dispatch(peer, &mut out);
                }
            }
            Input::Tick => {
                let mut due: Vec<PeerId> = self
                    .recipients
                    .iter()
                    .filter(|(_, r)| r.in_flight == 0 && !r.reading && !r.resealing)
                    .filter(|(_, r)| r.next_at.is_none_or(|t| t <= now))
                    .map(|(p, _)| *p)
                    .collect();
                due.sort_unstable();
                for peer in due {
                    self.dispatch(peer, &mut out);
                }
            }
            Input::Rows { peer, rows } => self.on_rows(peer, rows, now, &mut out),
            Input::Unreadable(peer) => {
                if let Some(r) = self.recipients.get_mut(&peer) {
                    r.reading = false;
                    self.back_off(peer, now);
                }
            }
            Input::Answered { batch, outcomes } => self.on_answer(batch, outcomes, now, &mut out),
            Input::Failed { batch } => {
                if let Some(flight) = self.in_flight.remove(&batch) {
                    self.finish(flight.peer);
                    self.back_off(flight.peer, now);
                    self.deposit(flight, &mut out);
                }
            }
            Input::Deposited { peer, rows } => {
                let Some(r) = self.recipients.get_mut(&peer) else {
                    return out;
                };
                if let Some((last, _)) = rows.last() {
                    if r.deposited.as_ref().is_none_or(|d| d < last) {
                        r.deposited = Some(last.clone());
                    }
                    out.push(Action::MarkStored { peer, rows });
                }
            }
            Input::Resealed { peer, up_to } => {
                if let Some(r) = self.recipients.get_mut(&peer) {
                    r.resealing = false;
                    r.generation += 1;
                    r.cursor = None;
                    r.deposited = None;
                    if let Some(up_to) = up_to {
                        r.durable = r.durable.clone().max(up_to);
                    }
                    self.dispatch(peer, &mut out);
                }
            }
            Input::ResealFailed(peer) => {
                if let Some(r) = self.recipients.get_mut(&peer) {
                    r.resealing = false;
                    self.back_off(peer, now);
                }
            }
        }
        out
    }

    /// Asks for `peer`'s next rows if another request may go out.
    fn dispatch(&mut self, peer: PeerId, out: &mut Vec<Action<K>>) {
        let Some(r) = self.recipients.get_mut(&peer) else {
            return;
        };
        if r.reading || r.resealing || r.in_flight >= MAX_IN_FLIGHT {
            return;
        }
        r.reading = true;
        out.push(Action::Read {
            peer,
            after: r.cursor.clone(),
            up_to: r.durable.clone(),
            limit: BATCH,
        });
    }

    fn on_rows(&mut self, peer: PeerId, rows: Vec<Row<K>>, now: u64, out: &mut Vec<Action<K>>) {
        let Some(r) = self.recipients.get_mut(&peer) else {
            return;
        };
        r.reading = false;
        // Only durable rows, whatever the reader returned.
        let durable = r.durable.clone();
        let rows: Vec<_> = rows.into_iter().filter(|row| row.key <= durable).collect();
        let Some(last) = rows.last().map(|row| row.key.clone()) else {
            // Nothing after the cursor. With nothing in flight either, every row is settled
            // (or will be sent again by a backoff, which resets the cursor): done.
            if r.in_flight == 0 {
                self.recipients.remove(&peer);
            }
            return;
        };
        r.cursor = Some(last);
        let mut expired = Vec::new();
        let mut sending = Vec::new();
        let mut envelopes = Vec::new();
        let mut payloads = Vec::new();
        for row in rows {
            if now.saturating_sub(row.queued_at) > GIVE_UP_AFTER_MS {
                expired.push((row.key, row.message, Settlement::Failed(GAVE_UP.to_owned())));
            } else {
                sending.push((row.key, row.message));
                payloads.push(row.payload.clone());
                envelopes.push((row.message, row.payload));
            }
        }
        if !expired.is_empty() {
            out.push(Action::Settle {
                peer,
                rows: expired,
            });
        }
        if !sending.is_empty() {
            r.in_flight += 1;
            let batch = BatchId(self.next_batch);
            self.next_batch += 1;
            let generation = r.generation;
            self.in_flight.insert(
                batch,
                InFlight {
                    peer,
                    generation,
                    rows: sending,
                    payloads,
                },
            );
            out.push(Action::Send {
                batch,
                peer,
                envelopes,
            });
        }
        self.dispatch(peer, out);
    }

    fn on_answer(
        &mut self,
        batch: BatchId,
        outcomes: Vec<Outcome>,
        now: u64,
        out: &mut Vec<Action<K>>,
    ) {
        let Some(flight) = self.in_flight.remove(&batch) else {
            return;
        };
        let peer = flight.peer;
        self.finish(peer);
        if outcomes.len() != flight.rows.len() {
            // An answer that does not match the request settles nothing.
            return self.back_off(peer, now);
        }
        // `stale`: sent before the last reseal, so its rows are being sent again on the fresh
        // session already.
        let (reseals, stale) = self.recipients.get(&peer).map_or((0, false), |r| {
            (r.reseals, r.generation != flight.generation)
        });
        let mut try_later = false;
        let mut unreadable = false;
        let mut delivered = false;
        let mut settled = Vec::new();
        for ((key, id), outcome) in flight.rows.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Delivered => {
                    delivered = true;
                    settled.push((key, id, Settlement::Delivered));
                }
                Outcome::Refused(why) => settled.push((key, id, Settlement::Failed(why))),
                Outcome::TryLater => try_later = true,
                // Fresh sessions did not help: the recipient cannot read us at all.
                Outcome::Undecryptable if stale => {}
                Outcome::Undecryptable if reseals >= MAX_RESEALS => {
                    settled.push((key, id, Settlement::Failed(UNREADABLE.to_owned())));
                }
                Outcome::Undecryptable => unreadable = true,
            }
        }
        if !settled.is_empty() {
            out.push(Action::Settle {
                peer,
                rows: settled,
            });
        }
        let Some(r) = self.recipients.get_mut(&peer) else {
            return;
        };
        if delivered {
            r.reseals = 0;
        }
        if unreadable {
            if !r.resealing {
                r.resealing = true;
                r.reseals += 1;
                out.push(Action::Reseal { peer });
            }
        } else if try_later {
            self.back_off(peer, now);
        } else {
            r.attempts = 0;
            r.next_at = None;
            self.dispatch(peer, out);
        }
    }

    /// A request to `flight`'s recipient failed: its rows no mailbox holds yet are to be
    /// deposited.
    fn deposit(&mut self, flight: InFlight<K>, out: &mut Vec<Action<K>>) {
        let Some(r) = self.recipients.get(&flight.peer) else {
            return;
        };
        if r.generation != flight.generation {
            return; // sealed again since: the new envelopes will be deposited instead
        }
        let rows: Vec<(K, MessageId, Vec<u8>)> = flight
            .rows
            .into_iter()
            .zip(flight.payloads)
            .filter(|((key, _), _)| r.deposited.as_ref().is_none_or(|d| key > d))
            .map(|((key, id), payload)| (key, id, payload))
            .collect();
        if !rows.is_empty() {
            out.push(Action::Deposit {
                peer: flight.peer,
                rows,
            });
        }
    }

    fn finish(&mut self, peer: PeerId) {
        if let Some(r) = self.recipients.get_mut(&peer) {
            r.in_flight = r.in_flight.saturating_sub(1);
        }
    }

    /// Something failed: resend everything unsettled after a growing pause, with up to a
    /// quarter taken off at random so that recipients that failed together spread out.
    fn back_off(&mut self, peer: PeerId, now: u64) {
        let base = {
            let Some(r) = self.recipients.get_mut(&peer) else {
                return;
            };
            r.cursor = None;
            r.attempts = r.attempts.saturating_add(1);
            backoff_ms(r.attempts)
        };
        let jitter = self.rng.random_range(0..=base / 4);
        if let Some(r) = self.recipients.get_mut(&peer) {
            r.next_at = Some(now + base - jitter);
        }
    }

    /// When `peer` will be retried, if it is pausing after a failure.
    #[cfg(test)]
    pub(crate) fn next_attempt(&self, peer: &PeerId) -> Option<u64> {
        self.recipients.get(peer).and_then(|r| r.next_at)
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
