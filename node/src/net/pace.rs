//! How fast a frame must arrive: within a grace period, then at a minimum rate. The deadline
//! starts at [`FRAME_GRACE`] and moves one second later for every [`MIN_FRAME_RATE`] bytes
//! received, so a peer that stalls, or trickles a frame byte by byte, is cut off once it falls
//! behind, however long it would keep writing, while a frame that arrives at
//! [`MIN_FRAME_RATE`] or faster never meets its deadline.

use std::time::Duration;

use tokio::time::Instant;

/// How long a frame may take before the minimum rate counts: a whole request of an honest
/// peer arrives in one or a few packets, well within it.
pub const FRAME_GRACE: Duration = Duration::from_secs(5);
/// The slowest a frame may arrive once the grace is used up, in bytes per second (64 KiB/s).
pub const MIN_FRAME_RATE: u64 = 64 * 1024;

/// The deadline of one frame being read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    started: Instant,
    received: u64,
}

impl Pace {
    /// A frame whose reading starts at `now`.
    pub(crate) fn starting(now: Instant) -> Self {
        Self {
            started: now,
            received: 0,
        }
    }

    /// Counts `n` more bytes received.
    pub(crate) fn received(&mut self, n: usize) {
        self.received = self.received.saturating_add(n as u64);
    }

    /// When the frame must be complete unless more bytes arrive first.
    pub(crate) fn deadline(&self) -> Instant {
        let earned = Duration::from_millis(self.received.saturating_mul(1000) / MIN_FRAME_RATE);
        self.started + FRAME_GRACE + earned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_moves_only_with_the_bytes_received() {
        let t0 = Instant::now();
        let mut pace = Pace::starting(t0);
        assert_eq!(pace.deadline(), t0 + FRAME_GRACE);
        // A byte at a time earns almost nothing: the deadline stays near the grace.
        for _ in 0..100 {
            pace.received(1);
        }
        assert_eq!(pace.deadline(), t0 + FRAME_GRACE + Duration::from_millis(1));
        // A frame arriving at the minimum rate always stays ahead of its deadline.
        let mut pace = Pace::starting(t0);
        pace.received(MIN_FRAME_RATE as usize * 20);
        assert_eq!(pace.deadline(), t0 + FRAME_GRACE + Duration::from_secs(20));
    }
}
