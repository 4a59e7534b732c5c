//! Finding peers beyond the LAN on loopback: a lookup by peer id alone through the DHT, and
//! a clean answer for a peer id nobody knows. (Relays, hole punching and NATs are tested in
//! network namespaces: `netns.rs`.)

use std::time::Duration;

use paperplane::{Error, NodeConfig};

use crate::common::TestNode;

fn bootstrap_to(addr: String) -> impl FnOnce(&mut NodeConfig) {
    move |c: &mut NodeConfig| c.bootstrap = vec![addr]
}

#[tokio::test]
async fn a_peer_is_found_by_id_alone_through_the_dht() {
    let hub = TestNode::start("hub").await;
    let hub_addr = hub.addr().await;
    let alice = TestNode::start_tuned("alice", bootstrap_to(hub_addr.clone())).await;
    let carol = TestNode::start_tuned("carol", bootstrap_to(hub_addr)).await;
    let alice_id = alice.node.peer_id();
    // Carol has never heard of Alice: only the DHT (the hub) can say where she is. Alice
    // joins the DHT a moment after start, so carol asks until the answer is there.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match carol.node.connect(&alice_id.to_string()).await {
            Ok(peer) => {
                assert_eq!(peer, alice_id);
                break;
            }
            Err(Error::PeerNotFound(p)) if tokio::time::Instant::now() < deadline => {
                assert_eq!(p, alice_id);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("lookup failed: {e}"),
        }
    }
    let status = carol.node.status().await.expect("status");
    assert!(status.peers.contains(&alice_id));
    assert!(
        status.dht_peers >= 1,
        "carol's routing table: {}",
        status.dht_peers
    );
    assert!(
        status
            .connections
            .iter()
            .any(|c| c.peer == alice_id && !c.relayed),
        "a direct connection on loopback: {:?}",
        status.connections
    );
    assert!(carol.node.bootstrap().await.expect("bootstrap") >= 2);
}

#[tokio::test]
async fn an_unknown_peer_id_is_not_found_and_a_node_without_peers_says_so() {
    let hub = TestNode::start("hub").await;
    let carol = TestNode::start_tuned("carol", bootstrap_to(hub.addr().await)).await;
    let nobody = paperplane::PeerId::from_public_key(
        &libp2p::identity::Keypair::generate_ed25519().public(),
    );
    let answer = tokio::time::timeout(
        Duration::from_secs(30),
        carol.node.connect(&nobody.to_string()),
    )
    .await
    .expect("a lookup ends");
    assert!(
        matches!(answer, Err(Error::PeerNotFound(p)) if p == nobody),
        "{answer:?}"
    );
    assert!(matches!(
        carol.node.connect(&carol.node.peer_id().to_string()).await,
        Err(Error::DialSelf)
    ));
    let alone = TestNode::start("alone").await;
    assert!(alone.node.bootstrap().await.is_err(), "no DHT peer known");
}

#[tokio::test]
async fn the_profile_of_someone_never_met_is_fetched_through_the_dht() {
    let hub = TestNode::start("hub").await;
    let hub_addr = hub.addr().await;
    let alice = TestNode::start_tuned("alice", bootstrap_to(hub_addr.clone())).await;
    let carol = TestNode::start_tuned("carol", bootstrap_to(hub_addr)).await;
    let alice_id = alice.node.peer_id();
    assert!(carol.node.profile(Some(alice_id)).is_err(), "never met");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let profile = loop {
        match carol
            .node
            .find_profile(alice_id, Duration::from_secs(10))
            .await
        {
            Ok(p) => break p,
            // Alice joins the DHT a moment after start.
            Err(Error::PeerNotFound(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("profile lookup failed: {e}"),
        }
    };
    assert_eq!(profile.handle, "alice");
    assert!(profile.messaging_keys);
}
