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
/// Most unread messages a request chat holds; beyond, the stranger is told to try later
/// (temporary) until the user opens or accepts the request.
pub(crate) const MAX_UNREAD_PER_REQUEST: u32 = 50;
/// Most skipped message keys a stranger's conversation may make this node keep (a message
/// that arrives after later ones needs its key kept). Accepted chats have the crypto's own
/// bound (2,000 per session); a stranger has no reason to skip far, and each kept key is
/// stored.
pub(crate) const MAX_SKIPPED_FOR_STRANGERS: usize = 64;
/// Most request chats kept; a new one beyond it drops the longest-quiet ones (with their
/// messages and sessions). With [`MAX_UNREAD_PER_REQUEST`] this bounds what strangers can
/// store: 500 × 50 messages of at most 4 KiB, about 100 MiB in the worst case.
pub(crate) const MAX_REQUEST_CHATS: usize = 500;
/// Most handshakes for a new session one peer may have answered a minute: each costs a
/// signature check and several X25519 operations, and a legitimate peer needs one per
/// session.
pub(crate) const HANDSHAKES_PER_MINUTE: u32 = 16;
/// Undecryptable envelopes from one peer opened in a minute: each may have cost up to a
/// thousand key derivations. Beyond it, that peer's envelopes are refused unopened (as rate
/// limited) for the rest of the minute.
pub(crate) const UNDECRYPTABLE_PER_MINUTE: u32 = 32;
/// Strikes, within [`BAN_MS`], before a peer is refused altogether and disconnected. A strike
/// is a minute in which the peer used up that budget, or a connection on which it opened more
/// streams than a peer may hold (`net::StreamCaps`). A peer whose session broke honestly uses
/// the budget up once and then starts a fresh session; one that keeps at it is flooding.
pub(crate) const STRIKES_BEFORE_BAN: u32 = 3;
/// How long a peer that kept misbehaving is refused (10 minutes).
pub(crate) const BAN_MS: u64 = 10 * 60_000;
/// Peers whose budgets are remembered; beyond it, those with nothing to remember go first.
const MAX_TRACKED_PEERS: usize = 4096;

/// Where a chat is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    /// The inbox.
    Inbox,
    /// Message requests: first contact from someone the user does not follow.
    Requests,
}

/// What a peer kept doing to be refused for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Misbehaviour {
    /// It kept sending envelopes that could not be decrypted.
    Undecryptable,
    /// It kept opening more streams than a peer may hold.
    TooManyStreams,
}

impl std::fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Undecryptable => "it kept sending messages that could not be decrypted",
            Self::TooManyStreams => "it kept opening more streams than a peer may hold",
        })
    }
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
    /// Unread messages in their chat.
    pub(crate) unread: u32,
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

/// What one peer has spent of its budgets for expensive work.
#[derive(Clone, Copy, Debug, Default)]
struct Budget {
    handshakes: RateWindow,
    undecryptable: RateWindow,
    /// Strikes (see [`STRIKES_BEFORE_BAN`]) since `first_strike`.
    strikes: u32,
    first_strike: u64,
    /// The window that gave the last strike (one strike per window).
    struck_window: Option<u64>,
    banned_until: u64,
    /// Why it was last refused.
    banned_for: Option<Misbehaviour>,
}

impl Budget {
    /// Counts a strike for `why` at `now`; `true` if the peer is now refused for [`BAN_MS`].
    fn strike(&mut self, why: Misbehaviour, now: u64) -> bool {
        if now.saturating_sub(self.first_strike) > BAN_MS {
            self.strikes = 0;
            self.first_strike = now;
        }
        self.strikes += 1;
        if self.strikes >= STRIKES_BEFORE_BAN {
            self.banned_until = now.saturating_add(BAN_MS);
            self.banned_for = Some(why);
            self.strikes = 0;
            return true;
        }
        false
    }

    /// Whether nothing here matters any more at `now`.
    fn is_spent(&self, now: u64) -> bool {
        self.banned_until <= now
            && self.handshakes.remaining(1, now) == 1
            && self.undecryptable.remaining(1, now) == 1
    }
}

/// The receiving side's state across senders: the overall budget for requests and each
/// peer's budget for expensive work, charged before the work is done.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    requests: RateWindow,
    budgets: std::collections::HashMap<PeerId, Budget>,
}

impl Inbox {
    /// Whether `peer` is refused at `now` for having misbehaved.
    pub(crate) fn is_banned(&self, peer: &PeerId, now: u64) -> bool {
        self.banned(peer, now).is_some()
    }

    /// Why `peer` is refused at `now`, if it is.
    pub(crate) fn banned(&self, peer: &PeerId, now: u64) -> Option<Misbehaviour> {
        self.budgets
            .get(peer)
            .filter(|b| b.banned_until > now)
            .and_then(|b| b.banned_for)
    }

    /// Records that `peer` opened more streams than a peer may hold on one connection (the
    /// actor disconnects it); `true` if it is now refused for [`BAN_MS`].
    pub(crate) fn too_many_streams(&mut self, peer: PeerId, now: u64) -> bool {
        self.budget(peer, now)
            .strike(Misbehaviour::TooManyStreams, now)
    }

    /// Charges `peer` one handshake; `false` if its budget for the minute is spent (the
    /// envelope is then refused as rate limited without being opened).
    pub(crate) fn charge_handshake(&mut self, peer: PeerId, now: u64) -> bool {
        let budget = self.budget(peer, now);
        if budget.handshakes.remaining(HANDSHAKES_PER_MINUTE, now) == 0 {
            return false;
        }
        budget.handshakes.record(now);
        true
    }

    /// Whether an envelope from `peer` may be opened at `now`: its budget of undecryptable
    /// envelopes for the minute is not used up.
    pub(crate) fn may_open(&self, peer: &PeerId, now: u64) -> bool {
        self.budgets.get(peer).is_none_or(|b| {
            b.undecryptable.remaining(UNDECRYPTABLE_PER_MINUTE, now) > 0 && b.banned_until <= now
        })
    }

    /// Records an envelope from `peer` that did not decrypt; `true` if `peer` is now
    /// refused for [`BAN_MS`] (the actor then disconnects it).
    pub(crate) fn undecryptable(&mut self, peer: PeerId, now: u64) -> bool {
        let budget = self.budget(peer, now);
        budget.undecryptable.record(now);
        if budget
            .undecryptable
            .remaining(UNDECRYPTABLE_PER_MINUTE, now)
            > 0
            || budget.struck_window == Some(budget.undecryptable.start)
        {
            return false;
        }
        budget.struck_window = Some(budget.undecryptable.start);
        budget.strike(Misbehaviour::Undecryptable, now)
    }

    fn budget(&mut self, peer: PeerId, now: u64) -> &mut Budget {
        if self.budgets.len() >= MAX_TRACKED_PEERS && !self.budgets.contains_key(&peer) {
            self.budgets.retain(|_, b| !b.is_spent(now));
            if self.budgets.len() >= MAX_TRACKED_PEERS {
                // Every one is busy: forget an unbanned one rather than grow.
                if let Some(p) = self
                    .budgets
                    .iter()
                    .find(|(_, b)| b.banned_until <= now)
                    .map(|(p, _)| *p)
                {
                    self.budgets.remove(&p);
                }
            }
        }
        self.budgets.entry(peer).or_default()
    }

    /// Decides on a request from `peer`, a sender of `standing`, at `now`.
    pub(crate) fn admit(&self, peer: &PeerId, standing: &Standing, now: u64) -> Admission {
        if standing.blocked {
            return Admission::Refused(DmRejection::Blocked);
        }
        if self.is_banned(peer, now) {
            return Admission::Refused(DmRejection::RateLimited);
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
                .min(self.requests.remaining(REQUESTS_PER_MINUTE_OVERALL, now))
                .min(MAX_UNREAD_PER_REQUEST.saturating_sub(standing.unread)),
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

/// The request chats to drop so that at most [`MAX_REQUEST_CHATS`] remain: the ones quiet the
/// longest, never `keep` (the one just written to, whose message was acknowledged).
/// `requests` are (peer, last activity) pairs in any order.
pub(crate) fn requests_to_drop(mut requests: Vec<(PeerId, u64)>, keep: &PeerId) -> Vec<PeerId> {
    if requests.len() <= MAX_REQUEST_CHATS {
        return Vec::new();
    }
    requests.sort_by_key(|(peer, at)| (peer != keep, std::cmp::Reverse(*at), *peer));
    requests
        .split_off(MAX_REQUEST_CHATS)
        .into_iter()
        .map(|(peer, _)| peer)
        .collect()
}

/// What one request has shown so far: the ids accepted and every payload seen.
#[derive(Debug, Default)]
pub(crate) struct Seen<'a> {
    /// Ids of the messages accepted from this request.
    pub(crate) ids: HashSet<MessageId>,
    payloads: HashSet<&'a [u8]>,
}

/// Checks an envelope needs no key for: addressee, size, whether its id was accepted earlier
/// in the same request, and whether the same bytes came earlier in it (a copy is refused
/// without being opened again). `None` means it may be opened.
pub(crate) fn precheck<'a>(
    envelope: &'a SealedEnvelope,
    me: &PeerId,
    seen: &mut Seen<'a>,
) -> Option<DmResult> {
    if envelope.recipient != *me {
        Some(DmResult::Rejected(DmRejection::NotForMe))
    } else if envelope.payload.len() > MAX_SEALED_BYTES {
        Some(DmResult::Rejected(DmRejection::TooLarge))
    } else if seen.ids.contains(&envelope.id) {
        Some(DmResult::Duplicate)
    } else if !seen.payloads.insert(&envelope.payload) {
        Some(DmResult::Rejected(DmRejection::Malformed))
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
        DmResult::Rejected(DmRejection::Undecryptable) => super::Outcome::Undecryptable,
        DmResult::Rejected(r) => super::Outcome::Refused(r.to_string()),
    }
}

#[cfg(test)]
#[path = "inbox_tests.rs"]
mod tests;
