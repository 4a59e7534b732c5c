//! The receiving side's rules: who may write, into which folder, how fast; what is checked
//! about an envelope before any cryptography; and how a received timestamp is trusted.
//!
//! Pure: the actor reads the sender's standing from the store, asks [`Inbox::admit`], and
//! carries out the answer; the store applies [`RateWindow::record`] inside the transaction
//! that stores the messages.

use std::collections::HashSet;

use paperplane_protocol::{
    dm::MAX_SEALED_BYTES, limits::MAX_CLOCK_SKEW_MS, DmRejection, DmResult, MessageId, PeerId,
    SealedEnvelope,
};
use serde::{Deserialize, Serialize};

/// Most messages a minute one stranger may send into the requests folder.
pub(crate) const REQUESTS_PER_MINUTE: u32 = 30;
/// Most messages a minute all strangers together may send into the requests folder (peer
/// ids are free, so the per-sender limit alone bounds nothing).
pub(crate) const REQUESTS_PER_MINUTE_OVERALL: u32 = 300;
/// The length of a rate window.
pub(crate) const RATE_WINDOW_MS: u64 = 60_000;

/// Where a chat is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    /// The inbox.
    Inbox,
    /// Message requests: first contact from someone the user does not follow.
    Requests,
}

/// A fixed one-minute window counting messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RateWindow {
    /// When the window opened (Unix ms).
    pub(crate) start: u64,
    /// Messages counted in it.
    pub(crate) count: u32,
}

impl RateWindow {
    /// How many more of `limit` fit at `now`.
    pub(crate) fn remaining(&self, limit: u32, now: u64) -> u32 {
        if now.saturating_sub(self.start) <= RATE_WINDOW_MS {
            limit.saturating_sub(self.count)
        } else {
            limit
        }
    }

    /// Counts one message at `now`, opening a new window if the current one is over.
    pub(crate) fn record(&mut self, now: u64) {
        if now.saturating_sub(self.start) > RATE_WINDOW_MS {
            self.start = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
    }
}

/// What the store knows about a sender, read before looking at their envelopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Standing {
    /// The user blocked them.
    pub(crate) blocked: bool,
    /// The user follows them.
    pub(crate) followed: bool,
    /// Their chat, if there is one: its folder and its request window.
    pub(crate) chat: Option<(Folder, RateWindow)>,
}

/// Whether a sender's envelopes are looked at, and how many of them may be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Every envelope is refused with this.
    Refused(DmRejection),
    /// Envelopes are opened; at most `allowance` new messages are accepted into `folder`
    /// (the rest are answered [`DmRejection::RateLimited`]).
    Admitted {
        /// Where the chat is (or will be) listed.
        folder: Folder,
        /// New messages that may still be accepted now.
        allowance: u32,
    },
}

/// The receiving side's state across senders: the overall budget for requests.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    requests: RateWindow,
}

impl Inbox {
    /// Decides on a request from a sender of `standing` at `now`.
    pub(crate) fn admit(&self, standing: &Standing, now: u64) -> Admission {
        if standing.blocked {
            return Admission::Refused(DmRejection::Blocked);
        }
        let (folder, window) = match standing.chat {
            Some((folder, window)) => (folder, window),
            None if standing.followed => (Folder::Inbox, RateWindow::default()),
            None => (Folder::Requests, RateWindow::default()),
        };
        let allowance = match folder {
            Folder::Inbox => u32::MAX,
            Folder::Requests => window
                .remaining(REQUESTS_PER_MINUTE, now)
                .min(self.requests.remaining(REQUESTS_PER_MINUTE_OVERALL, now)),
        };
        Admission::Admitted { folder, allowance }
    }

    /// Counts `n` new messages accepted into the requests folder at `now`.
    pub(crate) fn accepted_requests(&mut self, n: usize, now: u64) {
        for _ in 0..n {
            self.requests.record(now);
        }
    }
}

/// Checks an envelope needs no key for: addressee, size, and whether its id came earlier in
/// the same request. `None` means it may be opened.
pub(crate) fn precheck(
    envelope: &SealedEnvelope,
    me: &PeerId,
    earlier: &HashSet<MessageId>,
) -> Option<DmResult> {
    if envelope.recipient != *me {
        Some(DmResult::Rejected(DmRejection::NotForMe))
    } else if envelope.payload.len() > MAX_SEALED_BYTES {
        Some(DmResult::Rejected(DmRejection::TooLarge))
    } else if earlier.contains(&envelope.id) {
        Some(DmResult::Duplicate)
    } else {
        None
    }
}

/// The timestamp a received message is filed under: the sender's, but never further ahead of
/// the receiver's clock than the allowed skew, so no one can pin a message to the top.
pub(crate) fn clamp_sent_at(sent_at: u64, now: u64) -> u64 {
    sent_at.min(now.saturating_add(MAX_CLOCK_SKEW_MS))
}

/// The timestamp of the next message we send in a chat: now, but strictly after the last
/// one, so a chat keeps the order it was written in even if the clock steps back.
pub(crate) fn next_sent_at(last_sent_at: u64, now: u64) -> u64 {
    now.max(last_sent_at.saturating_add(1))
}

/// What the recipient's answer to one envelope means for the outbox.
pub(crate) fn outcome_of(result: &DmResult) -> super::Outcome {
    match result {
        DmResult::Stored | DmResult::Duplicate => super::Outcome::Delivered,
        DmResult::Rejected(r) if r.is_temporary() => super::Outcome::TryLater,
        DmResult::Rejected(r) => super::Outcome::Refused(r.to_string()),
    }
}

#[cfg(test)]
#[path = "inbox_tests.rs"]
mod tests;
