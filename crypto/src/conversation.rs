//! All sessions with one peer, and which one we send on: the state the node persists per
//! peer.
//!
//! Two peers may start sessions with each other at the same time, and a peer that lost its
//! state starts a new one. Every session a conversation holds can receive; exactly one, the
//! *active* session, is used to send. The rule that makes both sides converge on one active
//! session:
//!
//! 1. **Start.** We start a session only when we have none to send on (or to force a reset);
//!    the new session becomes active.
//! 2. **Incoming handshake** (an envelope for a session we do not hold, with a handshake): the
//!    new responder session becomes active, *except* in a simultaneous initiation: if our
//!    active session is one we initiated and the peer has not yet replied on it, the session
//!    whose initiator has the lower PeerId (lexicographic order of the PeerIds' bytes) stays
//!    or becomes active. Both sides evaluate the same pair the same way. Otherwise (our
//!    active session is confirmed) the peer has started over, e.g. after losing its state,
//!    and we follow it.
//! 3. **First reply on a session we initiated** that is not active: the peer chose it (by
//!    rule 2 on its side), so it becomes active.
//!
//! Each rule fires at most once per session (a handshake arrives once, a session is confirmed
//! once), so the active session settles; the property tests drive random delivery orders of
//! simultaneous starts and check that both sides end on the same session. At most
//! [`MAX_SESSIONS_PER_PEER`] sessions are held (the oldest inactive one is dropped); the ids
//! of dropped sessions are remembered (up to [`MAX_REMEMBERED_SESSION_IDS`]) so a replayed
//! handshake cannot recreate them. A handshake replayed after that, or after the whole
//! conversation was deleted, is stopped by the caller's [`ReplayCache`] (passed to
//! [`Conversation::decrypt_at`]), which outlives conversations, and in any case once its
//! prekey has expired or rotated out (there are no one-time prekeys).

use std::fmt;

use paperplane_protocol::{MessagingKeys, PeerId};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::{
    dh::{reserve_wiping, wipe_spare_capacity},
    envelope::Envelope,
    error::{DecryptError, EncryptError},
    keys::{verify_messaging_keys, MessagingIdentity},
    prekeys::PrekeyStore,
    replay::ReplayCache,
    session::{Role, Session},
    x3dh::{HandshakeError, SessionId},
};

/// Most sessions held with one peer.
pub const MAX_SESSIONS_PER_PEER: usize = 4;
/// How many ids of dropped sessions are remembered to refuse replayed handshakes.
pub const MAX_REMEMBERED_SESSION_IDS: usize = 64;

/// Every session with one peer and the choice of the one to send on. `serde`, secrets
/// included: the node persists it per peer. Like [`Session`], its operations take `&self` and
/// return the new state to commit.
#[derive(Clone, Serialize, Deserialize)]
pub struct Conversation {
    remote: PeerId,
    /// Oldest first.
    sessions: Vec<Session>,
    active: Option<SessionId>,
    /// Ids of dropped sessions, oldest first.
    dropped: Vec<SessionId>,
}

impl Conversation {
    /// An empty conversation with `remote`.
    pub fn new(remote: PeerId) -> Self {
        Self {
            remote,
            sessions: Vec::new(),
            active: None,
            dropped: Vec::new(),
        }
    }

    /// The peer.
    pub fn remote(&self) -> &PeerId {
        &self.remote
    }

    /// Whether there is a session to send on. If not, [`Self::start`] one from the peer's
    /// published keys.
    pub fn can_send(&self) -> bool {
        self.active_session().is_some()
    }

    /// The session we send on.
    pub fn active_session(&self) -> Option<&Session> {
        let id = self.active?;
        self.sessions.iter().find(|s| s.id() == id)
    }

    /// Every session held, oldest first.
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// The ids of the dropped sessions remembered, oldest first.
    pub(crate) fn dropped_ids(&self) -> &[SessionId] {
        &self.dropped
    }

    /// Starts a new session from the messaging keys the peer published (verified here at
    /// `now_ms`) and makes it the active one.
    pub fn start<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        me: &MessagingIdentity,
        keys: &MessagingKeys,
        now_ms: u64,
    ) -> Result<Self, HandshakeError> {
        let bundle = verify_messaging_keys(&self.remote, keys, now_ms)?;
        let session = Session::initiate(rng, me, &bundle)?;
        let mut next = self.clone();
        next.active = Some(session.id());
        next.insert(session);
        Ok(next)
    }

    /// Seals `plaintext` on the active session: the new state and the envelope to send.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<(Self, Envelope), EncryptError> {
        let mut next = self.clone();
        let envelope = next.encrypt_in_place(rng, plaintext)?;
        Ok((next, envelope))
    }

    /// Seals `plaintext` on the active session, advancing this state; on error the state is
    /// unchanged. For a sender encrypting many messages in a row, without a copy of the whole
    /// conversation per message.
    pub fn encrypt_in_place<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<Envelope, EncryptError> {
        let index = self.active_index().ok_or(EncryptError::NoSession)?;
        let (session, envelope) = self.sessions[index].encrypt(rng, plaintext)?;
        self.sessions[index] = session;
        Ok(envelope)
    }

    /// Opens an envelope from the peer at our clock `now_ms` with whichever session it names,
    /// answering its handshake if the session is new: the new state and the plaintext, or an
    /// error and nothing.
    ///
    /// A new session's handshake is refused if its prekey is past its lifetime
    /// ([`HandshakeError::PrekeyExpired`], after a grace of
    /// [`PREKEY_EXPIRY_GRACE_MS`](crate::PREKEY_EXPIRY_GRACE_MS)), and if its session
    /// belonged to a deleted conversation retired into `replays`, unless the message is one
    /// never read there ([`DecryptError::ReplayedHandshake`]; see [`ReplayCache`]). Before
    /// deleting a conversation, retire it ([`ReplayCache::retire`]).
    pub fn decrypt_at(
        &self,
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        replays: &ReplayCache,
        envelope: &Envelope,
        now_ms: u64,
    ) -> Result<(Self, Vec<u8>), DecryptError> {
        let mut next = self.clone();
        let plaintext = next.decrypt_with(me, prekeys, Some((replays, now_ms)), envelope)?;
        Ok((next, plaintext))
    }

    /// Opens an envelope like [`Conversation::decrypt_at`], advancing this state; on error
    /// the state is unchanged (the session involved is decrypted on a copy, which replaces it
    /// only on success). For a receiver opening many envelopes in a row.
    pub fn decrypt_in_place_at(
        &mut self,
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        replays: &ReplayCache,
        envelope: &Envelope,
        now_ms: u64,
    ) -> Result<Vec<u8>, DecryptError> {
        self.decrypt_with(me, prekeys, Some((replays, now_ms)), envelope)
    }

    /// [`Conversation::decrypt_at`] without a clock or a replay cache: a new session's
    /// handshake is answered on any prekey still held, expired or not, and a handshake
    /// answered before opens a session again once this conversation no longer remembers it
    /// (e.g. after it was deleted). Kept for callers not yet passing them; prefer
    /// [`Conversation::decrypt_at`].
    pub fn decrypt(
        &self,
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        envelope: &Envelope,
    ) -> Result<(Self, Vec<u8>), DecryptError> {
        let mut next = self.clone();
        let plaintext = next.decrypt_with(me, prekeys, None, envelope)?;
        Ok((next, plaintext))
    }

    /// [`Conversation::decrypt_in_place_at`] without a clock or a replay cache, with the
    /// caveats of [`Conversation::decrypt`]. Kept for callers not yet passing them; prefer
    /// [`Conversation::decrypt_in_place_at`].
    pub fn decrypt_in_place(
        &mut self,
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        envelope: &Envelope,
    ) -> Result<Vec<u8>, DecryptError> {
        self.decrypt_with(me, prekeys, None, envelope)
    }

    /// Opens an envelope in place; `checks` are the replay cache and the clock, if given.
    fn decrypt_with(
        &mut self,
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        checks: Option<(&ReplayCache, u64)>,
        envelope: &Envelope,
    ) -> Result<Vec<u8>, DecryptError> {
        envelope.validate()?;
        let id = envelope.session_id;
        if let Some(index) = self.sessions.iter().position(|s| s.id() == id) {
            let old = &self.sessions[index];
            let first_reply = old.role() == Role::Initiator && !old.is_confirmed();
            let (session, plaintext) = old.decrypt(envelope)?;
            self.sessions[index] = session;
            if first_reply {
                // Rule 3: the peer chose our session.
                self.active = Some(id);
            }
            return Ok(plaintext);
        }
        if self.dropped.contains(&id) {
            return Err(DecryptError::ReplayedHandshake(id));
        }
        let (session, plaintext) = Session::answer(me, prekeys, checks, &self.remote, envelope)?;
        // Rule 2.
        let keep_ours = match self.active_session() {
            Some(ours) if ours.role() == Role::Initiator && !ours.is_confirmed() => {
                ours.local().to_bytes() < self.remote.to_bytes()
            }
            _ => false,
        };
        if !keep_ours {
            self.active = Some(id);
        }
        self.insert(session);
        Ok(plaintext)
    }

    fn active_index(&self) -> Option<usize> {
        let id = self.active?;
        self.sessions.iter().position(|s| s.id() == id)
    }

    /// Adds a session, dropping the oldest inactive ones beyond the bound.
    fn insert(&mut self, session: Session) {
        reserve_wiping(&mut self.sessions, 1);
        self.sessions.push(session);
        while self.sessions.len() > MAX_SESSIONS_PER_PEER {
            let Some(oldest) = self
                .sessions
                .iter()
                .position(|s| Some(s.id()) != self.active)
            else {
                break;
            };
            let dropped = self.sessions.remove(oldest);
            self.dropped.push(dropped.id());
            // The sessions after it moved down; the last slot keeps a copy of their keys.
            wipe_spare_capacity(&mut self.sessions);
        }
        if self.dropped.len() > MAX_REMEMBERED_SESSION_IDS {
            let excess = self.dropped.len() - MAX_REMEMBERED_SESSION_IDS;
            self.dropped.drain(..excess);
        }
    }
}

impl fmt::Debug for Conversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversation")
            .field("remote", &self.remote)
            .field("sessions", &self.sessions)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}
