//! Helpers for multi-node tests: nodes on 127.0.0.1 with temporary homes, explicit dials, no
//! mDNS, and waiting for events with a timeout instead of sleeping.

use std::time::Duration;

use paperplane::{Event, EventStream, Home, Node, NodeConfig};
use tempfile::TempDir;

/// A running node, its event stream and its home (deleted on drop).
pub(crate) struct TestNode {
    pub(crate) node: Node,
    pub(crate) events: EventStream,
    pub(crate) dir: TempDir,
}

impl TestNode {
    /// Inits a home with `handle` and starts a loopback node in it.
    pub(crate) async fn start(handle: &str) -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        paperplane::init(&home, handle, Some(handle)).expect("init");
        Self::start_in(dir).await
    }

    /// Inits a home with `handle` and starts a loopback node in it with the settings `tune`
    /// makes.
    pub(crate) async fn start_tuned(handle: &str, tune: impl FnOnce(&mut NodeConfig)) -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        paperplane::init(&home, handle, Some(handle)).expect("init");
        let mut config = NodeConfig::loopback(Home::new(dir.path()));
        tune(&mut config);
        let node = Node::start(config).await.expect("start");
        let events = node.events();
        TestNode { node, events, dir }
    }

    /// Starts a loopback node in an initialised home.
    pub(crate) async fn start_in(dir: TempDir) -> TestNode {
        let node = Node::start(NodeConfig::loopback(Home::new(dir.path())))
            .await
            .expect("start");
        let events = node.events();
        TestNode { node, events, dir }
    }

    /// Stops the node and hands back its home, to start it again later.
    pub(crate) async fn stop(self) -> TempDir {
        self.node.shutdown().await.expect("shutdown");
        self.dir
    }

    /// Connects both ways' knowledge: `self` dials `other` and both wait until each holds the
    /// other's profile with messaging keys.
    pub(crate) async fn meet(&mut self, other: &mut TestNode) {
        self.connect(other).await;
        let (a, b) = (self.node.peer_id(), other.node.peer_id());
        let (na, nb) = (self.node.clone(), other.node.clone());
        eventually("both know each other's keys", || {
            na.profile(Some(b)).is_ok_and(|p| p.messaging_keys)
                && nb.profile(Some(a)).is_ok_and(|p| p.messaging_keys)
        })
        .await;
    }

    /// The first listen address, with `/p2p/`.
    pub(crate) async fn addr(&self) -> String {
        let status = self.node.status().await.expect("status");
        status.listen_addrs.first().expect("listening").clone()
    }

    /// Connects to `other` and waits until both see each other and gossip subscriptions have
    /// been exchanged.
    pub(crate) async fn connect(&mut self, other: &TestNode) {
        let addr = other.addr().await;
        self.node.connect(&addr).await.expect("connect");
    }

    /// Waits (up to 10 s) for the first event matching `pred`.
    pub(crate) async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&Event) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.events.next()).await {
                Ok(Some(ev)) => {
                    if let Some(t) = pred(&ev) {
                        return t;
                    }
                }
                Ok(None) => panic!("node stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }
}

/// Polls `check` every 20 ms for up to 10 s.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A small valid PNG-signature image whose bytes depend on `seed`.
pub(crate) fn png(seed: u8, len: usize) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

/// Forgets the end-to-end sessions with `peer` in the stopped node whose home is `home`:
/// what a node that lost its session state looks like.
pub(crate) fn forget_sessions(home: &std::path::Path, peer: &paperplane::PeerId) {
    let store = paperplane::store::Store::open(&Home::new(home).store_path()).expect("store");
    store.forget_sessions(peer).expect("forget");
    store.flush_blocking().expect("flush");
}

/// A bare libp2p peer with `identity` that only sends `/paperplane/dm/1` requests (a tool or
/// an attacker, not a node), told `to`'s address.
pub(crate) fn raw_dm_peer(
    identity: &paperplane_crypto::Identity,
    to: paperplane::PeerId,
    addr: libp2p::Multiaddr,
) -> libp2p::Swarm<libp2p::request_response::Behaviour<paperplane::net::FrameCodec>> {
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(identity.libp2p_keypair())
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| {
            paperplane::net::dm_behaviour(libp2p::request_response::ProtocolSupport::Outbound)
        })
        .expect("behaviour")
        .build();
    swarm.add_peer_address(to, addr);
    swarm
}

/// Runs a bare swarm as `identity` that sends one `/paperplane/dm/1` request to `to` at `addr`
/// and returns the decoded response.
pub(crate) async fn send_raw_dm(
    identity: &paperplane_crypto::Identity,
    addr: libp2p::Multiaddr,
    to: paperplane::PeerId,
    request: &paperplane::protocol::DmRequest,
) -> paperplane::protocol::DmResponse {
    use futures::StreamExt;
    use libp2p::{request_response, swarm::SwarmEvent};
    use paperplane::protocol::{decode, dm::MAX_DM_RESPONSE_BYTES, encode};
    let mut swarm = raw_dm_peer(identity, to, addr);
    swarm.behaviour_mut().send_request(&to, encode(request));
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::Behaviour(request_response::Event::Message {
                    message: request_response::Message::Response { response, .. },
                    ..
                }) => return decode(&response, MAX_DM_RESPONSE_BYTES).expect("response"),
                SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                    error, ..
                }) => {
                    panic!("request failed: {error}")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("answered in time")
}

/// Starts a loopback node in an initialised home, reading the time from `clock`.
pub(crate) async fn start_with_clock(dir: TempDir, clock: paperplane::Clock) -> TestNode {
    let config = NodeConfig {
        clock,
        ..NodeConfig::loopback(Home::new(dir.path()))
    };
    let node = Node::start(config).await.expect("start");
    let events = node.events();
    TestNode { node, events, dir }
}

/// The messaging keys in the profile of `peer`, read from the store of the stopped node
/// whose home is `home`.
pub(crate) fn messaging_keys(
    home: &std::path::Path,
    peer: &paperplane::PeerId,
) -> paperplane::protocol::MessagingKeys {
    let store = paperplane::store::Store::open(&Home::new(home).store_path()).expect("store");
    store
        .profile(peer)
        .expect("read")
        .expect("a profile")
        .body
        .messaging
        .expect("messaging keys")
}
