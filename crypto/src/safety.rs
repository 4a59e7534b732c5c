//! Safety numbers: a fingerprint two users compare (read aloud or side by side) to check that
//! each holds the other's real keys, as in Signal.
//!
//! Each side's half is SHA-512 iterated 5,200 times over a version, the user's id and both of
//! their public identity keys (ed25519 inside the id, X25519 given); its first 30 bytes make
//! six 5-digit groups. The number lists the lower id's half first, so both users see the same
//! 60 digits.

use paperplane_protocol::PeerId;
use sha2::{Digest, Sha512};

const VERSION: [u8; 2] = [0, 1];
const ITERATIONS: usize = 5_200;

fn half(peer: &PeerId, x25519_identity: &[u8; 32]) -> String {
    let id = peer.to_bytes();
    let mut key = Vec::with_capacity(id.len() + 32);
    key.extend_from_slice(&id);
    key.extend_from_slice(x25519_identity);
    let mut hash = Sha512::new()
        .chain_update(VERSION)
        .chain_update(&key)
        .chain_update(&id)
        .finalize();
    for _ in 1..ITERATIONS {
        hash = Sha512::new()
            .chain_update(hash)
            .chain_update(&key)
            .finalize();
    }
    hash[..30]
        .chunks(5)
        .map(|c| {
            let n = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The safety number of the pair (`a`, `b`), each with their X25519 identity key: 12 groups
/// of 5 digits, the same whichever side computes it.
pub fn safety_number(a: (&PeerId, &[u8; 32]), b: (&PeerId, &[u8; 32])) -> String {
    let (first, second) = if a.0.to_bytes() <= b.0.to_bytes() {
        (a, b)
    } else {
        (b, a)
    };
    format!("{} {}", half(first.0, first.1), half(second.0, second.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Identity;

    #[test]
    fn symmetric_and_key_dependent() {
        let (a, b) = (
            Identity::from_seed([1; 32]).peer_id(),
            Identity::from_seed([2; 32]).peer_id(),
        );
        let (ka, kb) = ([10u8; 32], [20u8; 32]);
        let n = safety_number((&a, &ka), (&b, &kb));
        assert_eq!(n, safety_number((&b, &kb), (&a, &ka)));
        assert_eq!(n.split(' ').count(), 12);
        assert!(n
            .split(' ')
            .all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit())));
        assert_ne!(n, safety_number((&a, &ka), (&b, &[21u8; 32])));
    }
}
