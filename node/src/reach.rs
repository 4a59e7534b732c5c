//! The rules for being reachable beyond the LAN, free of I/O: what AutoNAT's tests mean,
//! which addresses go into the published address record and when, and which connections
//! a node has no use for any more.

use libp2p::{multiaddr::Protocol, Multiaddr};
use paperplane_protocol::{
    addresses::{self, PeerAddresses, MAX_ADDRESS_RECORD_BYTES},
    decode, Signed,
};
use serde::{Deserialize, Serialize};

/// How long a published address record lives (an hour).
pub const ADDRESS_TTL_MS: u64 = 60 * 60 * 1000;
/// The record is published again this long after the last time, changed or not.
pub const REPUBLISH_MS: u64 = 20 * 60 * 1000;
/// A change of addresses is published this long after the previous record at the earliest,
/// so a burst of changes (listeners, a reservation, a confirmed address) is one record.
pub const PUBLISH_DEBOUNCE_MS: u64 = 2 * 1000;
/// How often reservations on relays are looked after.
pub const RESERVATION_CHECK_MS: u64 = 30 * 1000;
/// How often idle connections are looked for.
pub const IDLE_CHECK_MS: u64 = 5 * 1000;
/// Relays a node remembers (to reserve on; the first ones met are kept).
pub const MAX_KNOWN_RELAYS: usize = 32;
/// Reservations a node that is not publicly reachable keeps.
pub const WANTED_RESERVATIONS: usize = 2;

/// Whether the node can be dialled from the internet, as AutoNAT found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    /// Not tested yet (or nobody to test with).
    #[default]
    Unknown,
    /// A peer dialled one of our addresses back: others can connect to us directly.
    Public,
    /// Dial-backs failed: we are behind a NAT or firewall, reachable through relays.
    Private,
}

/// Reachability after an AutoNAT test (`reachable`: the dial-back worked), with
/// `confirmed` public addresses known to the swarm.
pub fn after_test(reachable: bool, confirmed: usize) -> Reachability {
    if reachable || confirmed > 0 {
        Reachability::Public
    } else {
        Reachability::Private
    }
}

/// Reachability after a confirmed address appeared or expired.
pub fn after_external_change(before: Reachability, confirmed: usize) -> Reachability {
    match (confirmed, before) {
        (0, Reachability::Public) => Reachability::Unknown,
        (0, other) => other,
        _ => Reachability::Public,
    }
}

/// Whether `addr` runs through a relay.
pub fn is_relayed(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| matches!(p, Protocol::P2pCircuit))
}

fn is_local(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback() || ip.is_unspecified(),
        Protocol::Ip6(ip) => ip.is_loopback() || ip.is_unspecified(),
        _ => false,
    })
}

/// Whether a listen address may be dialled from other hosts: neither loopback nor
/// unspecified, nor through a relay.
pub fn is_public_candidate(addr: &Multiaddr) -> bool {
    !is_local(addr) && !is_relayed(addr)
}

/// The address of a peer's to dial it at, from the listen addresses it announced: the
/// first that is neither loopback nor relayed, else the first not relayed.
pub fn best_listen_addr(addrs: &[Multiaddr]) -> Option<Multiaddr> {
    let direct = || addrs.iter().filter(|a| !is_relayed(a));
    direct()
        .find(|a| !is_local(a))
        .or_else(|| direct().next())
        .cloned()
}

/// The addresses the record publishes, most useful first: relayed addresses (they work
/// from anywhere), confirmed public ones, then listen addresses — without loopback ones
/// unless there is nothing else (a node on one machine). At most
/// [`paperplane_protocol::addresses::MAX_ADDRESSES`], no repeats.
pub fn publishable(listen: &[Multiaddr], external: &[Multiaddr]) -> Vec<Multiaddr> {
    let mut out: Vec<Multiaddr> = Vec::new();
    let relayed = listen.iter().filter(|a| is_relayed(a));
    let direct: Vec<&Multiaddr> = external
        .iter()
        .chain(listen.iter().filter(|a| !is_relayed(a)))
        .collect();
    let any_remote = direct.iter().any(|a| !is_local(a));
    for a in relayed.chain(direct.into_iter().filter(|a| !any_remote || !is_local(a))) {
        if !out.contains(a) && out.len() < paperplane_protocol::addresses::MAX_ADDRESSES {
            out.push(a.clone());
        }
    }
    out
}

/// The address to reach a relay at, from the listen addresses it announced: a QUIC one
/// if it has one (see [`best_listen_addr`] for the order otherwise).
pub fn relay_addr(addrs: &[Multiaddr]) -> Option<Multiaddr> {
    let quic: Vec<Multiaddr> = addrs
        .iter()
        .filter(|a| a.iter().any(|p| matches!(p, Protocol::QuicV1)))
        .cloned()
        .collect();
    best_listen_addr(&quic).or_else(|| best_listen_addr(addrs))
}

/// A peer's addresses worth dialling from another host: without loopback ones, unless
/// there is nothing else (a peer on the same machine).
pub fn dialable_elsewhere(addrs: Vec<Multiaddr>) -> Vec<Multiaddr> {
    if addrs.iter().all(is_local) {
        return addrs;
    }
    addrs.into_iter().filter(|a| !is_local(a)).collect()
}

/// Whether the address record is due: changed (and not published in the last
/// [`PUBLISH_DEBOUNCE_MS`]), or [`REPUBLISH_MS`] since the last one.
pub fn publish_due(changed: bool, last_ms: u64, now_ms: u64) -> bool {
    let since = now_ms.saturating_sub(last_ms);
    (changed && since >= PUBLISH_DEBOUNCE_MS) || since >= REPUBLISH_MS || last_ms == 0
}

/// Why a DHT value is not a usable address record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAddressRecord {
    /// Larger than [`MAX_ADDRESS_RECORD_BYTES`].
    #[error("the record is too large")]
    TooLarge,
    /// It does not decode.
    #[error("the record does not decode: {0}")]
    Malformed(String),
    /// Its fields or signature do not check out (expired, too many addresses, forged, …).
    #[error("the record is invalid: {0}")]
    Invalid(#[from] paperplane_protocol::ValidationError),
    /// It is stored under another peer's key.
    #[error("the record is stored under another peer's key")]
    WrongKey,
}

/// The address record in a DHT value stored under `key`, checked completely at `now_ms`:
/// size, encoding, fields, expiry, the signature of the peer it names, and that `key` is
/// that peer's.
pub fn address_record(
    key: &[u8],
    value: &[u8],
    now_ms: u64,
) -> Result<Signed<PeerAddresses>, BadAddressRecord> {
    if value.len() > MAX_ADDRESS_RECORD_BYTES {
        return Err(BadAddressRecord::TooLarge);
    }
    let signed: Signed<PeerAddresses> = decode(value, MAX_ADDRESS_RECORD_BYTES)
        .map_err(|e| BadAddressRecord::Malformed(e.to_string()))?;
    paperplane_crypto::verify_record(&signed, now_ms)?;
    if key != addresses::dht_key(&signed.body.peer).as_slice() {
        return Err(BadAddressRecord::WrongKey);
    }
    Ok(signed)
}

/// Why a connection is kept although idle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Uses {
    /// The user follows the peer or the peer follows the user.
    pub follows: bool,
    /// There is a chat with the peer or messages wait for them.
    pub chats: bool,
    /// The node keeps mail for the peer, or the peer keeps mail for the user.
    pub mailbox: bool,
    /// A relay reservation or circuit runs over it, either way.
    pub relay: bool,
    /// A bootstrap peer.
    pub bootstrap: bool,
}

impl Uses {
    /// Whether any use remains.
    pub fn any(&self) -> bool {
        self.follows || self.chats || self.mailbox || self.relay || self.bootstrap
    }
}

/// Whether a connection to a peer with `uses`, last active at `last_active_ms`, is closed
/// at `now_ms` when connections without use are kept `idle_ms`.
pub fn close_idle(uses: Uses, last_active_ms: u64, now_ms: u64, idle_ms: u64) -> bool {
    !uses.any() && now_ms.saturating_sub(last_active_ms) >= idle_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Multiaddr {
        s.parse().expect("multiaddr")
    }

    const RELAY: &str = "/ip4/10.77.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit";

    #[test]
    fn reachability_follows_tests_and_confirmed_addresses() {
        use Reachability::*;
        assert_eq!(after_test(true, 0), Public);
        assert_eq!(after_test(false, 0), Private);
        assert_eq!(after_test(false, 1), Public, "another address is confirmed");
        assert_eq!(after_external_change(Public, 0), Unknown);
        assert_eq!(after_external_change(Private, 0), Private);
        assert_eq!(after_external_change(Unknown, 1), Public);
    }

    #[test]
    fn publishable_puts_relayed_first_and_drops_loopback_when_there_is_more() {
        let listen = vec![
            a("/ip4/127.0.0.1/tcp/4001"),
            a("/ip4/10.78.1.2/tcp/4001"),
            a(RELAY),
        ];
        let external = vec![a("/ip4/10.77.0.2/tcp/4001"), a("/ip4/10.78.1.2/tcp/4001")];
        assert_eq!(
            publishable(&listen, &external),
            vec![
                a(RELAY),
                a("/ip4/10.77.0.2/tcp/4001"),
                a("/ip4/10.78.1.2/tcp/4001")
            ]
        );
        let only_loopback = vec![a("/ip4/127.0.0.1/tcp/4001")];
        assert_eq!(publishable(&only_loopback, &[]), only_loopback);
        let many: Vec<Multiaddr> = (0..40)
            .map(|i| a(&format!("/ip4/10.0.0.{i}/tcp/1")))
            .collect();
        assert_eq!(
            publishable(&many, &[]).len(),
            paperplane_protocol::addresses::MAX_ADDRESSES
        );
    }

    #[test]
    fn best_listen_addr_prefers_a_remote_direct_one() {
        let addrs = vec![
            a(RELAY),
            a("/ip4/127.0.0.1/tcp/1"),
            a("/ip4/10.77.0.1/tcp/4001"),
        ];
        assert_eq!(best_listen_addr(&addrs), Some(a("/ip4/10.77.0.1/tcp/4001")));
        assert_eq!(
            best_listen_addr(&addrs[..2]),
            Some(a("/ip4/127.0.0.1/tcp/1"))
        );
        assert_eq!(best_listen_addr(&addrs[..1]), None);
        assert!(is_relayed(&addrs[0]) && !is_relayed(&addrs[1]));
    }

    #[test]
    fn publishing_is_debounced_and_periodic() {
        assert!(publish_due(false, 0, 5), "never published");
        assert!(!publish_due(true, 1_000, 1_500), "within the debounce");
        assert!(publish_due(true, 1_000, 1_000 + PUBLISH_DEBOUNCE_MS));
        assert!(!publish_due(false, 1_000, 1_000 + REPUBLISH_MS - 1));
        assert!(publish_due(false, 1_000, 1_000 + REPUBLISH_MS));
    }

    #[test]
    fn address_records_are_checked_completely() {
        use paperplane_crypto::Identity;
        let now = 1_700_000_000_000;
        let alice = Identity::from_seed([1; 32]);
        let mallory = Identity::from_seed([2; 32]);
        let body = |peer| PeerAddresses {
            peer,
            addrs: vec!["/ip4/10.0.0.1/tcp/4001".into()],
            published_at: now,
            expires_at: now + ADDRESS_TTL_MS,
        };
        let key = addresses::dht_key(&alice.peer_id());
        let good = paperplane_protocol::encode(&alice.sign_record(body(alice.peer_id())));
        assert!(address_record(&key, &good, now).is_ok());
        // Expired by the time it is read.
        assert!(matches!(
            address_record(&key, &good, now + ADDRESS_TTL_MS),
            Err(BadAddressRecord::Invalid(_))
        ));
        // Signed by someone else in Alice's name.
        let mut forged = mallory.sign_record(body(alice.peer_id()));
        forged.body.addrs = vec!["/ip4/6.6.6.6/tcp/1".into()];
        let forged = paperplane_protocol::encode(&forged);
        assert!(matches!(
            address_record(&key, &forged, now),
            Err(BadAddressRecord::Invalid(_))
        ));
        // Mallory's own valid record, stored under Alice's key.
        let theirs = paperplane_protocol::encode(&mallory.sign_record(body(mallory.peer_id())));
        assert_eq!(
            address_record(&key, &theirs, now).map(|_| ()),
            Err(BadAddressRecord::WrongKey)
        );
        assert!(matches!(
            address_record(&key, b"garbage", now),
            Err(BadAddressRecord::Malformed(_))
        ));
        assert_eq!(
            address_record(&key, &vec![0; MAX_ADDRESS_RECORD_BYTES + 1], now).map(|_| ()),
            Err(BadAddressRecord::TooLarge)
        );
    }

    #[test]
    fn only_idle_connections_without_use_close() {
        let none = Uses::default();
        assert!(close_idle(none, 0, 120_000, 120_000));
        assert!(!close_idle(none, 1, 120_000, 120_000));
        for uses in [
            Uses {
                follows: true,
                ..none
            },
            Uses {
                chats: true,
                ..none
            },
            Uses {
                mailbox: true,
                ..none
            },
            Uses {
                relay: true,
                ..none
            },
            Uses {
                bootstrap: true,
                ..none
            },
        ] {
            assert!(!close_idle(uses, 0, u64::MAX, 1));
        }
    }
}
