//! The outbox state machine against a fake store and a fake clock: a `BTreeMap` of rows and
//! a `u64` of milliseconds.

use std::collections::BTreeMap;

use paperplane_protocol::{MessageId, PeerId};

use super::*;

const T0: u64 = 1_700_000_000_000;

fn peer(n: u8) -> PeerId {
    paperplane_crypto::Identity::from_seed([n; 32]).peer_id()
}

/// A fake outbox table: rows keyed by (peer, seq), carrying out [`Action`]s like the actor.
struct Harness {
    outbox: Outbox<(PeerId, u32)>,
    rows: BTreeMap<(PeerId, u32), Row<(PeerId, u32)>>,
    sent: Vec<(BatchId, PeerId, Vec<MessageId>)>,
    settled: Vec<(MessageId, Settlement)>,
    reseals: Vec<PeerId>,
    /// Deposits asked for: recipient and message ids.
    deposits: Vec<(PeerId, Vec<MessageId>)>,
    /// Rows shown as stored by a mailbox.
    stored: Vec<MessageId>,
    now: u64,
}

impl Harness {
    fn new() -> Self {
        Self {
            outbox: Outbox::new(7),
            rows: BTreeMap::new(),
            sent: Vec::new(),
            settled: Vec::new(),
            reseals: Vec::new(),
            deposits: Vec::new(),
            stored: Vec::new(),
            now: T0,
        }
    }

    fn queue(&mut self, to: PeerId, seq: u32) -> MessageId {
        let mut id = [0; 16];
        id[..4].copy_from_slice(&seq.to_be_bytes());
        let id = MessageId(id);
        self.rows.insert(
            (to, seq),
            Row {
                key: (to, seq),
                message: id,
                queued_at: self.now,
                payload: vec![seq as u8],
            },
        );
        id
    }

    /// Feeds `input` and carries out every action, answering reads from the fake table.
    fn feed(&mut self, input: Input<(PeerId, u32)>) {
        let mut actions = self.outbox.handle(input, self.now);
        while !actions.is_empty() {
            let mut next = Vec::new();
            for action in actions {
                match action {
                    Action::Read {
                        peer,
                        after,
                        up_to,
                        limit,
                    } => {
                        let rows: Vec<_> = self
                            .rows
                            .values()
                            .filter(|r| r.key.0 == peer && after.is_none_or(|a| r.key > a))
                            .filter(|r| r.key <= up_to)
                            .take(limit)
                            .cloned()
                            .collect();
                        next.extend(self.outbox.handle(Input::Rows { peer, rows }, self.now));
                    }
                    Action::Send {
                        batch,
                        peer,
                        envelopes,
                    } => {
                        let ids = envelopes.iter().map(|(id, _)| *id).collect();
                        self.sent.push((batch, peer, ids));
                    }
                    Action::Reseal { peer } => self.reseals.push(peer),
                    Action::Deposit { peer, rows } => {
                        self.deposits
                            .push((peer, rows.iter().map(|(_, id, _)| *id).collect()));
                    }
                    Action::MarkStored { rows, .. } => {
                        self.stored.extend(rows.iter().map(|(_, id)| *id));
                    }
                    Action::Settle { rows, .. } => {
                        for (key, id, how) in rows {
                            self.rows.remove(&key);
                            self.settled.push((id, how));
                        }
                    }
                }
            }
            actions = next;
        }
    }

    /// Everything queued so far for `to` is on disk.
    fn durable(&self, to: PeerId) -> Input<(PeerId, u32)> {
        let up_to = self
            .rows
            .keys()
            .filter(|k| k.0 == to)
            .max()
            .copied()
            .unwrap_or((to, 0));
        Input::Durable { peer: to, up_to }
    }

    fn take_sent(&mut self) -> Vec<(BatchId, PeerId, Vec<MessageId>)> {
        std::mem::take(&mut self.sent)
    }

    fn answer_all(&mut self, outcome: Outcome) {
        for (batch, _, ids) in self.take_sent() {
            let outcomes = vec![outcome.clone(); ids.len()];
            self.feed(Input::Answered { batch, outcomes });
        }
    }
}

#[test]
fn queued_rows_go_out_in_order_in_batches_with_at_most_four_in_flight() {
    let mut h = Harness::new();
    let bob = peer(1);
    let ids: Vec<_> = (0..BATCH as u32 * 6).map(|i| h.queue(bob, i)).collect();
    h.feed(h.durable(bob));
    let sent = h.take_sent();
    assert_eq!(
        sent.len(),
        MAX_IN_FLIGHT,
        "four requests in flight, no more"
    );
    let first: Vec<MessageId> = sent.iter().flat_map(|(_, _, ids)| ids.clone()).collect();
    assert_eq!(first, ids[..BATCH * MAX_IN_FLIGHT], "in queue order");
    // Each answer lets the next batch out.
    for (batch, _, ids) in sent {
        let outcomes = vec![Outcome::Delivered; ids.len()];
        h.feed(Input::Answered { batch, outcomes });
    }
    h.answer_all(Outcome::Delivered);
    assert!(h.rows.is_empty(), "everything settled");
    assert_eq!(h.settled.len(), ids.len());
    assert!(h.settled.iter().all(|(_, s)| *s == Settlement::Delivered));
    let settled: Vec<MessageId> = h.settled.iter().map(|(id, _)| *id).collect();
    assert_eq!(settled, ids, "settled in order");
    assert!(
        !h.outbox.is_tracking(&bob),
        "an empty outbox forgets the recipient"
    );
    assert_eq!(h.outbox.requests_in_flight(), 0);
}

#[test]
fn a_failure_backs_off_exponentially_with_jitter_and_resends_everything_unsettled() {
    let mut h = Harness::new();
    let bob = peer(1);
    let a = h.queue(bob, 1);
    let b = h.queue(bob, 2);
    h.feed(h.durable(bob));
    let mut pauses = Vec::new();
    for attempt in 1..=12u32 {
        let sent = h.take_sent();
        assert_eq!(sent.len(), 1, "attempt {attempt} sends one request");
        assert_eq!(sent[0].2, vec![a, b], "attempt {attempt} resends both");
        h.feed(Input::Failed { batch: sent[0].0 });
        let next = h.outbox.next_attempt(&bob).expect("pausing");
        let pause = next - h.now;
        let base = backoff_ms(attempt);
        assert!(
            pause <= base && pause >= base - base / 4,
            "attempt {attempt}: pause {pause} within [{}, {base}]",
            base - base / 4
        );
        pauses.push(pause);
        // Nothing goes out before the pause is over.
        h.now = next - 1;
        h.feed(Input::Tick);
        assert!(
            h.sent.is_empty(),
            "attempt {attempt}: no retry before the pause ends"
        );
        h.now = next;
        h.feed(Input::Tick);
    }
    assert_eq!(backoff_ms(1), 1_000);
    assert_eq!(backoff_ms(9), 256_000);
    assert_eq!(backoff_ms(10), MAX_BACKOFF_MS, "capped at 5 minutes");
    assert_eq!(backoff_ms(u32::MAX), MAX_BACKOFF_MS);
    assert!(pauses.iter().all(|&p| p <= MAX_BACKOFF_MS));
    assert!(h.settled.is_empty(), "failures settle nothing");
}

#[test]
fn the_same_seed_gives_the_same_retry_schedule() {
    let schedule = |seed: u64| {
        let mut h = Harness::new();
        h.outbox = Outbox::new(seed);
        let bob = peer(1);
        h.queue(bob, 1);
        h.feed(h.durable(bob));
        let mut times = Vec::new();
        for _ in 0..8 {
            let sent = h.take_sent();
            assert_eq!(sent.len(), 1);
            h.feed(Input::Failed { batch: sent[0].0 });
            h.now = h.outbox.next_attempt(&bob).expect("pausing");
            times.push(h.now);
            h.feed(Input::Tick);
        }
        times
    };
    assert_eq!(schedule(1), schedule(1));
    assert_ne!(schedule(1), schedule(2), "jitter depends on the seed");
}

#[test]
fn a_new_connection_retries_at_once_and_resets_the_backoff() {
    let mut h = Harness::new();
    let bob = peer(1);
    let a = h.queue(bob, 1);
    h.feed(h.durable(bob));
    for _ in 0..5 {
        let sent = h.take_sent();
        h.feed(Input::Failed { batch: sent[0].0 });
        h.now = h.outbox.next_attempt(&bob).expect("pausing");
        h.feed(Input::Tick);
    }
    let sent = h.take_sent();
    h.feed(Input::Failed { batch: sent[0].0 });
    assert!(h.outbox.next_attempt(&bob).expect("pausing") - h.now > 10_000);
    h.feed(Input::Connected(bob));
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1, "sent at once on connecting");
    assert_eq!(sent[0].2, vec![a]);
    h.feed(Input::Failed { batch: sent[0].0 });
    let pause = h.outbox.next_attempt(&bob).expect("pausing") - h.now;
    assert!(pause <= backoff_ms(1), "backoff starts over: {pause}");
    // A connection from someone with nothing queued does nothing.
    h.feed(Input::Connected(peer(2)));
    assert!(h.sent.is_empty());
}

#[test]
fn rows_older_than_thirty_days_are_given_up_and_the_rest_still_go() {
    let mut h = Harness::new();
    let bob = peer(1);
    let old = h.queue(bob, 1);
    h.now += GIVE_UP_AFTER_MS;
    let young = h.queue(bob, 2);
    h.now += 1;
    h.feed(h.durable(bob));
    assert_eq!(
        h.settled,
        vec![(old, Settlement::Failed(GAVE_UP.to_owned()))]
    );
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2, vec![young]);
}

#[test]
fn refusals_settle_as_failed_and_try_later_pauses_without_settling() {
    let mut h = Harness::new();
    let bob = peer(1);
    let a = h.queue(bob, 1);
    let b = h.queue(bob, 2);
    let c = h.queue(bob, 3);
    h.feed(h.durable(bob));
    let (batch, _, _) = h.take_sent().remove(0);
    h.feed(Input::Answered {
        batch,
        outcomes: vec![
            Outcome::Delivered,
            Outcome::Refused("blocked".into()),
            Outcome::TryLater,
        ],
    });
    assert_eq!(
        h.settled,
        vec![
            (a, Settlement::Delivered),
            (b, Settlement::Failed("blocked".into()))
        ]
    );
    assert!(h.sent.is_empty(), "a rate-limited row waits");
    h.now = h.outbox.next_attempt(&bob).expect("pausing");
    h.feed(Input::Tick);
    let sent = h.take_sent();
    assert_eq!(sent[0].2, vec![c], "only the unsettled row goes again");
}

#[test]
fn an_answer_that_does_not_match_its_request_settles_nothing() {
    let mut h = Harness::new();
    let bob = peer(1);
    h.queue(bob, 1);
    h.queue(bob, 2);
    h.feed(h.durable(bob));
    let (batch, _, _) = h.take_sent().remove(0);
    h.feed(Input::Answered {
        batch,
        outcomes: vec![Outcome::Delivered],
    });
    assert!(h.settled.is_empty());
    assert!(h.outbox.next_attempt(&bob).is_some(), "backs off");
    // An answer to an unknown request is ignored.
    h.feed(Input::Answered {
        batch,
        outcomes: vec![Outcome::Delivered; 2],
    });
    assert!(h.settled.is_empty());
}

#[test]
fn one_message_to_several_recipients_settles_per_recipient() {
    let mut h = Harness::new();
    let (bob, carol, dave) = (peer(1), peer(2), peer(3));
    // A group message: one id, one row per recipient.
    let id = h.queue(bob, 9);
    h.queue(carol, 9);
    h.queue(dave, 9);
    for p in [bob, carol, dave] {
        h.feed(h.durable(p));
    }
    let sent = h.take_sent();
    assert_eq!(sent.len(), 3);
    for (batch, to, ids) in sent {
        assert_eq!(ids, vec![id]);
        let outcome = if to == carol {
            Outcome::Refused("blocked".into())
        } else if to == dave {
            Outcome::TryLater
        } else {
            Outcome::Delivered
        };
        h.feed(Input::Answered {
            batch,
            outcomes: vec![outcome],
        });
    }
    assert_eq!(h.settled.len(), 2);
    assert!(h.rows.contains_key(&(dave, 9)), "dave's copy still waits");
    assert!(!h.outbox.is_tracking(&bob));
    assert!(h.outbox.is_tracking(&dave));
}

#[test]
fn ticks_leave_busy_and_pausing_recipients_alone() {
    let mut h = Harness::new();
    let bob = peer(1);
    h.queue(bob, 1);
    h.feed(h.durable(bob));
    assert_eq!(h.take_sent().len(), 1);
    h.now += 60_000;
    h.feed(Input::Tick);
    assert!(
        h.sent.is_empty(),
        "a request in flight is not duplicated by the timer"
    );
}

#[test]
fn a_store_that_cannot_read_the_outbox_pauses_the_recipient_and_retries() {
    let mut outbox: Outbox<u32> = Outbox::new(1);
    let bob = peer(1);
    let first = outbox.handle(
        Input::Durable {
            peer: bob,
            up_to: 1,
        },
        T0,
    );
    assert!(matches!(first[..], [Action::Read { after: None, .. }]));
    assert!(outbox.handle(Input::Unreadable(bob), T0).is_empty());
    let next = outbox.next_attempt(&bob).expect("pausing");
    assert!(outbox.handle(Input::Tick, next - 1).is_empty());
    let again = outbox.handle(Input::Tick, next);
    assert!(matches!(again[..], [Action::Read { after: None, .. }]));
}

#[test]
fn rows_not_yet_durable_are_never_sent() {
    let mut h = Harness::new();
    let bob = peer(1);
    let a = h.queue(bob, 1);
    h.feed(h.durable(bob));
    // Written, but its flush failed (or has not finished): not durable.
    let b = h.queue(bob, 2);
    let sent = h.take_sent();
    assert_eq!(sent[0].2, vec![a]);
    h.feed(Input::Answered {
        batch: sent[0].0,
        outcomes: vec![Outcome::Delivered],
    });
    h.feed(Input::Connected(bob));
    h.now += 60 * 60 * 1000;
    h.feed(Input::Tick);
    assert!(h.sent.is_empty(), "nothing past the durable mark goes out");
    // A failure and its retry resend from the start, still only up to the mark.
    let c = h.queue(bob, 3);
    h.feed(Input::Durable {
        peer: bob,
        up_to: (bob, 2),
    });
    let sent = h.take_sent();
    assert_eq!(sent[0].2, vec![b], "the mark moved to row 2 only");
    h.feed(Input::Failed { batch: sent[0].0 });
    h.now = h.outbox.next_attempt(&bob).expect("pausing");
    h.feed(Input::Tick);
    assert_eq!(h.take_sent()[0].2, vec![b]);
    assert!(
        h.rows.contains_key(&(bob, 3)),
        "row 3 ({c:?}) waits for its flush"
    );
}

#[test]
fn a_recipient_that_cannot_decrypt_gets_everything_sealed_again_on_a_fresh_session() {
    let mut h = Harness::new();
    let bob = peer(1);
    let a = h.queue(bob, 1);
    let b = h.queue(bob, 2);
    h.feed(h.durable(bob));
    let (batch, _, _) = h.take_sent().remove(0);
    h.feed(Input::Answered {
        batch,
        outcomes: vec![Outcome::Delivered, Outcome::Undecryptable],
    });
    assert_eq!(h.settled, vec![(a, Settlement::Delivered)]);
    assert_eq!(h.reseals, vec![bob], "asked to seal again");
    // Nothing goes out while the rows are being sealed again.
    let c = h.queue(bob, 3);
    h.feed(h.durable(bob));
    h.feed(Input::Connected(bob));
    h.now += 10 * 60 * 1000;
    h.feed(Input::Tick);
    assert!(h.sent.is_empty());
    h.feed(Input::Resealed {
        peer: bob,
        up_to: Some((bob, 3)),
    });
    let sent = h.take_sent();
    assert_eq!(sent[0].2, vec![b, c], "every unsettled row, from the first");
    h.feed(Input::Answered {
        batch: sent[0].0,
        outcomes: vec![Outcome::Delivered, Outcome::Delivered],
    });
    assert!(h.rows.is_empty());
    assert_eq!(h.reseals.len(), 1);
}

#[test]
fn late_refusals_from_the_old_session_do_not_reseal_twice() {
    let mut h = Harness::new();
    let bob = peer(1);
    for seq in 0..(BATCH as u32 * 2) {
        h.queue(bob, seq);
    }
    h.feed(h.durable(bob));
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2);
    h.feed(Input::Answered {
        batch: sent[0].0,
        outcomes: vec![Outcome::Undecryptable; BATCH],
    });
    h.feed(Input::Resealed {
        peer: bob,
        up_to: Some((bob, BATCH as u32 * 2 - 1)),
    });
    // The second old batch's refusals arrive after the reseal.
    h.feed(Input::Answered {
        batch: sent[1].0,
        outcomes: vec![Outcome::Undecryptable; BATCH],
    });
    assert_eq!(h.reseals.len(), 1, "one reseal for one broken session");
    assert!(h.settled.is_empty());
}

#[test]
fn after_three_fresh_sessions_in_vain_the_messages_fail() {
    let mut h = Harness::new();
    let bob = peer(1);
    let a = h.queue(bob, 1);
    h.feed(h.durable(bob));
    for round in 1..=MAX_RESEALS {
        let (batch, _, _) = h.take_sent().remove(0);
        h.feed(Input::Answered {
            batch,
            outcomes: vec![Outcome::Undecryptable],
        });
        assert_eq!(h.reseals.len() as u32, round);
        h.feed(Input::Resealed {
            peer: bob,
            up_to: Some((bob, 1)),
        });
    }
    let (batch, _, _) = h.take_sent().remove(0);
    h.feed(Input::Answered {
        batch,
        outcomes: vec![Outcome::Undecryptable],
    });
    assert_eq!(h.reseals.len() as u32, MAX_RESEALS, "no fourth session");
    assert_eq!(
        h.settled,
        vec![(a, Settlement::Failed(UNREADABLE.to_owned()))]
    );
}

#[test]
fn a_reseal_that_cannot_be_done_backs_off_and_tries_again() {
    let mut h = Harness::new();
    let bob = peer(1);
    h.queue(bob, 1);
    h.feed(h.durable(bob));
    let (batch, _, _) = h.take_sent().remove(0);
    h.feed(Input::Answered {
        batch,
        outcomes: vec![Outcome::Undecryptable],
    });
    h.feed(Input::ResealFailed(bob));
    let next = h.outbox.next_attempt(&bob).expect("pausing");
    h.now = next;
    h.feed(Input::Tick);
    let (batch, _, _) = h.take_sent().remove(0);
    h.feed(Input::Answered {
        batch,
        outcomes: vec![Outcome::Undecryptable],
    });
    assert_eq!(h.reseals.len(), 2, "asked again");
}

#[test]
fn an_unreachable_recipient_gets_its_rows_deposited_once_and_they_still_settle_directly() {
    let mut h = Harness::new();
    let to = peer(1);
    let ids: Vec<MessageId> = (1..=3).map(|i| h.queue(to, i)).collect();
    h.feed(h.durable(to));
    let sent = h.take_sent();
    h.feed(Input::Failed { batch: sent[0].0 });
    assert_eq!(
        h.deposits,
        vec![(to, ids.clone())],
        "the failed batch goes to a mailbox"
    );
    // The mailbox kept the first two.
    h.feed(Input::Deposited {
        peer: to,
        rows: vec![((to, 1), ids[0]), ((to, 2), ids[1])],
    });
    assert_eq!(h.stored, ids[..2]);
    // The retry fails again: only the row no mailbox holds is deposited again.
    h.now += MAX_BACKOFF_MS;
    h.feed(Input::Tick);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    h.feed(Input::Failed { batch: sent[0].0 });
    assert_eq!(h.deposits[1], (to, vec![ids[2]]));
    // The recipient comes back: every row settles as delivered, stored ones included.
    h.feed(Input::Connected(to));
    let sent = h.take_sent();
    h.feed(Input::Answered {
        batch: sent[0].0,
        outcomes: vec![Outcome::Delivered; 3],
    });
    assert_eq!(h.settled.len(), 3);
    assert!(h.settled.iter().all(|(_, s)| *s == Settlement::Delivered));
    assert!(!h.outbox.is_tracking(&to));
}
