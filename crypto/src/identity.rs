//! The identity key: ed25519, the same key libp2p uses, so `PeerId` = identity.
//!
//! Records are signed over [`Signed::signing_bytes`], which carry a domain-separation label
//! per record kind.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use paperplane_protocol::{PeerId, Record, Signed, ValidationError};
use zeroize::Zeroizing;

/// Errors loading or converting identity keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The key file does not hold a 32-byte ed25519 seed.
    #[error("identity key must be 32 bytes, found {0}")]
    BadLength(usize),
}

/// The user's long-term ed25519 identity key. Its secret never appears in `Debug` output and
/// is wiped from memory on drop.
#[derive(Clone)]
pub struct Identity {
    key: SigningKey,
}

impl Identity {
    /// The identity with this 32-byte secret seed (the caller draws it from a CSPRNG).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let seed = Zeroizing::new(seed);
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// Loads the identity from the bytes of a key file (the 32-byte seed).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes
                .try_into()
                .map_err(|_| IdentityError::BadLength(bytes.len()))?,
        );
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The secret seed, to be written to a key file with mode 0600.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The user's id.
    pub fn peer_id(&self) -> PeerId {
        self.libp2p_keypair().public().to_peer_id()
    }

    /// The same key as a libp2p keypair, for the swarm.
    pub fn libp2p_keypair(&self) -> libp2p_identity::Keypair {
        libp2p_identity::Keypair::ed25519_from_bytes(self.key.to_bytes())
            .expect("a 32-byte seed is always a valid ed25519 secret key")
    }

    /// Signs a record body.
    pub fn sign_record<T: Record>(&self, body: T) -> Signed<T> {
        let signature = self.key.sign(&Signed::signing_bytes(&body));
        Signed {
            body,
            signature: signature.to_bytes().to_vec(),
        }
    }

    /// Signs arbitrary bytes under a domain-separation label (used for key certificates).
    pub fn sign_labelled(&self, label: &str, bytes: &[u8]) -> [u8; 64] {
        self.key.sign(&labelled(label, bytes)).to_bytes()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("peer_id", &self.peer_id())
            .finish_non_exhaustive()
    }
}

fn labelled(label: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(label.len() + 1 + bytes.len());
    out.extend_from_slice(label.as_bytes());
    out.push(0);
    out.extend_from_slice(bytes);
    out
}

/// The ed25519 public key inside an ed25519 `PeerId`.
pub fn public_key_of(peer: &PeerId) -> Result<VerifyingKey, ValidationError> {
    let public = libp2p_identity::PublicKey::try_decode_protobuf(peer.as_ref().digest())
        .map_err(|_| ValidationError::AuthorKey)?;
    let ed = public
        .try_into_ed25519()
        .map_err(|_| ValidationError::AuthorKey)?;
    VerifyingKey::from_bytes(&ed.to_bytes()).map_err(|_| ValidationError::AuthorKey)
}

/// Verifies a labelled signature made with [`Identity::sign_labelled`].
pub fn verify_labelled(
    peer: &PeerId,
    label: &str,
    bytes: &[u8],
    signature: &[u8],
) -> Result<(), ValidationError> {
    let key = public_key_of(peer)?;
    let sig = Signature::from_slice(signature).map_err(|_| ValidationError::BadSignature)?;
    key.verify_strict(&labelled(label, bytes), &sig)
        .map_err(|_| ValidationError::BadSignature)
}

/// Checks a signed record completely: its fields ([`Record::validate`] at `now_ms`) and its
/// author's signature (strict ed25519 verification).
pub fn verify_record<T: Record>(record: &Signed<T>, now_ms: u64) -> Result<(), ValidationError> {
    record.body.validate(now_ms)?;
    let key = public_key_of(record.author())?;
    let sig =
        Signature::from_slice(&record.signature).map_err(|_| ValidationError::BadSignature)?;
    key.verify_strict(&Signed::signing_bytes(&record.body), &sig)
        .map_err(|_| ValidationError::BadSignature)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperplane_protocol::{Follow, Handle, Profile};

    fn profile(author: PeerId) -> Profile {
        Profile {
            author,
            version: 1,
            updated_at: 10,
            handle: Handle::parse("alice").expect("valid"),
            display_name: "Alice".into(),
            bio: String::new(),
            avatar: None,
            business: None,
            messaging: None,
        }
    }

    #[test]
    fn sign_then_verify_and_forgeries_fail() {
        let alice = Identity::from_seed([1; 32]);
        let mallory = Identity::from_seed([2; 32]);
        let signed = alice.sign_record(profile(alice.peer_id()));
        assert_eq!(verify_record(&signed, 10), Ok(()));

        let mut tampered = signed.clone();
        tampered.body.bio = "pwned".into();
        assert_eq!(
            verify_record(&tampered, 10),
            Err(ValidationError::BadSignature)
        );

        // Mallory signs a profile claiming to be Alice.
        let forged = mallory.sign_record(profile(alice.peer_id()));
        assert_eq!(
            verify_record(&forged, 10),
            Err(ValidationError::BadSignature)
        );

        let mut short = signed.clone();
        short.signature.truncate(10);
        assert_eq!(
            verify_record(&short, 10),
            Err(ValidationError::BadSignature)
        );
    }

    #[test]
    fn a_signature_does_not_cross_record_kinds() {
        let alice = Identity::from_seed([1; 32]);
        let bob = Identity::from_seed([3; 32]);
        let follow = alice.sign_record(Follow {
            author: alice.peer_id(),
            followee: bob.peer_id(),
            following: true,
            at: 1,
        });
        let bytes = Signed::<Follow>::signing_bytes(&follow.body);
        let label = paperplane_protocol::records::Like::LABEL;
        assert!(!bytes.windows(label.len()).any(|w| w == label.as_bytes()));
        assert_eq!(verify_record(&follow, 1), Ok(()));
    }

    #[test]
    fn seed_round_trip_keeps_peer_id_and_debug_hides_secret() {
        let a = Identity::from_seed([9; 32]);
        let b = Identity::from_bytes(a.to_seed().as_ref()).expect("32 bytes");
        assert_eq!(a.peer_id(), b.peer_id());
        assert!(Identity::from_bytes(&[0; 5]).is_err());
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("09, 9") && dbg.contains("peer_id"));
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 section 7.1, TEST 1 (empty message).
        let seed: [u8; 32] =
            hex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let id = Identity::from_seed(seed);
        let sig = id.key.sign(b"").to_bytes();
        assert_eq!(
            hex(&sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert_eq!(
            hex(id.key.verifying_key().as_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }
}
