//! How much one peer may ask this node to serve: sync responses and blob chunks per minute.
//!
//! A request of a few dozen bytes can make the node read its store and send up to 4 MiB (a
//! sync response) or 256 KiB (a blob chunk) back, so each peer has a budget per fixed
//! one-minute window, charged before the store is read; beyond it the request is refused
//! cheaply. Pure: the actor passes the time in and carries out the answer.

use std::collections::HashMap;

use paperplane_protocol::PeerId;

use crate::delivery::inbox::RateWindow;

/// Sync responses one peer may have a minute. A new connection asks for its peer's profile
/// and for up to 32 followed authors (33 requests), and one catch-up pages through at most 64
/// pages of one author: both fit in one minute. At most 400 MiB of responses a minute.
pub const SYNC_RESPONSES_PER_MINUTE: u32 = 100;
/// Blob chunks one peer may have a minute: 512 chunks of 256 KiB, 128 MiB. A post of ten
/// 8 MiB photos is 320 chunks, so catching it up is never refused.
pub const BLOB_CHUNKS_PER_MINUTE: u32 = 512;
/// Peers whose windows are remembered; beyond it, windows that are over go first, then the
/// oldest.
const MAX_TRACKED_PEERS: usize = 4096;

/// What a peer asks this node to serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    /// A `/paperplane/sync/1` response.
    Sync,
    /// A `/paperplane/blob/1` chunk.
    Blob,
}

impl Service {
    fn per_minute(self) -> u32 {
        match self {
            Self::Sync => SYNC_RESPONSES_PER_MINUTE,
            Self::Blob => BLOB_CHUNKS_PER_MINUTE,
        }
    }
}

/// One peer's windows.
#[derive(Clone, Copy, Debug, Default)]
struct Windows {
    sync: RateWindow,
    blob: RateWindow,
}

impl Windows {
    fn of(&mut self, service: Service) -> &mut RateWindow {
        match service {
            Service::Sync => &mut self.sync,
            Service::Blob => &mut self.blob,
        }
    }

    /// Whether both windows are over at `now`, so forgetting them changes nothing.
    fn is_over(&self, now: u64) -> bool {
        self.sync.remaining(1, now) == 1 && self.blob.remaining(1, now) == 1
    }

    fn started(&self) -> u64 {
        self.sync.start.max(self.blob.start)
    }
}

/// Every peer's budget for what this node serves.
#[derive(Debug, Default)]
pub(crate) struct ServeBudget {
    peers: HashMap<PeerId, Windows>,
}

impl ServeBudget {
    /// Charges `peer` one `service` at `now`: `true` if it is within the budget (serve it),
    /// `false` if the budget for this minute is spent (refuse it).
    pub(crate) fn charge(&mut self, peer: PeerId, service: Service, now: u64) -> bool {
        self.make_room(&peer, now);
        let window = self.peers.entry(peer).or_default().of(service);
        if window.remaining(service.per_minute(), now) == 0 {
            return false;
        }
        window.record(now);
        true
    }

    /// Keeps the map within [`MAX_TRACKED_PEERS`] before `peer` is added.
    fn make_room(&mut self, peer: &PeerId, now: u64) {
        if self.peers.len() < MAX_TRACKED_PEERS || self.peers.contains_key(peer) {
            return;
        }
        self.peers.retain(|_, w| !w.is_over(now));
        if self.peers.len() >= MAX_TRACKED_PEERS {
            // Every window is running: forget the one that started first.
            if let Some(oldest) = self
                .peers
                .iter()
                .min_by_key(|(_, w)| w.started())
                .map(|(p, _)| *p)
            {
                self.peers.remove(&oldest);
            }
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::inbox::RATE_WINDOW_MS;

    const T0: u64 = 1_700_000_000_000;

    fn peer(n: u32) -> PeerId {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&n.to_be_bytes());
        paperplane_crypto::Identity::from_seed(seed).peer_id()
    }

    /// How many of `n` requests in a row at `now` are served.
    fn served(b: &mut ServeBudget, p: PeerId, s: Service, n: u32, now: u64) -> u32 {
        (0..n).filter(|_| b.charge(p, s, now)).count() as u32
    }

    #[test]
    fn a_peer_is_served_up_to_its_budget_per_minute() {
        let mut b = ServeBudget::default();
        let p = peer(1);
        assert_eq!(
            served(&mut b, p, Service::Sync, 1_000, T0),
            SYNC_RESPONSES_PER_MINUTE
        );
        assert_eq!(
            served(&mut b, p, Service::Blob, 1_000, T0 + 10),
            BLOB_CHUNKS_PER_MINUTE
        );
        // Still refused at the end of the minute, served again once it is over.
        assert!(!b.charge(p, Service::Sync, T0 + RATE_WINDOW_MS));
        assert!(b.charge(p, Service::Sync, T0 + RATE_WINDOW_MS + 1));
        assert_eq!(
            served(&mut b, p, Service::Sync, 1_000, T0 + RATE_WINDOW_MS + 2),
            SYNC_RESPONSES_PER_MINUTE - 1
        );
    }

    #[test]
    fn peers_and_services_have_separate_budgets() {
        let mut b = ServeBudget::default();
        let (p, q) = (peer(1), peer(2));
        assert_eq!(
            served(&mut b, p, Service::Blob, 1_000, T0),
            BLOB_CHUNKS_PER_MINUTE
        );
        assert!(!b.charge(p, Service::Blob, T0));
        assert!(b.charge(p, Service::Sync, T0), "sync is counted apart");
        assert!(b.charge(q, Service::Blob, T0), "another peer has its own");
    }

    #[test]
    fn a_legitimate_catch_up_fits_in_one_minute() {
        let mut b = ServeBudget::default();
        let p = peer(1);
        // A connection's requests (profile and 32 authors) and one author's 64 pages.
        assert_eq!(served(&mut b, p, Service::Sync, 33 + 64, T0), 33 + 64);
        // Ten photos of 8 MiB in chunks of 256 KiB.
        assert_eq!(served(&mut b, p, Service::Blob, 10 * 32, T0), 10 * 32);
    }

    #[test]
    fn the_map_stays_bounded_and_forgets_finished_windows_first() {
        let mut b = ServeBudget::default();
        assert!(b.charge(peer(0), Service::Sync, T0));
        let later = T0 + 2 * RATE_WINDOW_MS;
        assert_eq!(
            served(&mut b, peer(1), Service::Blob, 1_000, later),
            BLOB_CHUNKS_PER_MINUTE
        );
        assert_eq!(
            served(&mut b, peer(2), Service::Blob, 1_000, later + 1),
            BLOB_CHUNKS_PER_MINUTE
        );
        for n in 3..MAX_TRACKED_PEERS as u32 {
            assert!(b.charge(peer(n), Service::Sync, later + 2));
        }
        assert_eq!(b.tracked(), MAX_TRACKED_PEERS);
        // Full: the window that is over (peer 0's) goes first.
        assert!(b.charge(peer(1_000_000), Service::Sync, later + 3));
        assert_eq!(b.tracked(), MAX_TRACKED_PEERS);
        // Every window is running: the one that started first (peer 1's) goes.
        assert!(b.charge(peer(2_000_000), Service::Sync, later + 4));
        assert_eq!(b.tracked(), MAX_TRACKED_PEERS);
        assert!(
            !b.charge(peer(2), Service::Blob, later + 4),
            "still remembered"
        );
        assert!(b.charge(peer(1), Service::Blob, later + 4), "forgotten");
        assert_eq!(b.tracked(), MAX_TRACKED_PEERS);
    }
}
