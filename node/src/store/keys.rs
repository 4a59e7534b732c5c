//! Fixed-width key encodings shared by the store's trees.

use paperplane_protocol::PeerId;

/// Width of an ed25519 `PeerId`'s byte encoding.
pub(crate) const PEER_KEY_LEN: usize = 38;

/// A peer's key: its byte encoding (38 bytes for every ed25519 id).
pub(crate) fn peer_key(peer: &PeerId) -> Vec<u8> {
    peer.to_bytes()
}

/// `peer ‖ seq (big-endian)`, so one author's posts sort by sequence.
pub(crate) fn post_key(peer: &PeerId, seq: u64) -> Vec<u8> {
    let mut k = peer_key(peer);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The sequence number at the end of a post key.
pub(crate) fn seq_of(key: &[u8]) -> u64 {
    key.get(PEER_KEY_LEN..PEER_KEY_LEN + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}
