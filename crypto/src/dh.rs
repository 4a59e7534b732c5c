//! X25519 building blocks shared by the handshake and the ratchet: 32-byte secrets that wipe
//! themselves, key pairs that can be stored, and a Diffie–Hellman that refuses
//! non-contributory (low-order) results.
//!
//! Every DH in paperplane goes through one function that checks the result, so a peer can
//! never force a predictable shared secret by publishing a low-order point.

use std::fmt;

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A DH whose result does not depend on our secret: the peer's public key has low order
/// (RFC 7748 section 6.1 allows checking for the all-zero output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("X25519 public key has low order (non-contributory Diffie-Hellman)")]
pub struct NonContributory;

/// 32 secret bytes (a private key, root key, chain key or message key). Wiped on drop,
/// redacted in `Debug`, and serialized as plain bytes so the caller's store can persist it.
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub(crate) struct SecretBytes([u8; 32]);

impl SecretBytes {
    /// Wraps bytes the caller has already produced (a KDF output, a DH result).
    pub(crate) fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Fresh random bytes.
    pub(crate) fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The bytes.
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}

/// An X25519 key pair kept as bytes (so it can be persisted), turned into an
/// `x25519_dalek::StaticSecret` only for the duration of one DH.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct KeyPair {
    secret: SecretBytes,
    public: [u8; 32],
}

impl KeyPair {
    /// A fresh key pair from the caller's RNG.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(SecretBytes::random(rng))
    }

    /// The key pair of a stored secret (X25519 clamps any 32 bytes into a valid scalar).
    pub(crate) fn from_secret(secret: SecretBytes) -> Self {
        let public = PublicKey::from(&StaticSecret::from(*secret.expose())).to_bytes();
        Self { secret, public }
    }

    /// The public half.
    pub(crate) fn public(&self) -> [u8; 32] {
        self.public
    }

    /// The secret half.
    pub(crate) fn secret(&self) -> &SecretBytes {
        &self.secret
    }

    /// DH with a peer's public key; refuses a non-contributory result.
    pub(crate) fn diffie_hellman(
        &self,
        their_public: &[u8; 32],
    ) -> Result<SecretBytes, NonContributory> {
        diffie_hellman(&self.secret, their_public)
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &Hex(&self.public))
            .finish_non_exhaustive()
    }
}

/// X25519(secret, their_public), refusing an all-zero (non-contributory) output.
pub(crate) fn diffie_hellman(
    secret: &SecretBytes,
    their_public: &[u8; 32],
) -> Result<SecretBytes, NonContributory> {
    let secret = StaticSecret::from(*secret.expose());
    let shared = secret.diffie_hellman(&PublicKey::from(*their_public));
    if !shared.was_contributory() {
        return Err(NonContributory);
    }
    Ok(SecretBytes::new(shared.to_bytes()))
}

/// Whether an X25519 public key has low order, i.e. every DH with it is non-contributory.
///
/// Any clamped scalar is a multiple of the cofactor 8, so one DH with a fixed scalar tells:
/// a low-order point always gives the all-zero output.
pub fn is_low_order(public: &[u8; 32]) -> bool {
    let probe = Zeroizing::new([0x42u8; 32]);
    let secret = StaticSecret::from(*probe);
    !secret
        .diffie_hellman(&PublicKey::from(*public))
        .was_contributory()
}

/// Formats bytes as lowercase hex in `Debug` output of public values.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pairs_agree_and_debug_hides_secrets() {
        let a = KeyPair::from_secret(SecretBytes::new([1; 32]));
        let b = KeyPair::from_secret(SecretBytes::new([2; 32]));
        let ab = a.diffie_hellman(&b.public()).expect("contributory");
        let ba = b.diffie_hellman(&a.public()).expect("contributory");
        assert_eq!(ab.expose(), ba.expose());
        let dbg = format!("{a:?} {ab:?}");
        assert!(dbg.contains("<redacted>"));
        assert!(dbg.contains(&hex::encode(a.public())));
        assert!(!dbg.contains("0101010101") && !dbg.contains(&hex::encode(ab.expose())));
        assert!(!dbg.contains("1, 1, 1"));
    }

    #[test]
    fn low_order_points_are_refused() {
        let a = KeyPair::from_secret(SecretBytes::new([1; 32]));
        assert_eq!(a.diffie_hellman(&[0; 32]).map(|_| ()), Err(NonContributory));
        assert!(is_low_order(&[0; 32]));
        assert!(!is_low_order(&a.public()));
    }
}
