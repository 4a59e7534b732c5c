//! Messaging keys: the long-term X25519 identity key certified by the ed25519 identity, signed
//! prekeys, and the verification of a peer's published [`MessagingKeys`].
//!
//! The X25519 identity key is a separate key, never derived from the ed25519 one. Its
//! certificate is the ed25519 signature over [`X25519_IDENTITY_LABEL`] and the 32 public bytes;
//! a prekey's signature covers [`PREKEY_LABEL`], its id, its public key and its expiry
//! ([`prekey_signing_bytes`]).

use std::fmt;

use paperplane_protocol::{limits::MAX_PREKEYS, MessagingKeys, PeerId, SignedPrekey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::{
    dh::{is_low_order, Hex, KeyPair, SecretBytes},
    identity::verify_labelled,
    Identity,
};

/// Domain-separation label of the certificate of an X25519 identity key.
pub const X25519_IDENTITY_LABEL: &str = "paperplane/x25519-identity/1";
/// Domain-separation label of a prekey signature.
pub const PREKEY_LABEL: &str = "paperplane/prekey/1";
/// Length of an ed25519 signature.
pub const SIGNATURE_BYTES: usize = 64;

/// Why a peer's published messaging keys (or a handshake's identity key) are not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The peer id does not carry an ed25519 key, so nothing it signed can be checked.
    #[error("peer id does not carry an ed25519 public key")]
    NotEd25519Peer,
    /// The X25519 identity key's certificate does not verify against the peer's id.
    #[error("X25519 identity key certificate does not verify")]
    BadIdentityKeyCertificate,
    /// A prekey's signature does not verify against the peer's id.
    #[error("signature of prekey {id} does not verify")]
    BadPrekeySignature {
        /// The prekey's id.
        id: u32,
    },
    /// Every published prekey has expired.
    #[error("prekey {id} expired at {expires_at} (now {now_ms})")]
    PrekeyExpired {
        /// The newest prekey's id.
        id: u32,
        /// When it expired (Unix ms).
        expires_at: u64,
        /// The verifier's clock (Unix ms).
        now_ms: u64,
    },
    /// No prekeys, or more than the protocol allows.
    #[error("{0} prekeys published; allowed 1..={max}", max = MAX_PREKEYS)]
    PrekeyCount(usize),
    /// A published X25519 key has low order (would give a non-contributory DH).
    #[error("published X25519 key has low order")]
    LowOrderKey,
}

/// The user's long-term X25519 identity key, bound to their ed25519 identity by a
/// certificate. The secret is wiped on drop and never printed.
#[derive(Clone)]
pub struct MessagingIdentity {
    owner: PeerId,
    pair: KeyPair,
    certificate: Vec<u8>,
}

impl MessagingIdentity {
    /// A fresh X25519 identity key for `identity`, from the caller's CSPRNG.
    pub fn generate<R: CryptoRng + ?Sized>(identity: &Identity, rng: &mut R) -> Self {
        Self::with_pair(identity, KeyPair::generate(rng))
    }

    /// The X25519 identity key with this stored secret (see [`Self::to_secret_bytes`]).
    pub fn from_secret_bytes(identity: &Identity, secret: [u8; 32]) -> Self {
        let secret = Zeroizing::new(secret);
        Self::with_pair(
            identity,
            KeyPair::from_secret(SecretBytes::copy_of(&*secret)),
        )
    }

    fn with_pair(identity: &Identity, pair: KeyPair) -> Self {
        let certificate = identity
            .sign_labelled(X25519_IDENTITY_LABEL, &pair.public())
            .to_vec();
        Self {
            owner: identity.peer_id(),
            pair,
            certificate,
        }
    }

    /// The secret, for the caller to persist (with the same care as the identity seed).
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.pair.secret().expose())
    }

    /// The public key, as published in [`MessagingKeys::identity_key`].
    pub fn public_key(&self) -> [u8; 32] {
        self.pair.public()
    }

    /// The ed25519 signature certifying [`Self::public_key`] as the owner's.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// The peer whose identity certified this key.
    pub fn owner(&self) -> &PeerId {
        &self.owner
    }

    pub(crate) fn pair(&self) -> &KeyPair {
        &self.pair
    }
}

impl fmt::Debug for MessagingIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagingIdentity")
            .field("owner", &self.owner)
            .field("public", &Hex(&self.pair.public()))
            .finish_non_exhaustive()
    }
}

/// The bytes a prekey signature covers (after the label): id, public key and expiry, all
/// fixed-width big-endian.
pub fn prekey_signing_bytes(id: u32, public: &[u8; 32], expires_at: u64) -> [u8; 44] {
    let mut out = [0u8; 44];
    out[..4].copy_from_slice(&id.to_be_bytes());
    out[4..36].copy_from_slice(public);
    out[36..].copy_from_slice(&expires_at.to_be_bytes());
    out
}

/// Signs a prekey with the identity key.
pub fn sign_prekey(
    identity: &Identity,
    id: u32,
    public: [u8; 32],
    expires_at: u64,
) -> SignedPrekey {
    let signature = identity
        .sign_labelled(PREKEY_LABEL, &prekey_signing_bytes(id, &public, expires_at))
        .to_vec();
    SignedPrekey {
        id,
        public,
        expires_at,
        signature,
    }
}

/// Checks an X25519 identity key's certificate against its owner's id.
pub fn verify_identity_key(
    owner: &PeerId,
    identity_key: &[u8; 32],
    certificate: &[u8],
) -> Result<(), KeyError> {
    if certificate.len() != SIGNATURE_BYTES {
        return Err(KeyError::BadIdentityKeyCertificate);
    }
    verify_labelled(owner, X25519_IDENTITY_LABEL, identity_key, certificate)
        .map_err(|e| signature_error(e, KeyError::BadIdentityKeyCertificate))?;
    if is_low_order(identity_key) {
        return Err(KeyError::LowOrderKey);
    }
    Ok(())
}

/// Checks a prekey's signature against its owner's id (not its expiry).
pub fn verify_prekey(owner: &PeerId, prekey: &SignedPrekey) -> Result<(), KeyError> {
    let bad = KeyError::BadPrekeySignature { id: prekey.id };
    if prekey.signature.len() != SIGNATURE_BYTES {
        return Err(bad);
    }
    let bytes = prekey_signing_bytes(prekey.id, &prekey.public, prekey.expires_at);
    verify_labelled(owner, PREKEY_LABEL, &bytes, &prekey.signature)
        .map_err(|e| signature_error(e, bad))?;
    if is_low_order(&prekey.public) {
        return Err(KeyError::LowOrderKey);
    }
    Ok(())
}

fn signature_error(e: paperplane_protocol::ValidationError, otherwise: KeyError) -> KeyError {
    match e {
        paperplane_protocol::ValidationError::AuthorKey => KeyError::NotEd25519Peer,
        _ => otherwise,
    }
}

/// A peer's verified messaging keys: what a handshake needs to start a session with them.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerPrekeyBundle {
    /// The peer.
    pub peer: PeerId,
    /// Their certified X25519 identity key.
    pub identity_key: [u8; 32],
    /// The id of the prekey chosen for the handshake.
    pub prekey_id: u32,
    /// The chosen prekey.
    pub prekey: [u8; 32],
}

impl fmt::Debug for PeerPrekeyBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerPrekeyBundle")
            .field("peer", &self.peer)
            .field("identity_key", &Hex(&self.identity_key))
            .field("prekey_id", &self.prekey_id)
            .field("prekey", &Hex(&self.prekey))
            .finish()
    }
}

/// Verifies the messaging keys `peer` published in their profile at the verifier's clock
/// `now_ms`: the identity key's certificate and every prekey's signature must verify, no key
/// may have low order, and at least one prekey must be unexpired. Picks the first unexpired
/// prekey (the profile lists the current one first).
pub fn verify_messaging_keys(
    peer: &PeerId,
    keys: &MessagingKeys,
    now_ms: u64,
) -> Result<PeerPrekeyBundle, KeyError> {
    let count = keys.prekeys.len();
    if !(1..=MAX_PREKEYS).contains(&count) {
        return Err(KeyError::PrekeyCount(count));
    }
    verify_identity_key(peer, &keys.identity_key, &keys.identity_key_signature)?;
    for prekey in &keys.prekeys {
        verify_prekey(peer, prekey)?;
    }
    let chosen = keys
        .prekeys
        .iter()
        .find(|p| now_ms <= p.expires_at)
        .ok_or_else(|| match keys.prekeys.iter().max_by_key(|p| p.expires_at) {
            Some(newest) => KeyError::PrekeyExpired {
                id: newest.id,
                expires_at: newest.expires_at,
                now_ms,
            },
            None => KeyError::PrekeyCount(0),
        })?;
    Ok(PeerPrekeyBundle {
        peer: *peer,
        identity_key: keys.identity_key,
        prekey_id: chosen.id,
        prekey: chosen.public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dh::KeyPair;

    fn alice() -> Identity {
        Identity::from_seed([1; 32])
    }

    fn keys_for(identity: &Identity, expires_at: u64) -> (MessagingIdentity, MessagingKeys) {
        let ik = MessagingIdentity::from_secret_bytes(identity, [5; 32]);
        let spk = KeyPair::from_secret(SecretBytes::new([6; 32]));
        let keys = MessagingKeys {
            identity_key: ik.public_key(),
            identity_key_signature: ik.certificate().to_vec(),
            prekeys: vec![sign_prekey(identity, 7, spk.public(), expires_at)],
            mailboxes: Vec::new(),
        };
        (ik, keys)
    }

    #[test]
    fn valid_keys_verify_and_pick_the_current_prekey() {
        let a = alice();
        let (ik, keys) = keys_for(&a, 1_000);
        let bundle = verify_messaging_keys(&a.peer_id(), &keys, 1_000).expect("valid");
        assert_eq!(bundle.identity_key, ik.public_key());
        assert_eq!(bundle.prekey_id, 7);
        assert_eq!(ik.owner(), &a.peer_id());
    }

    #[test]
    fn forged_expired_and_malformed_keys_are_rejected() {
        let a = alice();
        let mallory = Identity::from_seed([2; 32]);
        let (_, keys) = keys_for(&a, 1_000);
        let peer = a.peer_id();

        assert!(matches!(
            verify_messaging_keys(&peer, &keys, 1_001),
            Err(KeyError::PrekeyExpired { id: 7, .. })
        ));

        let mut bad = keys.clone();
        bad.prekeys[0].expires_at += 1; // the signature covers the expiry
        assert_eq!(
            verify_messaging_keys(&peer, &bad, 0),
            Err(KeyError::BadPrekeySignature { id: 7 })
        );

        let mut bad = keys.clone();
        bad.prekeys[0].signature.truncate(63);
        assert_eq!(
            verify_messaging_keys(&peer, &bad, 0),
            Err(KeyError::BadPrekeySignature { id: 7 })
        );

        let mut bad = keys.clone();
        bad.identity_key[0] ^= 1;
        assert_eq!(
            verify_messaging_keys(&peer, &bad, 0),
            Err(KeyError::BadIdentityKeyCertificate)
        );

        // Mallory's keys published under Alice's id.
        let (_, forged) = keys_for(&mallory, 1_000);
        assert_eq!(
            verify_messaging_keys(&peer, &forged, 0),
            Err(KeyError::BadIdentityKeyCertificate)
        );

        let mut bad = keys.clone();
        bad.prekeys.clear();
        assert_eq!(
            verify_messaging_keys(&peer, &bad, 0),
            Err(KeyError::PrekeyCount(0))
        );

        // A correctly signed low-order prekey is still refused.
        let mut bad = keys.clone();
        bad.prekeys[0] = sign_prekey(&a, 8, [0; 32], 1_000);
        assert_eq!(
            verify_messaging_keys(&peer, &bad, 0),
            Err(KeyError::LowOrderKey)
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let ik = MessagingIdentity::from_secret_bytes(&alice(), [5; 32]);
        let dbg = format!("{ik:?}");
        assert!(dbg.contains("owner") && !dbg.contains("0505050505"));
        let back = MessagingIdentity::from_secret_bytes(&alice(), *ik.to_secret_bytes());
        assert_eq!(back.public_key(), ik.public_key());
    }
}
