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
    /// Wraps bytes the caller has already produced. Prefer [`Self::copy_of`] or
    /// [`Self::expose_mut`] for a fresh secret, so that no unwrapped copy is left behind.
    pub(crate) fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A copy of 32 bytes held by another wiping container (a KDF's or a DH's output).
    ///
    /// # Panics
    /// If `bytes` is not 32 bytes long (callers pass fixed-size outputs).
    pub(crate) fn copy_of(bytes: &[u8]) -> Self {
        let mut out = Self([0; 32]);
        out.0.copy_from_slice(bytes);
        out
    }

    /// Fresh random bytes, drawn straight into the wiping container.
    pub(crate) fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut out = Self([0; 32]);
        rng.fill_bytes(&mut out.0);
        out
    }

    /// The bytes.
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The bytes, to fill in place (e.g. as a KDF's output buffer).
    pub(crate) fn expose_mut(&mut self) -> &mut [u8; 32] {
        &mut self.0
    }
}

/// Makes room for `additional` more elements without leaving a copy of the current ones in
/// a freed allocation: when `v` must grow, its elements move to a new allocation and the old
/// one is wiped before it is freed (a plain `Vec` growth frees it as it is). For vectors of
/// secret-holding values.
pub(crate) fn reserve_wiping<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() >= additional {
        return;
    }
    let wanted = v
        .len()
        .saturating_add(additional)
        .max(v.capacity().saturating_mul(2));
    let mut grown = Vec::with_capacity(wanted);
    grown.append(v);
    wipe_spare_capacity(v);
    *v = grown;
}

/// Wipes the unused capacity of `v`: removing or moving elements leaves their bits there.
pub(crate) fn wipe_spare_capacity<T>(v: &mut Vec<T>) {
    v.spare_capacity_mut().zeroize();
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
    // `StaticSecret` and `SharedSecret` wipe themselves on drop (x25519-dalek's `zeroize`).
    let secret = StaticSecret::from(*secret.expose());
    let shared = secret.diffie_hellman(&PublicKey::from(*their_public));
    if !shared.was_contributory() {
        return Err(NonContributory);
    }
    Ok(SecretBytes::copy_of(shared.as_bytes()))
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

    /// Compile-time: every type that holds a secret or a KDF state on the way wipes itself
    /// on drop. Fails to build without the `zeroize` features of sha2 and hmac (the SHA-256
    /// and HMAC states behind HKDF's PRK and the chain KDF) or of x25519-dalek and
    /// chacha20poly1305.
    #[test]
    fn secret_holding_types_wipe_themselves_on_drop() {
        use hmac::{
            digest::{block_api::EagerHash, CtOutput},
            Hmac,
        };
        use sha2::Sha256;

        fn wipes_on_drop<T: ZeroizeOnDrop + ?Sized>() {}
        wipes_on_drop::<SecretBytes>();
        wipes_on_drop::<Zeroizing<[u8; 64]>>();
        wipes_on_drop::<StaticSecret>();
        wipes_on_drop::<x25519_dalek::SharedSecret>();
        wipes_on_drop::<chacha20poly1305::XChaCha20Poly1305>();
        wipes_on_drop::<ed25519_dalek::SigningKey>();
        wipes_on_drop::<Sha256>();
        // HMAC-SHA256 (and HKDF, which is one keyed with the PRK) holds two of these...
        wipes_on_drop::<<Sha256 as EagerHash>::Core>();
        // ...and hands its output over in this.
        wipes_on_drop::<CtOutput<Hmac<Sha256>>>();
    }

    #[test]
    fn fresh_secrets_and_grown_vectors_leave_nothing_behind() {
        let mut s = SecretBytes::copy_of(&[5; 32]);
        assert_eq!(s.expose(), &[5; 32]);
        s.expose_mut()[0] = 6;
        s.zeroize();
        assert_eq!(s.expose(), &[0; 32]);

        let mut v: Vec<SecretBytes> = Vec::with_capacity(1);
        v.push(SecretBytes::new([1; 32]));
        reserve_wiping(&mut v, 1);
        assert!(v.capacity() >= 2 && v.len() == 1 && v[0].expose() == &[1; 32]);
        let capacity = v.capacity();
        v.push(SecretBytes::new([2; 32]));
        assert_eq!(v.capacity(), capacity, "no growth after reserving");
        v.remove(0);
        wipe_spare_capacity(&mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].expose(), &[2; 32]);
    }

    #[test]
    fn low_order_points_are_refused() {
        let a = KeyPair::from_secret(SecretBytes::new([1; 32]));
        assert_eq!(a.diffie_hellman(&[0; 32]).map(|_| ()), Err(NonContributory));
        assert!(is_low_order(&[0; 32]));
        assert!(!is_low_order(&a.public()));
    }
}
