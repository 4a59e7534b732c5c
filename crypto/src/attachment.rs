//! Attachments (a photo sent in a chat): sealed under a fresh random key before they leave the
//! node, so that the bytes can travel outside the end-to-end encrypted message (as a blob,
//! in chunks) while the key travels inside it.
//!
//! Format of a sealed attachment: a random 24-byte nonce, then the XChaCha20-Poly1305
//! ciphertext and its 16-byte tag, with [`ATTACHMENT_AD`] as associated data. A key seals
//! exactly one attachment; the random nonce keeps even an accidentally reused key safe.

use chacha20poly1305::{
    aead::{Aead, Payload},
    KeyInit, XChaCha20Poly1305, XNonce,
};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// Associated data of every sealed attachment (a label and version).
pub const ATTACHMENT_AD: &[u8] = b"paperplane/attachment/1";
/// Bytes a sealed attachment has beyond its plaintext: the nonce and the tag.
pub const ATTACHMENT_OVERHEAD: usize = NONCE_BYTES + TAG_BYTES;

const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;

/// The key of one attachment. Wiped on drop; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentKey(Zeroizing<[u8; 32]>);

impl AttachmentKey {
    /// A key received in a message.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw key, to put in the end-to-end encrypted message.
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.0
    }
}

impl std::fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachmentKey(..)")
    }
}

/// Why a sealed attachment could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// Shorter than a nonce and a tag.
    #[error("sealed attachment too short")]
    TooShort,
    /// The bytes were altered, or the key is not theirs.
    #[error("sealed attachment does not authenticate (altered, or the wrong key)")]
    AuthenticationFailed,
}

/// Seals `plaintext` under a fresh random key from `rng`: the key and the sealed bytes.
pub fn seal_attachment<R: CryptoRng + ?Sized>(
    rng: &mut R,
    plaintext: &[u8],
) -> (AttachmentKey, Vec<u8>) {
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(key.as_mut());
    let mut nonce = [0u8; NONCE_BYTES];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new((&*key).into());
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: ATTACHMENT_AD,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any plaintext that fits in memory");
    let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    (AttachmentKey(key), sealed)
}

/// Opens bytes sealed by [`seal_attachment`] with their key.
pub fn open_attachment(key: &AttachmentKey, sealed: &[u8]) -> Result<Vec<u8>, AttachmentError> {
    if sealed.len() < ATTACHMENT_OVERHEAD {
        return Err(AttachmentError::TooShort);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().expect("split at the nonce's length");
    let cipher = XChaCha20Poly1305::new((&*key.0).into());
    cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad: ATTACHMENT_AD,
            },
        )
        .map_err(|_| AttachmentError::AuthenticationFailed)
}

#[cfg(test)]
mod tests {
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn seals_and_opens() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let photo = vec![0xAB; 100_000];
        let (key, sealed) = seal_attachment(&mut rng, &photo);
        assert_eq!(sealed.len(), photo.len() + ATTACHMENT_OVERHEAD);
        assert_ne!(&sealed[NONCE_BYTES..NONCE_BYTES + 64], &photo[..64]);
        assert_eq!(open_attachment(&key, &sealed), Ok(photo));
        assert_eq!(open_attachment(&key, &[]), Err(AttachmentError::TooShort));
        let (key, sealed) = seal_attachment(&mut rng, b"");
        assert_eq!(open_attachment(&key, &sealed), Ok(Vec::new()));
    }

    #[test]
    fn every_seal_has_its_own_key_and_nonce() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (k1, s1) = seal_attachment(&mut rng, b"same photo");
        let (k2, s2) = seal_attachment(&mut rng, b"same photo");
        assert_ne!(k1, k2);
        assert_ne!(s1, s2);
        assert_ne!(s1[..NONCE_BYTES], s2[..NONCE_BYTES]);
    }

    #[test]
    fn tampering_and_wrong_keys_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (key, sealed) = seal_attachment(&mut rng, b"a photo of a cat");
        for i in [0, NONCE_BYTES, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(
                open_attachment(&key, &bad),
                Err(AttachmentError::AuthenticationFailed),
                "byte {i} flipped"
            );
        }
        assert_eq!(
            open_attachment(&key, &sealed[..sealed.len() - 1]),
            Err(AttachmentError::AuthenticationFailed)
        );
        let other = AttachmentKey::from_bytes([9; 32]);
        assert_eq!(
            open_attachment(&other, &sealed),
            Err(AttachmentError::AuthenticationFailed)
        );
        let round = AttachmentKey::from_bytes(key.to_bytes());
        assert_eq!(
            open_attachment(&round, &sealed).as_deref(),
            Ok(&b"a photo of a cat"[..])
        );
        assert_eq!(format!("{key:?}"), "AttachmentKey(..)");
    }
}
