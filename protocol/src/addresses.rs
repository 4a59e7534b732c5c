//! Where a peer can be reached: the signed, expiring record of its addresses that a node
//! publishes in the DHT (`/paperplane/kad/1`) under its peer id, so that anyone holding the
//! peer id alone can dial it — directly, or through the relays it names.
//!
//! Addresses are multiaddr strings here (this crate parses no multiaddrs); the node parses
//! them and ignores the ones it cannot dial.

use serde::{Deserialize, Serialize};

use crate::{error::ValidationError, records::Record, PeerId};

/// Most addresses in one record.
pub const MAX_ADDRESSES: usize = 16;
/// Longest address, in bytes (a relayed address names two peer ids).
pub const MAX_ADDRESS_BYTES: usize = 300;
/// The longest a record may live: a day. A node republishes well before its record ends.
pub const MAX_ADDRESS_TTL_MS: u64 = 24 * 60 * 60 * 1000;
/// Largest encoded signed record accepted from the DHT.
pub const MAX_ADDRESS_RECORD_BYTES: usize = 8 * 1024;

/// The DHT key a peer's [`PeerAddresses`] is stored under.
pub fn dht_key(peer: &PeerId) -> Vec<u8> {
    let mut key = b"/paperplane/addr/".to_vec();
    key.extend_from_slice(&peer.to_bytes());
    key
}

/// A peer's current addresses, signed by the peer, valid until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerAddresses {
    /// Whose addresses.
    pub peer: PeerId,
    /// Multiaddrs, the most useful first (relayed ones included, ending in `/p2p-circuit`).
    pub addrs: Vec<String>,
    /// When the record was made (Unix ms); a newer record replaces an older one.
    pub published_at: u64,
    /// After this (Unix ms) the record is stale and neither stored nor used.
    pub expires_at: u64,
}

impl PeerAddresses {
    /// Whether the record has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at
    }
}

impl Record for PeerAddresses {
    const LABEL: &'static str = "paperplane/addresses/1";
    fn author(&self) -> &PeerId {
        &self.peer
    }
    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        super::records::check_time(self.published_at, now_ms)?;
        if self.is_expired(now_ms) {
            return Err(ValidationError::Inconsistent(
                "the address record has expired",
            ));
        }
        if self.expires_at.saturating_sub(self.published_at) > MAX_ADDRESS_TTL_MS {
            return Err(ValidationError::Inconsistent(
                "the address record lives longer than a day",
            ));
        }
        if self.addrs.len() > MAX_ADDRESSES {
            return Err(ValidationError::Count {
                field: "addresses",
                count: self.addrs.len(),
                min: 0,
                max: MAX_ADDRESSES,
            });
        }
        for a in &self.addrs {
            if a.len() > MAX_ADDRESS_BYTES || !a.starts_with('/') {
                return Err(ValidationError::Inconsistent(
                    "an address is not a multiaddr",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(published_at: u64, ttl: u64, addrs: usize) -> PeerAddresses {
        PeerAddresses {
            peer: crate::fresh_test_peer(),
            addrs: (0..addrs)
                .map(|i| format!("/ip4/10.0.0.{i}/tcp/4001"))
                .collect(),
            published_at,
            expires_at: published_at + ttl,
        }
    }

    #[test]
    fn validation_bounds_time_count_and_form() {
        let now = 1_000_000_000;
        assert!(record(now, 60_000, 3).validate(now).is_ok());
        assert!(
            record(now, 60_000, 3).validate(now + 60_000).is_err(),
            "expired"
        );
        assert!(record(now, MAX_ADDRESS_TTL_MS + 1, 1)
            .validate(now)
            .is_err());
        assert!(record(now, 60_000, MAX_ADDRESSES + 1)
            .validate(now)
            .is_err());
        assert!(
            record(now + 3_600_000, 60_000, 1).validate(now).is_err(),
            "future"
        );
        let mut bad = record(now, 60_000, 1);
        bad.addrs[0] = "not an address".into();
        assert!(bad.validate(now).is_err());
        bad.addrs[0] = format!("/{}", "x".repeat(MAX_ADDRESS_BYTES));
        assert!(bad.validate(now).is_err());
    }

    #[test]
    fn keys_differ_per_peer() {
        let (a, b) = (crate::fresh_test_peer(), crate::fresh_test_peer());
        assert_ne!(dht_key(&a), dht_key(&b));
        assert!(dht_key(&a).starts_with(b"/paperplane/addr/"));
    }
}
