//! At most a few requests in flight per peer on one protocol; the rest wait their turn.
//!
//! A request-response connection handler serves a bounded number of streams, its own and the
//! peer's together (see `net::MAX_SYNC_STREAMS`), and fails the ones over the bound. So the
//! node keeps fewer of its own requests in flight to any peer than that bound and queues the
//! others here. Pure: the actor sends what this hands back.

use std::collections::{HashMap, VecDeque};

use paperplane_protocol::PeerId;

/// What became of an offered request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Offer<T> {
    /// A slot was free and is now taken: send it.
    Now(T),
    /// It waits for a slot.
    Queued,
    /// The peer's queue is full: it is dropped.
    Full(T),
}

/// Requests in flight and waiting, per peer.
#[derive(Debug)]
pub(crate) struct Slots<T> {
    in_flight: usize,
    max_waiting: usize,
    busy: HashMap<PeerId, usize>,
    waiting: HashMap<PeerId, VecDeque<T>>,
}

impl<T> Slots<T> {
    /// At most `in_flight` requests in flight and `max_waiting` waiting per peer.
    pub(crate) fn new(in_flight: usize, max_waiting: usize) -> Self {
        Self {
            in_flight,
            max_waiting,
            busy: HashMap::new(),
            waiting: HashMap::new(),
        }
    }

    /// A request for `peer`: sent now if a slot is free, else queued behind the others.
    pub(crate) fn offer(&mut self, peer: PeerId, item: T) -> Offer<T> {
        let busy = self.busy.entry(peer).or_default();
        if *busy < self.in_flight {
            *busy += 1;
            return Offer::Now(item);
        }
        let queue = self.waiting.entry(peer).or_default();
        if queue.len() >= self.max_waiting {
            return Offer::Full(item);
        }
        queue.push_back(item);
        Offer::Queued
    }

    /// One request to `peer` ended (answered or failed): the next waiting one takes its slot
    /// and is handed back to be sent, or the slot is freed.
    pub(crate) fn done(&mut self, peer: &PeerId) -> Option<T> {
        if let Some(queue) = self.waiting.get_mut(peer) {
            if let Some(next) = queue.pop_front() {
                if queue.is_empty() {
                    self.waiting.remove(peer);
                }
                return Some(next);
            }
        }
        if let Some(busy) = self.busy.get_mut(peer) {
            *busy = busy.saturating_sub(1);
            if *busy == 0 {
                self.busy.remove(peer);
            }
        }
        None
    }

    /// `peer` is gone: the requests waiting for it are handed back. (Those in flight end with
    /// an answer or a failure each, which frees their slots.)
    pub(crate) fn forget(&mut self, peer: &PeerId) -> Vec<T> {
        self.waiting.remove(peer).map(Vec::from).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> PeerId {
        paperplane_crypto::Identity::from_seed([n; 32]).peer_id()
    }

    #[test]
    fn requests_beyond_the_slots_wait_in_order() {
        let mut s = Slots::new(2, 10);
        let (p, q) = (peer(1), peer(2));
        assert_eq!(s.offer(p, 1), Offer::Now(1));
        assert_eq!(s.offer(p, 2), Offer::Now(2));
        assert_eq!(s.offer(p, 3), Offer::Queued);
        assert_eq!(s.offer(p, 4), Offer::Queued);
        assert_eq!(
            s.offer(q, 5),
            Offer::Now(5),
            "another peer has its own slots"
        );
        assert_eq!(s.done(&p), Some(3));
        assert_eq!(s.offer(p, 6), Offer::Queued, "the slot went to 3");
        assert_eq!(s.done(&p), Some(4));
        assert_eq!(s.done(&p), Some(6));
        assert_eq!(s.done(&p), None);
        assert_eq!(s.done(&p), None);
        assert_eq!(s.offer(p, 7), Offer::Now(7));
        assert_eq!(s.offer(p, 8), Offer::Now(8));
        assert_eq!(s.offer(p, 9), Offer::Queued, "two in flight again");
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut s = Slots::new(1, 2);
        let p = peer(1);
        assert_eq!(s.offer(p, 1), Offer::Now(1));
        assert_eq!(s.offer(p, 2), Offer::Queued);
        assert_eq!(s.offer(p, 3), Offer::Queued);
        assert_eq!(s.offer(p, 4), Offer::Full(4));
    }

    #[test]
    fn a_gone_peer_hands_back_what_waited_and_frees_slots_as_requests_end() {
        let mut s = Slots::new(1, 10);
        let p = peer(1);
        assert_eq!(s.offer(p, 1), Offer::Now(1));
        assert_eq!(s.offer(p, 2), Offer::Queued);
        assert_eq!(s.offer(p, 3), Offer::Queued);
        assert_eq!(s.forget(&p), vec![2, 3]);
        assert_eq!(s.offer(p, 4), Offer::Queued, "1 is still in flight");
        assert_eq!(s.forget(&p), vec![4]);
        assert_eq!(s.done(&p), None, "1 failed");
        assert_eq!(s.offer(p, 5), Offer::Now(5));
    }
}
