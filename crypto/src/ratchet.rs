//! The Double Ratchet (Signal's specification) over X25519, HKDF-SHA256 and HMAC-SHA256.
//!
//! - Root KDF: `HKDF-SHA256(salt = root key, ikm = DH output, info = ROOT_INFO)` → 64 bytes:
//!   the next root key and a chain key.
//! - Chain KDF: message key = `HMAC-SHA256(chain key, 0x01)`, next chain key =
//!   `HMAC-SHA256(chain key, 0x02)`.
//! - DH ratchet per turn. The new sending key pair is drawn lazily, at the first
//!   encryption after a turn, so decryption needs no randomness.
//!
//! Bounds (see the crate constants): one received message may skip at most [`MAX_SKIP`] keys
//! (counted over the previous and the new chain together), checked before anything is derived;
//! at most [`MAX_STORED_SKIPPED`] skipped keys are kept per session (oldest dropped first);
//! at most [`MAX_RECEIVING_CHAINS`] receiving chains are kept (the oldest dropped with its
//! skipped keys). A receiving chain is closed (its chain key wiped) once the peer has moved on
//! and its skipped keys up to the announced previous-chain length are stored.
//!
//! All methods mutate `self`; callers run them on a copy and keep it only after the message
//! authenticates.

use std::collections::BTreeMap;

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{
    dh::{reserve_wiping, wipe_spare_capacity, KeyPair, NonContributory, SecretBytes},
    error::{DecryptError, EncryptError},
};

/// Most message keys one received message may make us skip.
pub const MAX_SKIP: u32 = 1_000;
/// Most skipped message keys stored per session.
pub const MAX_STORED_SKIPPED: usize = 2_000;
/// Most receiving chains kept per session.
pub const MAX_RECEIVING_CHAINS: usize = 5;

/// HKDF info of the root KDF.
const ROOT_INFO: &[u8] = b"paperplane/ratchet-root/1";

/// The public header of a ratchet message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatchetHeader {
    /// The sender's current ratchet public key.
    pub ratchet_key: [u8; 32],
    /// How many messages the sender sent on its previous sending chain.
    pub previous_chain_length: u32,
    /// This message's number in the current sending chain.
    pub counter: u32,
}

impl RatchetHeader {
    /// Length of [`Self::encode`]'s output.
    pub const ENCODED_LEN: usize = 40;

    /// The fixed-width encoding bound into associated data.
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[..32].copy_from_slice(&self.ratchet_key);
        out[32..36].copy_from_slice(&self.previous_chain_length.to_be_bytes());
        out[36..].copy_from_slice(&self.counter.to_be_bytes());
        out
    }
}

/// Root KDF: the next root key and a new chain key.
pub(crate) fn kdf_rk(root_key: &SecretBytes, dh: &SecretBytes) -> (SecretBytes, SecretBytes) {
    let hk = Hkdf::<Sha256>::new(Some(root_key.expose()), dh.expose());
    let mut okm = Zeroizing::new([0u8; 64]);
    hk.expand(ROOT_INFO, okm.as_mut())
        .expect("64 bytes is a valid HKDF-SHA256 output length");
    (
        SecretBytes::copy_of(&okm[..32]),
        SecretBytes::copy_of(&okm[32..]),
    )
}

/// Chain KDF: the next chain key and this step's message key.
pub(crate) fn kdf_ck(chain_key: &SecretBytes) -> (SecretBytes, SecretBytes) {
    let mac = |byte: u8| {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(chain_key.expose())
            .expect("HMAC takes keys of any length");
        m.update(&[byte]);
        // `CtOutput` wipes itself on drop (digest's `zeroize`, via hmac's): copy out of it
        // rather than `into_bytes`, which returns an unwiped array.
        SecretBytes::copy_of(m.finalize().as_bytes())
    };
    (mac(0x02), mac(0x01))
}

#[derive(Clone, Serialize, Deserialize)]
struct SendingChain {
    chain_key: SecretBytes,
    next: u32,
}

#[derive(Clone, Serialize, Deserialize)]
struct ReceivingChain {
    ratchet_key: [u8; 32],
    /// `None` once closed: the peer moved on and every key up to its announced length is in
    /// `skipped`.
    chain_key: Option<SecretBytes>,
    next: u32,
    skipped: BTreeMap<u32, SecretBytes>,
}

impl ReceivingChain {
    /// Derives keys up to `until` (exclusive), storing them as skipped. The caller checked
    /// the bound.
    fn skip_to(&mut self, until: u32) {
        let Some(mut ck) = self.chain_key.take() else {
            return;
        };
        while self.next < until {
            let (next_ck, mk) = kdf_ck(&ck);
            self.skipped.insert(self.next, mk);
            ck = next_ck;
            self.next += 1;
        }
        self.chain_key = Some(ck);
    }

    /// Skips to `counter` and returns its key. `counter < u32::MAX` and the chain is open.
    fn key_at(&mut self, counter: u32) -> Option<SecretBytes> {
        self.skip_to(counter);
        let ck = self.chain_key.take()?;
        let (next_ck, mk) = kdf_ck(&ck);
        self.chain_key = Some(next_ck);
        self.next = counter.checked_add(1)?;
        Some(mk)
    }
}

/// One side's Double Ratchet state. Serializable, secrets included: the caller persists it.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Ratchet {
    root_key: SecretBytes,
    self_key: KeyPair,
    remote_key: Option<[u8; 32]>,
    sending: Option<SendingChain>,
    previous_sending_length: u32,
    /// Oldest first.
    receiving: Vec<ReceivingChain>,
}

impl Ratchet {
    /// The initiator's state: it knows the responder's prekey, which is the responder's first
    /// ratchet key, and makes its first sending chain right away.
    pub(crate) fn initiator<R: CryptoRng + ?Sized>(
        rng: &mut R,
        root_key: SecretBytes,
        remote_prekey: [u8; 32],
    ) -> Result<Self, NonContributory> {
        let mut r = Self {
            root_key,
            self_key: KeyPair::generate(rng),
            remote_key: Some(remote_prekey),
            sending: None,
            previous_sending_length: 0,
            receiving: Vec::new(),
        };
        r.turn_sending(rng, remote_prekey)?;
        Ok(r)
    }

    /// The responder's state: its prekey is its first ratchet key; it can send once it has
    /// received.
    pub(crate) fn responder(root_key: SecretBytes, prekey: KeyPair) -> Self {
        Self {
            root_key,
            self_key: prekey,
            remote_key: None,
            sending: None,
            previous_sending_length: 0,
            receiving: Vec::new(),
        }
    }

    fn turn_sending<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        remote: [u8; 32],
    ) -> Result<(), NonContributory> {
        let pair = KeyPair::generate(rng);
        let dh = pair.diffie_hellman(&remote)?;
        let (rk, ck) = kdf_rk(&self.root_key, &dh);
        self.root_key = rk;
        self.self_key = pair;
        self.sending = Some(SendingChain {
            chain_key: ck,
            next: 0,
        });
        Ok(())
    }

    /// The header and key of the next message to send, turning the DH ratchet first if the
    /// peer has moved on since we last sent.
    pub(crate) fn next_send<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(RatchetHeader, SecretBytes), EncryptError> {
        if self.sending.is_none() {
            let remote = self
                .remote_key
                .ok_or(EncryptError::CorruptState("no peer ratchet key to send to"))?;
            self.turn_sending(rng, remote)?;
        }
        let chain = self
            .sending
            .as_mut()
            .ok_or(EncryptError::CorruptState("no sending chain"))?;
        if chain.next == u32::MAX {
            return Err(EncryptError::ChainExhausted);
        }
        let (ck, mk) = kdf_ck(&chain.chain_key);
        let header = RatchetHeader {
            ratchet_key: self.self_key.public(),
            previous_chain_length: self.previous_sending_length,
            counter: chain.next,
        };
        chain.chain_key = ck;
        chain.next += 1;
        Ok((header, mk))
    }

    /// The key of a received message, advancing the state. On error the caller discards
    /// this (copied) state.
    pub(crate) fn receive(&mut self, header: &RatchetHeader) -> Result<SecretBytes, DecryptError> {
        if header.counter == u32::MAX {
            return Err(DecryptError::Malformed("counter out of range"));
        }
        if let Some(chain) = self
            .receiving
            .iter_mut()
            .find(|c| c.ratchet_key == header.ratchet_key)
        {
            if header.counter < chain.next {
                return chain
                    .skipped
                    .remove(&header.counter)
                    .ok_or(DecryptError::ReplayedOrExpired);
            }
            if chain.chain_key.is_none() {
                // Beyond the length the peer announced for this closed chain.
                return Err(DecryptError::ReplayedOrExpired);
            }
            let skip = u64::from(header.counter - chain.next);
            if skip > u64::from(MAX_SKIP) {
                return Err(DecryptError::TooManySkipped {
                    skip,
                    max: MAX_SKIP,
                });
            }
            let mk = chain
                .key_at(header.counter)
                .ok_or(DecryptError::Malformed("counter out of range"))?;
            self.bound_skipped();
            return Ok(mk);
        }
        self.receive_new_chain(header)
    }

    fn receive_new_chain(&mut self, header: &RatchetHeader) -> Result<SecretBytes, DecryptError> {
        let current = self.receiving.last().filter(|c| c.chain_key.is_some());
        let skip_previous = current.map_or(0, |c| {
            u64::from(header.previous_chain_length.saturating_sub(c.next))
        });
        let skip = skip_previous + u64::from(header.counter);
        if skip > u64::from(MAX_SKIP) {
            return Err(DecryptError::TooManySkipped {
                skip,
                max: MAX_SKIP,
            });
        }
        let dh = self.self_key.diffie_hellman(&header.ratchet_key)?;
        if let Some(current) = self.receiving.last_mut() {
            current.skip_to(header.previous_chain_length);
            current.chain_key = None;
        }
        let (rk, ck) = kdf_rk(&self.root_key, &dh);
        self.root_key = rk;
        if let Some(sending) = self.sending.take() {
            self.previous_sending_length = sending.next;
        }
        self.remote_key = Some(header.ratchet_key);
        reserve_wiping(&mut self.receiving, 1);
        self.receiving.push(ReceivingChain {
            ratchet_key: header.ratchet_key,
            chain_key: Some(ck),
            next: 0,
            skipped: BTreeMap::new(),
        });
        if self.receiving.len() > MAX_RECEIVING_CHAINS {
            self.receiving.remove(0);
            // The chains moved down one place; the last slot keeps a copy of a chain key.
            wipe_spare_capacity(&mut self.receiving);
        }
        let mk = self
            .receiving
            .last_mut()
            .and_then(|c| c.key_at(header.counter))
            .ok_or(DecryptError::Malformed("counter out of range"))?;
        self.bound_skipped();
        Ok(mk)
    }

    /// Drops the oldest skipped keys (oldest chain, lowest counter first) beyond the bound.
    fn bound_skipped(&mut self) {
        let mut excess = self.stored_skipped().saturating_sub(MAX_STORED_SKIPPED);
        for chain in &mut self.receiving {
            while excess > 0 && chain.skipped.pop_first().is_some() {
                excess -= 1;
            }
        }
    }

    /// How many skipped keys are stored.
    pub(crate) fn stored_skipped(&self) -> usize {
        self.receiving.iter().map(|c| c.skipped.len()).sum()
    }

    /// How many receiving chains are kept.
    pub(crate) fn receiving_chains(&self) -> usize {
        self.receiving.len()
    }

    /// For a responder the peer has not heard from: the peer's first ratchet key (the one
    /// its handshake messages carry) and the first counter on it we have not consumed.
    /// `None` once we have sent or the peer has turned the ratchet.
    pub(crate) fn unanswered_first_chain(&self) -> Option<([u8; 32], u32)> {
        match (self.receiving.as_slice(), &self.sending) {
            ([only], None) if self.previous_sending_length == 0 => {
                Some((only.ratchet_key, only.next))
            }
            _ => None,
        }
    }

    /// On a fresh responder state: opens the peer's first receiving chain at counter `next`,
    /// deriving and discarding the keys below it (they were consumed in a session of the
    /// same handshake that was deleted, so their messages must not open again). The state
    /// is the one [`Self::receive`] would reach, minus those skipped keys.
    pub(crate) fn resume_first_chain(
        &mut self,
        ratchet_key: &[u8; 32],
        next: u32,
    ) -> Result<(), DecryptError> {
        if !self.receiving.is_empty() || self.sending.is_some() || next == u32::MAX {
            return Err(DecryptError::ReplayedOrExpired);
        }
        let dh = self.self_key.diffie_hellman(ratchet_key)?;
        let (rk, mut ck) = kdf_rk(&self.root_key, &dh);
        self.root_key = rk;
        for _ in 0..next {
            ck = kdf_ck(&ck).0;
        }
        self.remote_key = Some(*ratchet_key);
        self.receiving.push(ReceivingChain {
            ratchet_key: *ratchet_key,
            chain_key: Some(ck),
            next,
            skipped: BTreeMap::new(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn pair(rng: &mut ChaCha20Rng) -> (Ratchet, Ratchet) {
        let prekey = KeyPair::generate(rng);
        let root = SecretBytes::new([9; 32]);
        let alice = Ratchet::initiator(rng, root.clone(), prekey.public()).expect("contributory");
        let bob = Ratchet::responder(root, prekey);
        (alice, bob)
    }

    fn send(r: &mut Ratchet, rng: &mut ChaCha20Rng) -> (RatchetHeader, [u8; 32]) {
        let (h, k) = r.next_send(rng).expect("sends");
        (h, *k.expose())
    }

    fn recv(r: &mut Ratchet, h: &RatchetHeader) -> Result<[u8; 32], DecryptError> {
        r.receive(h).map(|k| *k.expose())
    }

    #[test]
    fn kdfs_are_frozen() {
        let (rk, ck) = kdf_rk(&SecretBytes::new([1; 32]), &SecretBytes::new([2; 32]));
        let (ck2, mk) = kdf_ck(&SecretBytes::new([3; 32]));
        assert_eq!(
            [rk, ck, ck2, mk].map(|k| hex::encode(k.expose())),
            // Cross-checked with Python's hmac/hashlib (HKDF per RFC 5869).
            [
                "562e4fe15f826e0c4ca978a57cbab7e2f80fa1e839a8e792fe01d7bcb10ae0eb",
                "1a4015ef36b71aec89a454e0b5dcf91d4279164526098b93f5251026d8c98bcd",
                "cfbf8f5595e5f186a92161efb3ebb946d3aa706c2df70eed5152741bdb1e7bde",
                "aa6fa3f949be2b2cc7de5a18e7f65fee5fb78488f588d53196a63e66ad67ad12",
            ]
        );
    }

    #[test]
    fn turns_and_out_of_order_delivery_agree() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (mut a, mut b) = pair(&mut rng);
        let a0 = send(&mut a, &mut rng);
        let a1 = send(&mut a, &mut rng);
        let a2 = send(&mut a, &mut rng);
        assert_eq!(recv(&mut b, &a2.0), Ok(a2.1));
        assert_eq!(b.stored_skipped(), 2);
        assert_eq!(recv(&mut b, &a0.0), Ok(a0.1));
        let b0 = send(&mut b, &mut rng);
        assert_ne!(b0.0.ratchet_key, a0.0.ratchet_key);
        assert_eq!(recv(&mut a, &b0.0), Ok(b0.1));
        let a3 = send(&mut a, &mut rng);
        assert_eq!(a3.0.previous_chain_length, 3);
        assert_eq!(a3.0.counter, 0);
        assert_eq!(recv(&mut b, &a3.0), Ok(a3.1));
        // a1 from the closed chain still opens, once.
        assert_eq!(recv(&mut b, &a1.0), Ok(a1.1));
        assert_eq!(recv(&mut b, &a1.0), Err(DecryptError::ReplayedOrExpired));
        assert_eq!(b.stored_skipped(), 0);
    }

    #[test]
    fn skip_bound_is_checked_before_deriving() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (mut a, mut b) = pair(&mut rng);
        let (mut h, _) = send(&mut a, &mut rng);
        h.counter = MAX_SKIP + 1;
        assert!(matches!(
            b.receive(&h),
            Err(DecryptError::TooManySkipped {
                skip: 1001,
                max: 1000
            })
        ));
        assert_eq!(b.receiving_chains(), 0);
        h.counter = MAX_SKIP;
        assert!(b.receive(&h).is_ok());
        assert_eq!(b.stored_skipped(), 1_000);
        h.counter = 2 * MAX_SKIP + 2; // 1,001 past the next expected (1,001)
        let before = b.stored_skipped();
        assert!(matches!(
            b.receive(&h),
            Err(DecryptError::TooManySkipped { skip: 1001, .. })
        ));
        assert_eq!(b.stored_skipped(), before);
        h.counter = u32::MAX;
        assert!(matches!(b.receive(&h), Err(DecryptError::Malformed(_))));
    }

    #[test]
    fn stored_keys_and_chains_are_bounded() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let (mut a, mut b) = pair(&mut rng);
        for _ in 0..8 {
            // Alice sends 700 (only the last arrives), Bob replies: a new chain each turn.
            let mut last = None;
            for _ in 0..700 {
                last = Some(send(&mut a, &mut rng));
            }
            let (h, k) = last.expect("sent");
            assert_eq!(recv(&mut b, &h), Ok(k));
            assert!(b.stored_skipped() <= MAX_STORED_SKIPPED);
            assert!(b.receiving_chains() <= MAX_RECEIVING_CHAINS);
            let (h, k) = send(&mut b, &mut rng);
            assert_eq!(recv(&mut a, &h), Ok(k));
        }
        assert_eq!(b.stored_skipped(), MAX_STORED_SKIPPED);
        assert_eq!(b.receiving_chains(), MAX_RECEIVING_CHAINS);
    }

    #[test]
    fn a_resumed_first_chain_opens_later_messages_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let prekey = KeyPair::generate(&mut rng);
        let root = SecretBytes::new([9; 32]);
        let mut a = Ratchet::initiator(&mut rng, root.clone(), prekey.public()).expect("ok");
        let sent: Vec<_> = (0..4).map(|_| send(&mut a, &mut rng)).collect();
        let mut b = Ratchet::responder(root.clone(), prekey.clone());
        assert_eq!(b.unanswered_first_chain(), None);
        assert_eq!(recv(&mut b, &sent[1].0), Ok(sent[1].1));
        let (first_key, next) = b.unanswered_first_chain().expect("unanswered");
        assert_eq!((first_key, next), (sent[0].0.ratchet_key, 2));

        let mut resumed = Ratchet::responder(root, prekey);
        resumed
            .resume_first_chain(&first_key, next)
            .expect("resumes");
        assert_eq!(resumed.stored_skipped(), 0);
        assert_eq!(
            recv(&mut resumed, &sent[0].0),
            Err(DecryptError::ReplayedOrExpired)
        );
        assert_eq!(
            recv(&mut resumed, &sent[1].0),
            Err(DecryptError::ReplayedOrExpired)
        );
        assert_eq!(recv(&mut resumed, &sent[3].0), Ok(sent[3].1));
        assert_eq!(recv(&mut resumed, &sent[2].0), Ok(sent[2].1));
        assert!(
            resumed.resume_first_chain(&first_key, 0).is_err(),
            "fresh state only"
        );

        // Once the responder has sent, it is no longer unanswered.
        let _ = send(&mut b, &mut rng);
        assert_eq!(b.unanswered_first_chain(), None);
    }

    #[test]
    fn low_order_ratchet_keys_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let (mut a, mut b) = pair(&mut rng);
        let (mut h, _) = send(&mut a, &mut rng);
        h.ratchet_key = [0; 32];
        assert!(matches!(
            b.receive(&h),
            Err(DecryptError::NonContributory(_))
        ));
    }
}
