//! A stranger floods a node with envelopes that are as expensive as possible to refuse
//! (each with its own handshake, a ratchet counter of 1,000 and junk ciphertext) while an
//! honest peer goes on messaging: the node spends a bounded amount of work on the flood,
//! refuses the stranger, and the honest round trip stays short.

use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::{request_response, swarm::SwarmEvent, Multiaddr};
use paperplane::{
    protocol::{
        decode, dm::MAX_DM_RESPONSE_BYTES, encode, DmRejection, DmRequest, DmResponse, DmResult,
        MessageId, PeerId, SealedEnvelope,
    },
    Home, Wait,
};
use paperplane_crypto::{Conversation, Identity, MessagingIdentity};

use crate::common::TestNode;

/// Requests the stranger sends, 256 envelopes each (about 75 KB).
const REQUESTS: usize = 48;
/// The honest peer's round trips at least, however short the flood.
const ROUND_TRIPS: usize = 20;
/// The longest honest round trip allowed during the flood: measured at 0.2 s in a debug
/// build (the node answers at most a handshake budget's worth of junk), against more than
/// 30 s when every envelope is opened; the margin is for two busy cores.
const RTT_BOUND: Duration = Duration::from_secs(2);

/// Envelopes that open a new session with `bob` (a valid handshake from a fresh stranger)
/// whose ratchet header claims message 1,000 and whose ciphertext is junk: refusing one
/// costs a signature check, the handshake's X25519 operations and a thousand key
/// derivations. Every payload differs (fresh nonce), so no cache of seen bytes helps.
fn junk_envelopes(stranger: &Identity, bob: PeerId, bob_home: &std::path::Path) -> Vec<Vec<u8>> {
    let keys = {
        let store =
            paperplane::store::Store::open(&Home::new(bob_home).store_path()).expect("store");
        store
            .profile(&bob)
            .expect("read")
            .expect("bob's profile")
            .body
            .messaging
            .expect("bob's keys")
    };
    let mut rng = rand::rng();
    let messaging = MessagingIdentity::generate(stranger, &mut rng);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let mut conv = Conversation::new(bob)
        .start(&mut rng, &messaging, &keys, now)
        .expect("handshake");
    (0..256)
        .map(|_| {
            let mut envelope = conv.encrypt_in_place(&mut rng, b"junk").expect("encrypt");
            envelope.header.counter = 1_000;
            envelope.nonce = rand::random();
            envelope.ciphertext = (0..64).map(|_| rand::random::<u8>()).collect();
            envelope.to_bytes()
        })
        .collect()
}

/// Sends `requests` from `stranger` to `bob` at `addr`, all at once, and returns every
/// envelope's result (requests that got no answer count as none).
async fn flood(
    stranger: &Identity,
    addr: Multiaddr,
    bob: PeerId,
    requests: Vec<DmRequest>,
) -> Vec<DmResult> {
    let mut swarm = crate::common::raw_dm_peer(stranger, bob, addr);
    let mut pending = requests.len();
    for request in &requests {
        swarm.behaviour_mut().send_request(&bob, encode(request));
    }
    let mut results = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), async {
        while pending > 0 {
            match swarm.select_next_some().await {
                SwarmEvent::Behaviour(request_response::Event::Message {
                    message: request_response::Message::Response { response, .. },
                    ..
                }) => {
                    pending -= 1;
                    let r: DmResponse = decode(&response, MAX_DM_RESPONSE_BYTES).expect("response");
                    results.extend(r.results);
                }
                SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) => {
                    pending -= 1;
                }
                _ => {}
            }
        }
    })
    .await;
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_costly_envelopes_is_refused_cheaply_and_honest_messages_flow() {
    // Bob's keys, read from his store while he is stopped, are what the stranger needs.
    let b = TestNode::start("bob").await;
    let bob = b.node.peer_id();
    let b_home = b.stop().await;
    let stranger = Identity::from_seed(rand::random());
    let payloads = junk_envelopes(&stranger, bob, b_home.path());
    let mut b = TestNode::start_in(b_home).await;
    let mut a = TestNode::start("alice").await;
    a.meet(&mut b).await;
    // Bob knows alice: her messages go to his inbox, beyond any stranger's allowance.
    b.node.follow(a.node.peer_id()).await.expect("follow");
    let addr: Multiaddr = b.addr().await.parse().expect("addr");

    let requests = (0..REQUESTS)
        .map(|_| DmRequest {
            envelopes: payloads
                .iter()
                .map(|payload| SealedEnvelope {
                    recipient: bob,
                    id: MessageId(rand::random()),
                    payload: payload.clone(),
                })
                .collect(),
        })
        .collect();
    let flood = tokio::spawn(async move { flood(&stranger, addr, bob, requests).await });

    // The honest peer messages for as long as the flood lasts (and at least ROUND_TRIPS
    // times).
    let mut rtts = Vec::new();
    let mut i = 0;
    while !flood.is_finished() || i < ROUND_TRIPS {
        i += 1;
        let start = Instant::now();
        let sent = a
            .node
            .send(
                bob,
                format!("still there? {i}"),
                Wait::Up(Duration::from_secs(30)),
            )
            .await
            .expect("send");
        rtts.push(start.elapsed());
        assert_eq!(sent.state, "delivered", "message {i}");
    }
    let results = flood.await.expect("flood task");
    assert!(
        !results.is_empty(),
        "the node answered the flood (refusing it)"
    );
    rtts.sort();
    let worst = rtts[rtts.len() - 1];
    println!(
        "honest round trip during the flood: p50 {:?}, max {:?}",
        rtts[rtts.len() / 2],
        worst
    );
    assert!(
        worst < RTT_BOUND,
        "an honest round trip took {worst:?} during the flood"
    );
    // Every envelope that reached the cryptography came back `Undecryptable`: the node did
    // the expensive work for at most a handshake budget's worth of them before refusing the
    // stranger altogether.
    let opened = results
        .iter()
        .filter(|r| **r == DmResult::Rejected(DmRejection::Undecryptable))
        .count();
    let mut kinds = std::collections::BTreeMap::new();
    for r in &results {
        *kinds.entry(format!("{r:?}")).or_insert(0) += 1;
    }
    println!(
        "flood: {} results {kinds:?}, {opened} envelopes opened",
        results.len()
    );
    assert!(opened <= 32, "{opened} junk envelopes were opened");
    assert!(
        results.iter().all(|r| matches!(
            r,
            DmResult::Rejected(DmRejection::Undecryptable | DmRejection::RateLimited)
        )),
        "nothing from the flood was stored"
    );
    assert!(
        b.node.requests().expect("requests").is_empty(),
        "the stranger left no request behind"
    );
}
