//! How a node is started: its home and network settings.

use std::time::Duration;

use crate::{
    clock::Clock,
    home::{Home, HomeError},
};

/// Settings for [`crate::Node::start`]. Addresses are multiaddr strings.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The home directory (identity, store).
    pub home: Home,
    /// Addresses to listen on. Default: an ephemeral TCP and QUIC port on all interfaces.
    pub listen: Vec<String>,
    /// Bootstrap peers (`…/p2p/<id>`), dialled at start and added to Kademlia.
    pub bootstrap: Vec<String>,
    /// Peers to dial at start.
    pub connect: Vec<String>,
    /// LAN discovery by mDNS.
    pub mdns: bool,
    /// How often the node republishes its own profile.
    pub republish_interval: Duration,
    /// Anti-entropy: how long after a follow (or the start, or news) the node first asks
    /// peers whether they hold posts of a followed author it lacks.
    pub catch_up_first: Duration,
    /// Anti-entropy: the longest interval between two such questions while nothing new turns
    /// up (the interval doubles from [`NodeConfig::catch_up_first`] up to this).
    pub catch_up_most: Duration,
    /// Whether posts and reactions of followed authors arrive by gossip (the node subscribes
    /// to their feed topics). On by default; off, they arrive only by sync, which is how the
    /// catch-up path is tested and measured.
    pub feed_gossip: bool,
    /// Whether the node runs Kademlia (`/paperplane/kad/1`), learning peers' addresses from
    /// those it meets. On by default; off for many nodes in one process (a benchmark), where
    /// every node would otherwise connect to every other.
    pub kademlia: bool,
    /// Kademlia server mode (answering others' queries and storing records): `Some(true)`
    /// always, `Some(false)` never, `None` (the default) once AutoNAT confirms the node is
    /// publicly reachable. A relay server is always a DHT server.
    pub dht_server: Option<bool>,
    /// Whether the node offers to relay for peers that are not publicly reachable (relay v2
    /// with limits, see [`crate::net::relay_server_config`]). Off by default.
    pub relay_server: bool,
    /// A connection idle this long to a peer the node has no use for (not followed or
    /// following, no chat, no relay or mailbox duty, not a bootstrap peer) is closed.
    pub idle_connection_timeout: Duration,
    /// Where the node reads the time (the system clock unless a test sets its own).
    pub clock: Clock,
    /// Bytes of the store's page cache ([`crate::store::DEFAULT_CACHE_BYTES`] by default).
    pub store_cache_bytes: u64,
}

impl NodeConfig {
    /// Defaults for `home`, without reading its config file.
    pub fn new(home: Home) -> Self {
        Self {
            home,
            listen: vec![
                "/ip4/0.0.0.0/tcp/0".into(),
                "/ip4/0.0.0.0/udp/0/quic-v1".into(),
            ],
            bootstrap: Vec::new(),
            connect: Vec::new(),
            mdns: true,
            republish_interval: Duration::from_secs(300),
            catch_up_first: Duration::from_millis(crate::anti_entropy::FIRST_INTERVAL_MS),
            catch_up_most: Duration::from_millis(crate::anti_entropy::MOST_INTERVAL_MS),
            feed_gossip: true,
            kademlia: true,
            dht_server: None,
            relay_server: false,
            idle_connection_timeout: Duration::from_secs(120),
            clock: Clock::system(),
            store_cache_bytes: crate::store::DEFAULT_CACHE_BYTES,
        }
    }

    /// Defaults overlaid with `<home>/config.toml`.
    pub fn from_home(home: Home) -> Result<Self, HomeError> {
        let file = home.load_config()?;
        let mut cfg = Self::new(home);
        if !file.listen.is_empty() {
            cfg.listen = file.listen;
        }
        cfg.bootstrap = file.bootstrap;
        if let Some(m) = file.mdns {
            cfg.mdns = m;
        }
        if let Some(r) = file.relay_server {
            cfg.relay_server = r;
        }
        Ok(cfg)
    }

    /// A configuration for tests and local experiments: loopback only, no mDNS, and a DHT
    /// server from the start (AutoNAT has nothing to confirm on loopback).
    pub fn loopback(home: Home) -> Self {
        Self {
            listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            mdns: false,
            dht_server: Some(true),
            ..Self::new(home)
        }
    }
}
