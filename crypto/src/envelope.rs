//! The sealed 1:1 message on the wire, its associated data, and the AEAD around it.
//!
//! AEAD: XChaCha20-Poly1305 keyed with the ratchet's message key, with a random 24-byte nonce
//! from the caller's RNG (so an accidentally reused message key does not also reuse a nonce).
//! Associated data ([`associated_data`]): [`AD_LABEL`], the [`ENVELOPE_VERSION`], sender and
//! recipient PeerIds (length-prefixed), the session id, the encoded ratchet header, and the
//! handshake header if present.

use chacha20poly1305::{
    aead::{Aead, Payload},
    KeyInit, XChaCha20Poly1305, XNonce,
};
use paperplane_protocol::{decode, encode, PeerId};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::{
    dh::SecretBytes,
    error::DecryptError,
    keys::SIGNATURE_BYTES,
    ratchet::RatchetHeader,
    x3dh::{put_prefixed, HandshakeHeader, SessionId},
};

/// Label at the start of every message's associated data.
pub const AD_LABEL: &str = "paperplane/dm/1";
/// Version of the envelope format and its associated data.
pub const ENVELOPE_VERSION: u8 = 1;
/// Largest plaintext one envelope carries.
pub const MAX_PLAINTEXT_BYTES: usize = 64 * 1024;
/// Poly1305 tag length.
pub const TAG_BYTES: usize = 16;
/// Largest encoded envelope ([`Envelope::to_bytes`]): the ciphertext plus generous framing.
pub const MAX_ENVELOPE_BYTES: usize = MAX_PLAINTEXT_BYTES + TAG_BYTES + 512;

/// A sealed 1:1 message. The node carries it between the two peers; the authenticated
/// transport (or the node's own framing) supplies the sender's PeerId.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The session the message belongs to.
    pub session_id: SessionId,
    /// The handshake, repeated on the initiator's messages until the peer has replied.
    pub handshake: Option<HandshakeHeader>,
    /// The ratchet header.
    pub header: RatchetHeader,
    /// The random XChaCha20 nonce.
    pub nonce: [u8; 24],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl Envelope {
    /// Checks every size bound (the decoder enforces the total size too).
    pub fn validate(&self) -> Result<(), DecryptError> {
        if self.ciphertext.len() < TAG_BYTES {
            return Err(DecryptError::Malformed("ciphertext shorter than a tag"));
        }
        if self.ciphertext.len() > MAX_PLAINTEXT_BYTES + TAG_BYTES {
            return Err(DecryptError::Malformed("ciphertext too large"));
        }
        if let Some(h) = &self.handshake {
            if h.identity_key_certificate.len() != SIGNATURE_BYTES {
                return Err(DecryptError::Malformed("certificate is not 64 bytes"));
            }
        }
        Ok(())
    }

    /// The versioned, size-limited encoding (`paperplane_protocol::encode`).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes and validates an envelope of at most [`MAX_ENVELOPE_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecryptError> {
        let envelope: Self = decode(bytes, MAX_ENVELOPE_BYTES)
            .map_err(|_| DecryptError::Malformed("undecodable envelope"))?;
        envelope.validate()?;
        Ok(envelope)
    }
}

/// The associated data of a message from `sender` to `recipient`.
pub fn associated_data(
    sender: &PeerId,
    recipient: &PeerId,
    session_id: &SessionId,
    header: &RatchetHeader,
    handshake: Option<&HandshakeHeader>,
) -> Vec<u8> {
    let mut ad = Vec::with_capacity(128 + HandshakeHeader::ENCODED_LEN);
    ad.extend_from_slice(AD_LABEL.as_bytes());
    ad.push(0);
    ad.push(ENVELOPE_VERSION);
    put_prefixed(&mut ad, &sender.to_bytes());
    put_prefixed(&mut ad, &recipient.to_bytes());
    ad.extend_from_slice(&session_id.0);
    ad.extend_from_slice(&header.encode());
    match handshake {
        None => ad.push(0),
        Some(h) => {
            ad.push(1);
            ad.extend_from_slice(&h.encode());
        }
    }
    ad
}

/// Encrypts with a fresh random nonce.
pub(crate) fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &SecretBytes,
    ad: &[u8],
    plaintext: &[u8],
) -> ([u8; 24], Vec<u8>) {
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any bounded plaintext");
    (nonce, ciphertext)
}

/// Decrypts and verifies the tag.
pub(crate) fn open(
    key: &SecretBytes,
    ad: &[u8],
    nonce: &[u8; 24],
    ciphertext: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    cipher
        .decrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: ciphertext,
                aad: ad,
            },
        )
        .map_err(|_| DecryptError::AuthenticationFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            session_id: SessionId([1; 16]),
            handshake: Some(HandshakeHeader {
                identity_key: [2; 32],
                identity_key_certificate: vec![3; 64],
                ephemeral_key: [4; 32],
                prekey_id: 5,
            }),
            header: RatchetHeader {
                ratchet_key: [6; 32],
                previous_chain_length: 7,
                counter: 8,
            },
            nonce: [9; 24],
            ciphertext: vec![10; 40],
        }
    }

    #[test]
    fn round_trips_and_enforces_bounds() {
        let e = envelope();
        assert_eq!(Envelope::from_bytes(&e.to_bytes()), Ok(e.clone()));

        let mut big = e.clone();
        big.ciphertext = vec![0; MAX_PLAINTEXT_BYTES + TAG_BYTES + 1];
        assert!(Envelope::from_bytes(&big.to_bytes()).is_err());
        let mut short = e.clone();
        short.ciphertext = vec![0; 15];
        assert!(Envelope::from_bytes(&short.to_bytes()).is_err());
        let mut cert = e.clone();
        if let Some(h) = cert.handshake.as_mut() {
            h.identity_key_certificate.push(0);
        }
        assert!(Envelope::from_bytes(&cert.to_bytes()).is_err());
        assert!(Envelope::from_bytes(&[]).is_err());
        assert!(Envelope::from_bytes(&vec![1; MAX_ENVELOPE_BYTES + 1]).is_err());
    }

    #[test]
    fn sealed_messages_open_only_with_the_same_associated_data() {
        let key = SecretBytes::new([7; 32]);
        let mut rng = chacha20::ChaCha20Rng::from_seed([0; 32]);
        let (nonce, ct) = seal(&mut rng, &key, b"ad", b"hello");
        assert_eq!(open(&key, b"ad", &nonce, &ct).as_deref(), Ok(&b"hello"[..]));
        assert_eq!(
            open(&key, b"ae", &nonce, &ct),
            Err(DecryptError::AuthenticationFailed)
        );
        let mut tampered = ct.clone();
        tampered[0] ^= 1;
        assert_eq!(
            open(&key, b"ad", &nonce, &tampered),
            Err(DecryptError::AuthenticationFailed)
        );
    }

    use rand_core::SeedableRng;
}
