//! The X3DH-style handshake that opens a 1:1 session from the peer's published prekey.
//!
//! The initiator A, holding B's verified [`PeerPrekeyBundle`], draws an ephemeral key EKa and
//! computes `DH(IKa, SPKb) ‖ DH(EKa, IKb) ‖ DH(EKa, SPKb)` (every DH must be contributory).
//! HKDF-SHA256 turns `0xFF×32 ‖ DHs` into the 32-byte root key, with a zero salt and an info
//! string binding both PeerIds, both X25519 identity keys and the prekey id
//! ([`handshake_info`]). A sends a [`HandshakeHeader`] (IKa with its certificate, EKa, the
//! prekey id) with its first messages; B derives the same root key from it.
//!
//! The [`SessionId`] is a public hash of the handshake (both PeerIds and the header): both
//! sides compute it, it names the session on the wire and is bound into every message's
//! associated data.

use std::fmt;

use hkdf::Hkdf;
use paperplane_protocol::PeerId;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{
    dh::{Hex, KeyPair, NonContributory, SecretBytes},
    keys::{verify_identity_key, KeyError, MessagingIdentity, PeerPrekeyBundle, SIGNATURE_BYTES},
    prekeys::PrekeyStore,
};

/// Label at the start of the handshake's HKDF info.
pub const X3DH_INFO_LABEL: &str = "paperplane/x3dh/1";
/// Label of the session-id hash.
pub const SESSION_ID_LABEL: &str = "paperplane/session-id/1";

/// Why a handshake could not be made or answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's keys (or the initiator's certified identity key) do not verify.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A DH gave the all-zero output: some key has low order.
    #[error(transparent)]
    NonContributory(#[from] NonContributory),
    /// The handshake names a prekey this node no longer (or never) held.
    #[error("unknown prekey {0}")]
    UnknownPrekey(u32),
    /// The handshake names a held prekey that expired more than
    /// [`PREKEY_EXPIRY_GRACE_MS`](crate::PREKEY_EXPIRY_GRACE_MS) before the responder's clock.
    #[error("prekey {id} expired at {expires_at}; handshake answered at {now_ms}")]
    PrekeyExpired {
        /// The prekey's id.
        id: u32,
        /// When it expired (Unix ms).
        expires_at: u64,
        /// The responder's clock (Unix ms).
        now_ms: u64,
    },
    /// The session id on the wire is not the hash of the handshake.
    #[error("session id does not match the handshake")]
    SessionIdMismatch,
}

/// Identifies one session between two peers: 16 bytes of a public hash of its handshake.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SessionId(pub [u8; 16]);

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({:?})", Hex(&self.0))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", Hex(&self.0))
    }
}

/// What the initiator sends with its first messages so the responder can derive the session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeHeader {
    /// The initiator's X25519 identity key.
    pub identity_key: [u8; 32],
    /// Its certificate by the initiator's ed25519 identity (64 bytes).
    pub identity_key_certificate: Vec<u8>,
    /// The initiator's ephemeral X25519 public key.
    pub ephemeral_key: [u8; 32],
    /// Which of the responder's prekeys was used.
    pub prekey_id: u32,
}

impl HandshakeHeader {
    /// Length of [`Self::encode`]'s output.
    pub const ENCODED_LEN: usize = 32 + SIGNATURE_BYTES + 32 + 4;

    /// The fixed-width encoding bound into associated data and the session id. A certificate
    /// of the wrong length encodes zero-padded or cut (it is rejected before use anyway).
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[..32].copy_from_slice(&self.identity_key);
        let cert = &self.identity_key_certificate;
        let n = cert.len().min(SIGNATURE_BYTES);
        out[32..32 + n].copy_from_slice(&cert[..n]);
        out[96..128].copy_from_slice(&self.ephemeral_key);
        out[128..].copy_from_slice(&self.prekey_id.to_be_bytes());
        out
    }
}

impl fmt::Debug for HandshakeHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeHeader")
            .field("identity_key", &Hex(&self.identity_key))
            .field("ephemeral_key", &Hex(&self.ephemeral_key))
            .field("prekey_id", &self.prekey_id)
            .finish_non_exhaustive()
    }
}

/// What a completed handshake yields on either side.
pub(crate) struct Handshake {
    /// The root key the double ratchet starts from.
    pub(crate) root_key: SecretBytes,
    /// The session's id.
    pub(crate) session_id: SessionId,
}

/// Appends `bytes` with a 2-byte big-endian length prefix (PeerIds are under 100 bytes).
pub(crate) fn put_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

/// The HKDF info of the handshake: the label, then both PeerIds (length-prefixed), both
/// X25519 identity keys and the prekey id.
pub fn handshake_info(
    initiator: &PeerId,
    responder: &PeerId,
    initiator_identity_key: &[u8; 32],
    responder_identity_key: &[u8; 32],
    prekey_id: u32,
) -> Vec<u8> {
    let mut info = Vec::with_capacity(200);
    info.extend_from_slice(X3DH_INFO_LABEL.as_bytes());
    info.push(0);
    put_prefixed(&mut info, &initiator.to_bytes());
    put_prefixed(&mut info, &responder.to_bytes());
    info.extend_from_slice(initiator_identity_key);
    info.extend_from_slice(responder_identity_key);
    info.extend_from_slice(&prekey_id.to_be_bytes());
    info
}

/// The session id of a handshake between `initiator` and `responder`.
pub fn session_id(
    initiator: &PeerId,
    responder: &PeerId,
    responder_identity_key: &[u8; 32],
    header: &HandshakeHeader,
) -> SessionId {
    let mut h = Sha256::new();
    h.update(SESSION_ID_LABEL.as_bytes());
    h.update([0]);
    let mut peers = Vec::with_capacity(100);
    put_prefixed(&mut peers, &initiator.to_bytes());
    put_prefixed(&mut peers, &responder.to_bytes());
    h.update(&peers);
    h.update(responder_identity_key);
    h.update(header.encode());
    let digest: [u8; 32] = h.finalize().into();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    SessionId(id)
}

fn root_key(dh: [&SecretBytes; 3], info: &[u8]) -> SecretBytes {
    let mut ikm = Zeroizing::new([0xFFu8; 32 * 4]);
    for (i, d) in dh.iter().enumerate() {
        ikm[32 * (i + 1)..32 * (i + 2)].copy_from_slice(d.expose());
    }
    // The HKDF state (keyed with the PRK) is wiped on drop (sha2's and hmac's `zeroize`);
    // the output is written straight into the wiping container.
    let hk = Hkdf::<Sha256>::new(Some(&[0u8; 32]), ikm.as_ref());
    let mut root_key = SecretBytes::new([0; 32]);
    hk.expand(info, root_key.expose_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    root_key
}

/// Starts a handshake with a verified bundle: returns the header to send and the shared
/// root key. The ephemeral secret is dropped (wiped) before returning.
pub(crate) fn initiate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    me: &MessagingIdentity,
    bundle: &PeerPrekeyBundle,
) -> Result<(HandshakeHeader, Handshake), HandshakeError> {
    let ephemeral = KeyPair::generate(rng);
    let dh1 = me.pair().diffie_hellman(&bundle.prekey)?;
    let dh2 = ephemeral.diffie_hellman(&bundle.identity_key)?;
    let dh3 = ephemeral.diffie_hellman(&bundle.prekey)?;
    let info = handshake_info(
        me.owner(),
        &bundle.peer,
        &me.public_key(),
        &bundle.identity_key,
        bundle.prekey_id,
    );
    let header = HandshakeHeader {
        identity_key: me.public_key(),
        identity_key_certificate: me.certificate().to_vec(),
        ephemeral_key: ephemeral.public(),
        prekey_id: bundle.prekey_id,
    };
    let handshake = Handshake {
        root_key: root_key([&dh1, &dh2, &dh3], &info),
        session_id: session_id(me.owner(), &bundle.peer, &bundle.identity_key, &header),
    };
    Ok((header, handshake))
}

/// Answers a handshake from `initiator` (the authenticated sender) at the responder's clock
/// `now_ms`: finds the prekey and refuses it if it has expired (`None`: no clock, no expiry
/// check), checks the initiator's certified identity key and derives the same root key.
/// Returns the prekey's key pair too: it is the responder's first ratchet key.
pub(crate) fn respond(
    me: &MessagingIdentity,
    prekeys: &PrekeyStore,
    initiator: &PeerId,
    header: &HandshakeHeader,
    now_ms: Option<u64>,
) -> Result<(Handshake, KeyPair), HandshakeError> {
    // Both prekey checks are cheap: before the signature check and the DHs.
    let prekey = prekeys.answering(header.prekey_id, now_ms)?;
    verify_identity_key(
        initiator,
        &header.identity_key,
        &header.identity_key_certificate,
    )?;
    let dh1 = prekey.diffie_hellman(&header.identity_key)?;
    let dh2 = me.pair().diffie_hellman(&header.ephemeral_key)?;
    let dh3 = prekey.diffie_hellman(&header.ephemeral_key)?;
    let info = handshake_info(
        initiator,
        me.owner(),
        &header.identity_key,
        &me.public_key(),
        header.prekey_id,
    );
    let handshake = Handshake {
        root_key: root_key([&dh1, &dh2, &dh3], &info),
        session_id: session_id(initiator, me.owner(), &me.public_key(), header),
    };
    Ok((handshake, prekey.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{self, Party};
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    /// The responder's clock in these tests: when the prekeys were made.
    const NOW: u64 = 1_000;

    fn party(seed: u8, rng: &mut ChaCha20Rng) -> Party {
        test_support::party(seed, rng, 1_000)
    }

    fn bundle(of: &Party) -> PeerPrekeyBundle {
        test_support::bundle(of, 1_000)
    }

    #[test]
    fn both_sides_derive_the_same_root_key_and_session_id() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let (a, b) = (party(1, &mut rng), party(2, &mut rng));
        let (header, ha) = initiate(&mut rng, &a.ik, &bundle(&b)).expect("initiates");
        let (hb, _) =
            respond(&b.ik, &b.prekeys, &a.id.peer_id(), &header, Some(NOW)).expect("responds");
        assert_eq!(ha.root_key.expose(), hb.root_key.expose());
        assert_eq!(ha.session_id, hb.session_id);
        // Frozen: the root key and session id from this seeded run.
        assert_eq!(
            hex::encode(ha.root_key.expose()),
            "8f2904ad8e7ddf9e4a5ad3340d1b8c60a23242bf1fc38f63564bcb37afeb58c7"
        );
        assert_eq!(
            ha.session_id.to_string(),
            "a6ce6892fe6ac665904bdae0a507781f"
        );
    }

    #[test]
    fn a_wrong_sender_or_tampered_header_does_not_agree() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let (a, b, c) = (party(1, &mut rng), party(2, &mut rng), party(3, &mut rng));
        let (header, ha) = initiate(&mut rng, &a.ik, &bundle(&b)).expect("initiates");

        // Claimed by Carol: Alice's identity key is not certified by Carol's id.
        assert_eq!(
            respond(&b.ik, &b.prekeys, &c.id.peer_id(), &header, Some(NOW)).map(|_| ()),
            Err(HandshakeError::Keys(KeyError::BadIdentityKeyCertificate))
        );
        // Delivered to Carol: different keys, and Carol lacks the prekey id or its secret.
        match respond(&c.ik, &c.prekeys, &a.id.peer_id(), &header, Some(NOW)) {
            Ok((hc, _)) => assert_ne!(hc.root_key.expose(), ha.root_key.expose()),
            Err(e) => assert_eq!(e, HandshakeError::UnknownPrekey(header.prekey_id)),
        }
        let mut bad = header.clone();
        bad.prekey_id = 99;
        assert_eq!(
            respond(&b.ik, &b.prekeys, &a.id.peer_id(), &bad, Some(NOW)).map(|_| ()),
            Err(HandshakeError::UnknownPrekey(99))
        );
        let mut low = header.clone();
        low.ephemeral_key = [0; 32];
        assert_eq!(
            respond(&b.ik, &b.prekeys, &a.id.peer_id(), &low, Some(NOW)).map(|_| ()),
            Err(HandshakeError::NonContributory(NonContributory))
        );
        let mut other = header.clone();
        other.ephemeral_key[0] ^= 2;
        if let Ok((hb, _)) = respond(&b.ik, &b.prekeys, &a.id.peer_id(), &other, Some(NOW)) {
            assert_ne!(hb.root_key.expose(), ha.root_key.expose());
            assert_ne!(hb.session_id, ha.session_id);
        }
    }

    #[test]
    fn an_expired_prekey_is_refused_after_the_grace_and_before_any_dh() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let (a, b) = (party(1, &mut rng), party(2, &mut rng));
        let (header, ha) = initiate(&mut rng, &a.ik, &bundle(&b)).expect("initiates");
        let expires_at = NOW + crate::PREKEY_LIFETIME_MS;
        let last = expires_at + crate::PREKEY_EXPIRY_GRACE_MS;
        let respond_at = |now| respond(&b.ik, &b.prekeys, &a.id.peer_id(), &header, now);

        let (hb, _) = respond_at(Some(last)).expect("answered within the grace");
        assert_eq!(hb.root_key.expose(), ha.root_key.expose());
        assert_eq!(
            respond_at(Some(last + 1)).map(|_| ()),
            Err(HandshakeError::PrekeyExpired {
                id: header.prekey_id,
                expires_at,
                now_ms: last + 1,
            })
        );
        // Checked before the certificate: an expired prekey is refused whoever claims it.
        let mut forged = header.clone();
        forged.identity_key_certificate = vec![0; SIGNATURE_BYTES];
        assert!(matches!(
            respond(&b.ik, &b.prekeys, &a.id.peer_id(), &forged, Some(last + 1)),
            Err(HandshakeError::PrekeyExpired { .. })
        ));
        // Without a clock (the compatibility path) there is no expiry check.
        assert!(respond_at(None).is_ok());
        assert!(respond_at(Some(u64::MAX)).is_err());
    }
}
