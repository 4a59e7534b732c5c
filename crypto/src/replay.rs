//! The sessions of deleted conversations: a bounded cache that outlives them, so a handshake
//! envelope stored somewhere and replayed later cannot open a session again with a message
//! that was already read.
//!
//! While a [`Conversation`] exists it refuses replays itself: a held session has used up its
//! message keys, and the ids of dropped sessions are remembered. The node deletes a whole
//! conversation when the user declines or blocks a request, and after that a replayed
//! handshake envelope would be answered again and shown as a new request. Before deleting
//! one, the caller *retires* it into the [`ReplayCache`] ([`ReplayCache::retire`]), which
//! remembers each of its sessions by [`SessionId`] (a hash of both PeerIds, our identity key
//! and the handshake, initiator's ephemeral key and prekey id included, so a replayed
//! handshake names the same id):
//!
//! - A session the peer opened and we never answered (the request that was declined): the
//!   peer's first ratchet key and the first counter on it we had not read. A message on that
//!   handshake with a counter at or above it is one we never read, sent by the peer after
//!   (or without knowing of) the decline: it opens the session again, as a new request, with
//!   the keys below that counter discarded. Every message read before is refused.
//! - Any other session (answered, initiated by us, or dropped): refused altogether.
//!
//! A refused handshake is [`DecryptError::ReplayedHandshake`], before any DH. Entries expire
//! [`REPLAY_CACHE_TTL_MS`] after retirement (by then the prekey the handshake used has
//! expired, and the responder refuses it anyway), and at most [`MAX_RETIRED_SESSIONS`] are
//! kept, the oldest forgotten first. Only the node writes entries (when the user deletes a
//! conversation), so no peer can fill the cache.
//!
//! The cache holds no secret (session ids, public keys, counters). `serde`, bincode 2
//! friendly; the caller persists it under its own key, in the same transaction as the
//! deletion.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    conversation::Conversation,
    envelope::Envelope,
    error::DecryptError,
    prekeys::{PREKEY_EXPIRY_GRACE_MS, PREKEY_LIFETIME_MS},
    x3dh::SessionId,
};

/// Most retired sessions remembered (about 250 KB encoded).
pub const MAX_RETIRED_SESSIONS: usize = 4_096;
/// How long a retired session is remembered: a prekey expires at most
/// [`PREKEY_LIFETIME_MS`] after a handshake on it was answered, and answers nothing
/// [`PREKEY_EXPIRY_GRACE_MS`] later.
pub const REPLAY_CACHE_TTL_MS: u64 = PREKEY_LIFETIME_MS + PREKEY_EXPIRY_GRACE_MS;

/// The sessions of deleted conversations, oldest first, with what may still open on them.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayCache {
    retired: Vec<Retired>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Retired {
    session: SessionId,
    /// `None`: nothing opens this session again.
    reopen: Option<Reopen>,
    retired_at: u64,
}

/// A session the peer opened and we never answered: its messages from `next` on were never
/// read.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Reopen {
    ratchet_key: [u8; 32],
    next: u32,
}

impl ReplayCache {
    /// An empty cache (also what to start from when none is stored yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers every session of `conversation`, which the caller is about to delete, at
    /// `now_ms`; forgets expired entries. Persist the cache in the same transaction as the
    /// deletion.
    pub fn retire(&mut self, conversation: &Conversation, now_ms: u64) {
        self.prune(now_ms);
        for session in conversation.sessions() {
            let reopen = session
                .unanswered_first_chain()
                .map(|(ratchet_key, next)| Reopen { ratchet_key, next });
            self.remember(session.id(), reopen, now_ms);
        }
        for &id in conversation.dropped_ids() {
            self.remember(id, None, now_ms);
        }
    }

    fn remember(&mut self, session: SessionId, reopen: Option<Reopen>, now_ms: u64) {
        self.retired.retain(|r| r.session != session);
        self.retired.push(Retired {
            session,
            reopen,
            retired_at: now_ms,
        });
        if self.retired.len() > MAX_RETIRED_SESSIONS {
            let excess = self.retired.len() - MAX_RETIRED_SESSIONS;
            self.retired.drain(..excess);
        }
    }

    /// Forgets the sessions retired more than [`REPLAY_CACHE_TTL_MS`] before `now_ms`.
    /// Returns how many.
    pub fn prune(&mut self, now_ms: u64) -> usize {
        let before = self.retired.len();
        self.retired
            .retain(|r| now_ms <= r.retired_at.saturating_add(REPLAY_CACHE_TTL_MS));
        before - self.retired.len()
    }

    /// Whether session `id` is remembered.
    pub fn remembers(&self, id: &SessionId) -> bool {
        self.retired.iter().any(|r| r.session == *id)
    }

    /// How many sessions are remembered.
    pub fn len(&self) -> usize {
        self.retired.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.retired.is_empty()
    }

    /// Whether the handshake envelope `envelope` (of a session not held) may open its
    /// session: `Ok(None)` if the session was never retired, `Ok(Some(next))` if it may
    /// reopen with the keys below `next` discarded, otherwise a replay.
    pub(crate) fn check(&self, envelope: &Envelope) -> Result<Option<u32>, DecryptError> {
        let Some(retired) = self
            .retired
            .iter()
            .rev()
            .find(|r| r.session == envelope.session_id)
        else {
            return Ok(None);
        };
        match retired.reopen {
            Some(r)
                if r.ratchet_key == envelope.header.ratchet_key
                    && envelope.header.counter >= r.next =>
            {
                Ok(Some(r.next))
            }
            _ => Err(DecryptError::ReplayedHandshake(envelope.session_id)),
        }
    }
}

impl fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayCache")
            .field("retired", &self.retired.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratchet::RatchetHeader;

    fn envelope(session: u8, ratchet_key: u8, counter: u32) -> Envelope {
        Envelope {
            session_id: SessionId([session; 16]),
            handshake: None,
            header: RatchetHeader {
                ratchet_key: [ratchet_key; 32],
                previous_chain_length: 0,
                counter,
            },
            nonce: [0; 24],
            ciphertext: vec![0; 16],
        }
    }

    /// A retired session for the tests: its id byte, the ratchet key byte and counter it may
    /// reopen from, and when it was retired.
    type Entry = (u8, Option<(u8, u32)>, u64);

    fn cache_with(entries: &[Entry]) -> ReplayCache {
        let mut cache = ReplayCache::new();
        for &(session, reopen, at) in entries {
            let reopen = reopen.map(|(k, next)| Reopen {
                ratchet_key: [k; 32],
                next,
            });
            cache.remember(SessionId([session; 16]), reopen, at);
        }
        cache
    }

    #[test]
    fn a_retired_session_reopens_only_past_what_was_read() {
        let cache = cache_with(&[(1, Some((7, 3)), 0), (2, None, 0)]);
        assert_eq!(cache.check(&envelope(9, 7, 0)), Ok(None), "never retired");
        let replayed = Err(DecryptError::ReplayedHandshake(SessionId([1; 16])));
        assert_eq!(cache.check(&envelope(1, 7, 2)), replayed);
        assert_eq!(cache.check(&envelope(1, 8, 5)), replayed, "another chain");
        assert_eq!(cache.check(&envelope(1, 7, 3)), Ok(Some(3)));
        assert_eq!(cache.check(&envelope(1, 7, 90)), Ok(Some(3)));
        assert_eq!(
            cache.check(&envelope(2, 7, 90)),
            Err(DecryptError::ReplayedHandshake(SessionId([2; 16])))
        );
        // Retired again later: the newer entry replaces the older.
        let mut cache = cache;
        cache.remember(SessionId([1; 16]), None, 5);
        assert_eq!(cache.len(), 2);
        assert!(cache.check(&envelope(1, 7, 90)).is_err());
    }

    #[test]
    fn bounded_oldest_first_and_expiring() {
        let mut cache = ReplayCache::new();
        for i in 0..MAX_RETIRED_SESSIONS + 10 {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            cache.remember(SessionId(id), None, i as u64);
        }
        assert_eq!(cache.len(), MAX_RETIRED_SESSIONS);
        assert!(!cache.remembers(&SessionId([0; 16])));
        let mut last = [0u8; 16];
        last[..8].copy_from_slice(&((MAX_RETIRED_SESSIONS + 9) as u64).to_be_bytes());
        assert!(cache.remembers(&SessionId(last)));

        assert_eq!(cache.prune(10 + REPLAY_CACHE_TTL_MS), 0, "none expired yet");
        assert_eq!(cache.prune(20 + REPLAY_CACHE_TTL_MS), 10);
        assert_eq!(cache.prune(u64::MAX), MAX_RETIRED_SESSIONS - 10);
        assert!(cache.is_empty());
    }

    #[test]
    fn survives_bincode_and_debug_shows_only_the_count() {
        let cache = cache_with(&[(3, Some((4, 5)), 6), (7, None, 8)]);
        let bytes = paperplane_protocol::encode(&cache);
        let back: ReplayCache =
            paperplane_protocol::decode(&bytes, paperplane_protocol::limits::MAX_FRAME_BYTES)
                .expect("decodes");
        assert_eq!(back, cache);
        assert_eq!(format!("{cache:?}"), "ReplayCache { retired: 2 }");
        // The largest cache stays far below a frame.
        let mut full = ReplayCache::new();
        for i in 0..MAX_RETIRED_SESSIONS {
            let mut id = [0xFFu8; 16];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let reopen = Some(Reopen {
                ratchet_key: [0xFF; 32],
                next: u32::MAX - 1,
            });
            full.remember(SessionId(id), reopen, u64::MAX);
        }
        assert!(paperplane_protocol::encode(&full).len() < 300 * 1024);
    }
}
