//! Encoding secret state for the caller's store without leaving copies behind.
//!
//! [`paperplane_protocol::encode`] writes into a `Vec` that grows by reallocating: each
//! growth frees the previous allocation, holding a prefix of the encoding, as it is, and the
//! final `Vec` is not wiped either. [`encode_secret`] writes the same bytes into a buffer that
//! wipes every allocation it leaves and is wiped itself on drop, for state that holds secrets
//! ([`Conversation`](crate::Conversation), [`PrekeyStore`](crate::PrekeyStore)).

use bincode::{enc::write::Writer, error::EncodeError};
use paperplane_protocol::{encoding::VERSION, limits::MAX_FRAME_BYTES};
use serde::Serialize;
use zeroize::Zeroizing;

/// First capacity of the buffer: a conversation's usual size, so small states never grow.
const INITIAL_CAPACITY: usize = 4 * 1024;

/// `value` encoded exactly as [`paperplane_protocol::encode`] does (the version byte, then
/// bincode 2 with the protocol's configuration), in a buffer wiped on drop; no allocation
/// freed on the way keeps any of it. Store it with `.as_slice()`.
///
/// # Panics
/// Like [`paperplane_protocol::encode`]: if `value` cannot be represented or its encoding
/// exceeds the protocol's frame limit ([`MAX_FRAME_BYTES`]).
pub fn encode_secret<T: Serialize + ?Sized>(value: &T) -> Zeroizing<Vec<u8>> {
    let mut writer = WipingWriter(Zeroizing::new(Vec::with_capacity(INITIAL_CAPACITY)));
    writer.push(&[VERSION]);
    bincode::serde::encode_into_writer(
        value,
        &mut writer,
        bincode::config::standard().with_limit::<MAX_FRAME_BYTES>(),
    )
    .expect("state within the frame limit always encodes");
    writer.0
}

/// A `Vec` writer that moves to a larger allocation itself, wiping the old one.
struct WipingWriter(Zeroizing<Vec<u8>>);

impl WipingWriter {
    fn push(&mut self, bytes: &[u8]) {
        let needed = self.0.len().saturating_add(bytes.len());
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(self.0.capacity().saturating_mul(2)));
            grown.extend_from_slice(&self.0);
            // The old allocation is wiped (spare capacity included) as it is dropped here.
            self.0 = Zeroizing::new(grown);
        }
        // Within the capacity: no reallocation.
        self.0.extend_from_slice(bytes);
    }
}

impl Writer for WipingWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.push(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{test_support, Conversation};
    use chacha20::ChaCha20Rng;
    use paperplane_protocol::{decode, encode};
    use rand_core::SeedableRng;

    #[test]
    fn the_same_bytes_as_the_protocol_encoding() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let (a, b) = (
            test_support::party(1, &mut rng, 0),
            test_support::party(2, &mut rng, 0),
        );
        let keys = b.prekeys.messaging_keys(&b.id, &b.ik);
        let conv = Conversation::new(b.id.peer_id())
            .start(&mut rng, &a.ik, &keys, 0)
            .expect("starts");
        assert_eq!(*encode_secret(&conv), encode(&conv));
        assert_eq!(*encode_secret(&a.prekeys), encode(&a.prekeys));

        // Larger than the first capacity: the buffer grows (twice) on the way.
        let large = vec![9u8; 3 * INITIAL_CAPACITY];
        let encoded = encode_secret(&large);
        assert_eq!(*encoded, encode(&large));
        let back: Vec<u8> = decode(&encoded, MAX_FRAME_BYTES).expect("decodes");
        assert_eq!(back, large);
    }
}
