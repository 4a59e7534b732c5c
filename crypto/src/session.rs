//! One end-to-end encrypted 1:1 session: an X3DH handshake followed by a Double Ratchet,
//! sealing [`Envelope`]s.
//!
//! Every operation is a pure function of the old state: [`Session::encrypt`] and
//! [`Session::decrypt`] take `&self` and return the new state with their result, so the caller
//! commits the new state together with the ciphertext (outbox row) or the plaintext (and its
//! replay mark) in one store transaction. A failed decryption leaves nothing to commit.

use std::fmt;

use paperplane_protocol::PeerId;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::{
    dh::Hex,
    envelope::{associated_data, open, seal, Envelope, MAX_PLAINTEXT_BYTES},
    error::{DecryptError, EncryptError},
    keys::{MessagingIdentity, PeerPrekeyBundle},
    prekeys::PrekeyStore,
    ratchet::Ratchet,
    replay::ReplayCache,
    x3dh::{self, HandshakeError, HandshakeHeader, SessionId},
};

/// Which side of the handshake this session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// We sent the handshake.
    Initiator,
    /// We answered the peer's handshake.
    Responder,
}

/// A 1:1 session's full state, secrets included. `serde`, for the caller's store; never
/// printed in `Debug`.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    id: SessionId,
    local: PeerId,
    remote: PeerId,
    role: Role,
    remote_identity_key: [u8; 32],
    /// Repeated on our messages until the peer has replied (initiator only).
    pending_handshake: Option<HandshakeHeader>,
    ratchet: Ratchet,
}

impl Session {
    /// Starts a session with a peer whose keys the caller verified
    /// ([`verify_messaging_keys`](crate::verify_messaging_keys)).
    pub fn initiate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        me: &MessagingIdentity,
        peer: &PeerPrekeyBundle,
    ) -> Result<Self, HandshakeError> {
        let (header, handshake) = x3dh::initiate(rng, me, peer)?;
        let ratchet = Ratchet::initiator(rng, handshake.root_key, peer.prekey)?;
        Ok(Self {
            id: handshake.session_id,
            local: *me.owner(),
            remote: peer.peer,
            role: Role::Initiator,
            remote_identity_key: peer.identity_key,
            pending_handshake: Some(header),
            ratchet,
        })
    }

    /// Answers the handshake on an envelope from `from` (the authenticated sender) at the
    /// responder's clock `now_ms`, and decrypts it: the new session and the first plaintext,
    /// or an error and nothing. Refused before any DH: a handshake on a prekey past its
    /// lifetime ([`HandshakeError::PrekeyExpired`], after a grace of
    /// [`PREKEY_EXPIRY_GRACE_MS`](crate::PREKEY_EXPIRY_GRACE_MS)), and one of a session
    /// retired into `replays` unless the message is one never read
    /// ([`DecryptError::ReplayedHandshake`]; see [`ReplayCache`]).
    pub fn respond_at(
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        replays: &ReplayCache,
        from: &PeerId,
        envelope: &Envelope,
        now_ms: u64,
    ) -> Result<(Self, Vec<u8>), DecryptError> {
        Self::answer(me, prekeys, Some((replays, now_ms)), from, envelope)
    }

    /// Answers the handshake like [`Self::respond_at`] but without a clock or a replay cache:
    /// any prekey still held answers, expired or not, and a handshake answered before opens
    /// a session again once no conversation remembers it. Kept for callers not yet passing
    /// them; prefer [`Self::respond_at`].
    pub fn respond(
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        from: &PeerId,
        envelope: &Envelope,
    ) -> Result<(Self, Vec<u8>), DecryptError> {
        Self::answer(me, prekeys, None, from, envelope)
    }

    /// [`Self::respond_at`], with the replay cache and the clock optional together.
    pub(crate) fn answer(
        me: &MessagingIdentity,
        prekeys: &PrekeyStore,
        checks: Option<(&ReplayCache, u64)>,
        from: &PeerId,
        envelope: &Envelope,
    ) -> Result<(Self, Vec<u8>), DecryptError> {
        envelope.validate()?;
        let header = envelope
            .handshake
            .as_ref()
            .ok_or(DecryptError::UnknownSession(envelope.session_id))?;
        // A session of a deleted conversation: refused, or reopened past what was read.
        let (resume_at, now_ms) = match checks {
            Some((replays, now_ms)) => (replays.check(envelope)?, Some(now_ms)),
            None => (None, None),
        };
        let (handshake, prekey) = x3dh::respond(me, prekeys, from, header, now_ms)?;
        if handshake.session_id != envelope.session_id {
            return Err(HandshakeError::SessionIdMismatch.into());
        }
        let mut ratchet = Ratchet::responder(handshake.root_key, prekey);
        if let Some(next) = resume_at {
            ratchet.resume_first_chain(&envelope.header.ratchet_key, next)?;
        }
        let session = Self {
            id: handshake.session_id,
            local: *me.owner(),
            remote: *from,
            role: Role::Responder,
            remote_identity_key: header.identity_key,
            pending_handshake: None,
            ratchet,
        };
        session.decrypt(envelope)
    }

    /// Seals `plaintext`: the new state and the envelope to send. Persist both before
    /// sending; a retry resends the stored envelope, never re-encrypts.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<(Self, Envelope), EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_BYTES {
            return Err(EncryptError::PlaintextTooLarge {
                len: plaintext.len(),
                max: MAX_PLAINTEXT_BYTES,
            });
        }
        let mut next = self.clone();
        let (header, key) = next.ratchet.next_send(rng)?;
        let handshake = self.pending_handshake.clone();
        let ad = associated_data(
            &self.local,
            &self.remote,
            &self.id,
            &header,
            handshake.as_ref(),
        );
        let (nonce, ciphertext) = seal(rng, &key, &ad, plaintext);
        Ok((
            next,
            Envelope {
                session_id: self.id,
                handshake,
                header,
                nonce,
                ciphertext,
            },
        ))
    }

    /// Opens an envelope of this session from the peer: the new state and the plaintext, or
    /// an error and nothing (replays, tampering, misrouting and over-bound counters all fail
    /// here without touching `self`).
    pub fn decrypt(&self, envelope: &Envelope) -> Result<(Self, Vec<u8>), DecryptError> {
        envelope.validate()?;
        if envelope.session_id != self.id {
            return Err(DecryptError::UnknownSession(envelope.session_id));
        }
        let mut next = self.clone();
        let key = next.ratchet.receive(&envelope.header)?;
        let ad = associated_data(
            &self.remote,
            &self.local,
            &self.id,
            &envelope.header,
            envelope.handshake.as_ref(),
        );
        let plaintext = open(&key, &ad, &envelope.nonce, &envelope.ciphertext)?;
        // The peer has replied: it holds the session, the handshake need not travel again.
        next.pending_handshake = None;
        Ok((next, plaintext))
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Which side of the handshake we are.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Our PeerId.
    pub fn local(&self) -> &PeerId {
        &self.local
    }

    /// The peer's PeerId.
    pub fn remote(&self) -> &PeerId {
        &self.remote
    }

    /// The peer's certified X25519 identity key (for safety numbers or key pinning).
    pub fn remote_identity_key(&self) -> [u8; 32] {
        self.remote_identity_key
    }

    /// Whether we have received from the peer on this session (always true for a
    /// responder). Until then our messages carry the handshake.
    pub fn is_confirmed(&self) -> bool {
        self.pending_handshake.is_none()
    }

    /// How many skipped message keys are stored.
    pub fn stored_skipped_keys(&self) -> usize {
        self.ratchet.stored_skipped()
    }

    /// How many receiving chains are kept.
    pub fn receiving_chains(&self) -> usize {
        self.ratchet.receiving_chains()
    }

    /// For a session the peer opened and we never answered: the peer's first ratchet key and
    /// the first counter on it not yet read.
    pub(crate) fn unanswered_first_chain(&self) -> Option<([u8; 32], u32)> {
        match self.role {
            Role::Responder => self.ratchet.unanswered_first_chain(),
            Role::Initiator => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn set_local_for_test(&mut self, local: PeerId) {
        self.local = local;
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("role", &self.role)
            .field("remote_identity_key", &Hex(&self.remote_identity_key))
            .field("confirmed", &self.is_confirmed())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{self, Party};
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn party(seed: u8, rng: &mut ChaCha20Rng) -> Party {
        test_support::party(seed, rng, 0)
    }

    fn bundle(of: &Party) -> PeerPrekeyBundle {
        test_support::bundle(of, 0)
    }

    fn state(s: &Session) -> Vec<u8> {
        bincode::serde::encode_to_vec(s, bincode::config::standard()).expect("encodes")
    }

    #[test]
    fn handshake_then_conversation_then_handshake_stops_travelling() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let (a, b) = (party(1, &mut rng), party(2, &mut rng));
        let alice = Session::initiate(&mut rng, &a.ik, &bundle(&b)).expect("starts");
        let (alice, e1) = alice.encrypt(&mut rng, b"hi bob").expect("seals");
        let (alice, e2) = alice.encrypt(&mut rng, b"you there?").expect("seals");
        assert!(e1.handshake.is_some() && e2.handshake.is_some());

        let (bob, p2) = Session::respond(&b.ik, &b.prekeys, &a.id.peer_id(), &e2).expect("opens");
        assert_eq!(p2, b"you there?");
        let (bob, p1) = bob.decrypt(&e1).expect("opens the earlier one");
        assert_eq!(p1, b"hi bob");
        assert_eq!(bob.remote_identity_key(), a.ik.public_key());

        let (bob, r1) = bob.encrypt(&mut rng, b"yes").expect("seals");
        assert!(r1.handshake.is_none());
        let (alice, p) = alice.decrypt(&r1).expect("opens");
        assert_eq!(p, b"yes");
        assert!(alice.is_confirmed());
        let (_, e3) = alice.encrypt(&mut rng, b"great").expect("seals");
        assert!(e3.handshake.is_none());
        let (_, p) = bob.decrypt(&e3).expect("opens");
        assert_eq!(p, b"great");
    }

    #[test]
    fn replayed_tampered_and_misrouted_messages_leave_state_unchanged() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let (a, b, c) = (party(1, &mut rng), party(2, &mut rng), party(3, &mut rng));
        let alice = Session::initiate(&mut rng, &a.ik, &bundle(&b)).expect("starts");
        let (alice, e1) = alice.encrypt(&mut rng, b"one").expect("seals");
        let (alice, e2) = alice.encrypt(&mut rng, b"two").expect("seals");
        let (bob, _) = Session::respond(&b.ik, &b.prekeys, &a.id.peer_id(), &e1).expect("opens");
        let before = state(&bob);

        assert_eq!(
            bob.decrypt(&e1).map(|_| ()),
            Err(DecryptError::ReplayedOrExpired)
        );
        let mut t = e2.clone();
        t.ciphertext[0] ^= 1;
        assert_eq!(
            bob.decrypt(&t).map(|_| ()),
            Err(DecryptError::AuthenticationFailed)
        );
        let mut t = e2.clone();
        t.nonce[0] ^= 1;
        assert_eq!(
            bob.decrypt(&t).map(|_| ()),
            Err(DecryptError::AuthenticationFailed)
        );
        let mut t = e2.clone();
        t.header.previous_chain_length = 1;
        assert_eq!(
            bob.decrypt(&t).map(|_| ()),
            Err(DecryptError::AuthenticationFailed)
        );
        // Bob's state believing he is Carol: the recipient in the associated data differs.
        let mut misrouted = bob.clone();
        misrouted.set_local_for_test(c.id.peer_id());
        assert_eq!(
            misrouted.decrypt(&e2).map(|_| ()),
            Err(DecryptError::AuthenticationFailed)
        );
        // Reflected back to Alice.
        assert!(alice.decrypt(&e2).is_err());
        // Delivered to Carol.
        assert!(Session::respond(&c.ik, &c.prekeys, &a.id.peer_id(), &e1).is_err());
        // Claimed to come from Carol.
        assert!(Session::respond(&b.ik, &b.prekeys, &c.id.peer_id(), &e1).is_err());
        let mut skip = e2.clone();
        skip.header.counter = 5_000;
        assert!(matches!(
            bob.decrypt(&skip),
            Err(DecryptError::TooManySkipped { .. })
        ));

        assert_eq!(state(&bob), before);
        let (_, p) = bob.decrypt(&e2).expect("the genuine message still opens");
        assert_eq!(p, b"two");
    }

    #[test]
    fn debug_shows_no_secrets() {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let (a, b) = (party(1, &mut rng), party(2, &mut rng));
        let alice = Session::initiate(&mut rng, &a.ik, &bundle(&b)).expect("starts");
        let dbg = format!("{alice:?}");
        assert!(dbg.contains("Session") && !dbg.contains("root"));
    }
}
