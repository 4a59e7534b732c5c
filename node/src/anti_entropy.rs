//! When to ask again about a followed author (anti-entropy): gossip may miss a post, and
//! catch-up otherwise runs only when a connection opens or a follow starts. So the node asks
//! peers now and then whether they hold posts of an author above the newest it has, first
//! after [`Backoff::first`], then at doubling intervals up to [`Backoff::most`] while nothing
//! new turns up, and back at the first interval as soon as something does.
//!
//! Pure: the actor passes in the time (Unix ms) and carries out the answer.

use std::collections::HashMap;

use paperplane_protocol::PeerId;

/// Default first interval: 30 s.
pub const FIRST_INTERVAL_MS: u64 = 30_000;
/// Default longest interval: 10 minutes. A post gossip missed reaches a connected follower
/// within about this long, however quiet its author was before.
pub const MOST_INTERVAL_MS: u64 = 600_000;
/// Most authors asked about in one round (one actor tick), so that following many authors
/// spreads the questions out instead of sending them all at once.
pub const MAX_AUTHORS_PER_ROUND: usize = 8;

/// The intervals of the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The interval after a follow, a start, or news (ms).
    pub first: u64,
    /// The longest interval (ms).
    pub most: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: FIRST_INTERVAL_MS,
            most: MOST_INTERVAL_MS,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Due {
    at: u64,
    interval: u64,
}

/// For each followed author, when to ask about them next.
#[derive(Debug)]
pub(crate) struct Schedule {
    backoff: Backoff,
    authors: HashMap<PeerId, Due>,
}

impl Schedule {
    /// An empty schedule. An interval of 0 is taken as 1 ms and `most` as at least `first`.
    pub(crate) fn new(backoff: Backoff) -> Self {
        let first = backoff.first.max(1);
        Self {
            backoff: Backoff {
                first,
                most: backoff.most.max(first),
            },
            authors: HashMap::new(),
        }
    }

    /// Starts asking about `author` (a follow, or one found at start), the first time at
    /// `now` + the first interval. An author already scheduled keeps its place.
    pub(crate) fn track(&mut self, author: PeerId, now: u64) {
        let first = self.backoff.first;
        self.authors.entry(author).or_insert(Due {
            at: now.saturating_add(first),
            interval: first,
        });
    }

    /// Stops asking about `author` (an unfollow).
    pub(crate) fn untrack(&mut self, author: &PeerId) {
        self.authors.remove(author);
    }

    /// The authors to ask about at `now`, the longest overdue first, at most `most` of them.
    /// Each is taken as asked: its next time is `now` + its interval, and the interval after
    /// that doubles (up to the longest), unless [`Schedule::news`] says otherwise first.
    pub(crate) fn due(&mut self, now: u64, most: usize) -> Vec<PeerId> {
        let mut due: Vec<(u64, PeerId)> = self
            .authors
            .iter()
            .filter(|(_, d)| d.at <= now)
            .map(|(a, d)| (d.at, *a))
            .collect();
        due.sort();
        due.truncate(most);
        let most_interval = self.backoff.most;
        for (_, author) in &due {
            if let Some(d) = self.authors.get_mut(author) {
                d.at = now.saturating_add(d.interval);
                d.interval = d.interval.saturating_mul(2).min(most_interval);
            }
        }
        due.into_iter().map(|(_, a)| a).collect()
    }

    /// A peer held posts of `author` the node lacked: gossip is missing some of them, so ask
    /// again soon (after the first interval) and back off from there.
    pub(crate) fn news(&mut self, author: &PeerId, now: u64) {
        let first = self.backoff.first;
        if let Some(d) = self.authors.get_mut(author) {
            *d = Due {
                at: now.saturating_add(first),
                interval: first,
            };
        }
    }

    /// When `author` is next due, if tracked.
    #[cfg(test)]
    pub(crate) fn next_at(&self, author: &PeerId) -> Option<u64> {
        self.authors.get(author).map(|d| d.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        first: 30_000,
        most: 600_000,
    };

    fn peer(n: u8) -> PeerId {
        paperplane_protocol::PeerId::from_public_key(
            &libp2p::identity::Keypair::ed25519_from_bytes([n; 32])
                .expect("key")
                .public(),
        )
    }

    /// Asks at every due time from 0 to `until` (stepping 1 s) and returns the times asked.
    fn asked_times(s: &mut Schedule, a: PeerId, until: u64) -> Vec<u64> {
        let mut times = Vec::new();
        let mut now = 0;
        while now <= until {
            if s.due(now, MAX_AUTHORS_PER_ROUND).contains(&a) {
                times.push(now);
            }
            now += 1_000;
        }
        times
    }

    #[test]
    fn a_quiet_author_is_asked_at_doubling_intervals_up_to_the_longest() {
        let mut s = Schedule::new(BACKOFF);
        let a = peer(1);
        s.track(a, 0);
        let times = asked_times(&mut s, a, 3_000_000);
        let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(times[0], 30_000);
        assert_eq!(
            &gaps[..6],
            &[30_000, 60_000, 120_000, 240_000, 480_000, 600_000]
        );
        assert!(gaps[5..].iter().all(|g| *g == 600_000), "{gaps:?}");
    }

    #[test]
    fn news_brings_the_first_interval_back() {
        let mut s = Schedule::new(BACKOFF);
        let a = peer(1);
        s.track(a, 0);
        for now in [30_000, 60_000, 120_000, 240_000] {
            assert_eq!(s.due(now, 8), vec![a]);
        }
        assert_eq!(s.next_at(&a), Some(480_000));
        s.news(&a, 250_000);
        assert_eq!(s.next_at(&a), Some(280_000));
        assert_eq!(s.due(279_999, 8), Vec::<PeerId>::new());
        assert_eq!(s.due(280_000, 8), vec![a]);
        assert_eq!(s.next_at(&a), Some(310_000), "then backing off again");
        assert_eq!(s.due(310_000, 8), vec![a]);
        assert_eq!(s.next_at(&a), Some(370_000));
    }

    #[test]
    fn a_round_takes_the_longest_overdue_first_and_at_most_the_limit() {
        let mut s = Schedule::new(BACKOFF);
        let authors: Vec<PeerId> = (1..=5).map(peer).collect();
        for (i, a) in authors.iter().enumerate() {
            s.track(*a, i as u64 * 1_000);
        }
        assert_eq!(s.due(100_000, 2), vec![authors[0], authors[1]]);
        assert_eq!(s.due(100_000, 2), vec![authors[2], authors[3]]);
        assert_eq!(s.due(100_000, 2), vec![authors[4]]);
        assert!(s.due(100_000, 2).is_empty());
    }

    #[test]
    fn tracking_twice_keeps_the_place_and_untracking_stops_it() {
        let mut s = Schedule::new(BACKOFF);
        let a = peer(1);
        s.track(a, 0);
        s.track(a, 20_000);
        assert_eq!(s.next_at(&a), Some(30_000));
        s.untrack(&a);
        assert!(s.due(1_000_000, 8).is_empty());
        s.news(&a, 0);
        assert_eq!(
            s.next_at(&a),
            None,
            "news of an author not followed adds nothing"
        );
    }

    #[test]
    fn degenerate_intervals_are_made_usable() {
        let mut s = Schedule::new(Backoff { first: 0, most: 0 });
        let a = peer(1);
        s.track(a, 10);
        assert_eq!(s.next_at(&a), Some(11));
        assert_eq!(s.due(11, 8), vec![a]);
        assert_eq!(s.next_at(&a), Some(12));
    }
}
