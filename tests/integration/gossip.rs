//! What gossip alone delivers, and what reaches followers when it does not: the periodic
//! profile republish travels to peers that joined after the first publication, and with feed
//! gossip off, anti-entropy still brings every post to every connected follower.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{gossipsub, noise, swarm::SwarmEvent, tcp, yamux, Multiaddr, SwarmBuilder};
use paperplane::{
    net::GOSSIP_MAX_TRANSMIT,
    protocol::{decode, limits::MAX_GOSSIP_BYTES, Profile, Signed, Topic},
    Event, NodeConfig, RecordId,
};
use paperplane_crypto::Identity;
use tokio::{sync::mpsc, time::Instant};

use crate::common::{eventually, png, TestNode};

/// A bare gossipsub peer (no sync, no identify, no Kademlia, so gossip is all it can
/// receive) subscribed to `topic`, dialling `addr`; every message it gets is reported.
fn spawn_listener(seed: u8, addr: Multiaddr, topic: String) -> mpsc::Receiver<gossipsub::Message> {
    let identity = Identity::from_seed([seed; 32]);
    let mut swarm = SwarmBuilder::with_existing_identity(identity.libp2p_keypair())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|key| {
            let cfg = gossipsub::ConfigBuilder::default()
                .max_transmit_size(GOSSIP_MAX_TRANSMIT)
                .build()
                .expect("config");
            gossipsub::Behaviour::<gossipsub::IdentityTransform>::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                cfg,
            )
            .expect("gossipsub")
        })
        .expect("behaviour")
        .build();
    swarm
        .behaviour_mut()
        .subscribe(&gossipsub::IdentTopic::new(topic))
        .expect("subscribe");
    swarm.dial(addr).expect("dial");
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        // Keeps the swarm polled so its heartbeat runs.
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                ev = swarm.select_next_some() => {
                    if let SwarmEvent::Behaviour(gossipsub::Event::Message { message, .. }) = ev {
                        if tx.send(message).await.is_err() {
                            return;
                        }
                    }
                }
                _ = tick.tick() => {
                    if tx.is_closed() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_republished_profile_reaches_a_peer_that_joined_after_the_first_publication() {
    let a = TestNode::start_tuned("alice", |c| {
        c.republish_interval = Duration::from_millis(300);
    })
    .await;
    let alice = a.node.peer_id();
    let mut c = TestNode::start("carol").await;
    c.connect(&a).await;
    eventually("carol holds alice's profile", || {
        c.node.profile(Some(alice)).is_ok()
    })
    .await;

    // Yves joins later, through carol only. He never asks anyone for alice's profile: gossip
    // is the only way it can reach him, and only as a new publication passed on by carol,
    // who holds that version already.
    let mut yves = spawn_listener(
        41,
        c.addr().await.parse().expect("addr"),
        Topic::Profiles.name(),
    );
    let mut publications: Vec<(u64, Vec<u8>)> = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while publications.len() < 2 {
            let m = yves.recv().await.expect("listener running");
            if m.source != Some(alice) {
                continue;
            }
            let p: Signed<Profile> = decode(&m.data, MAX_GOSSIP_BYTES).expect("a profile");
            assert_eq!(p.body.author, alice);
            let seq = m
                .sequence_number
                .expect("signed messages carry a sequence number");
            if !publications.iter().any(|(s, _)| *s == seq) {
                publications.push((seq, m.data));
            }
        }
    })
    .await
    .expect("two publications of alice's profile reached yves through carol");
    assert_eq!(
        publications[0].1, publications[1].1,
        "the same profile, published again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_reaches_every_subscriber_however_many_share_one_address() {
    const SUBSCRIBERS: usize = 24;
    let a = TestNode::start("alice").await;
    let alice = a.node.peer_id();
    let addr: Multiaddr = a.addr().await.parse().expect("addr");
    // Two dozen peers, all from 127.0.0.1, all subscribed to alice's feed.
    let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
    for i in 0..SUBSCRIBERS {
        let mut messages = spawn_listener(100 + i as u8, addr.clone(), Topic::Feed(alice).name());
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(m) = messages.recv().await {
                if m.source == Some(alice) && tx.send(i).is_err() {
                    return;
                }
            }
        });
    }
    tokio::time::timeout(Duration::from_secs(10), async {
        while a.node.status().await.expect("status").connected_peers < SUBSCRIBERS {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every subscriber connected in time");
    // Alice posts once a second until every subscriber has had a post (one that went out
    // before alice learnt of a subscription does not count against her).
    let mut reached = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut k = 0u8;
    while reached.len() < SUBSCRIBERS {
        a.node
            .post(vec![png(k, 100)], format!("post {k}"))
            .await
            .expect("post");
        k += 1;
        let next = (Instant::now() + Duration::from_secs(1)).min(deadline);
        while let Ok(Some(i)) = tokio::time::timeout_at(next, rx.recv()).await {
            reached.insert(i);
        }
        assert!(
            Instant::now() < deadline,
            "{} of {SUBSCRIBERS} subscribers got a post",
            reached.len()
        );
    }
}

/// Waits until `n` announces the post `id`; returns how long that took.
async fn arrival(n: &mut TestNode, id: RecordId) -> Duration {
    let start = Instant::now();
    n.wait_for("the post", |e| {
        matches!(e, Event::Post { post } if post.id == id).then_some(())
    })
    .await;
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_feed_gossip_every_post_reaches_every_connected_follower() {
    let no_gossip = |c: &mut NodeConfig| {
        c.feed_gossip = false;
        c.catch_up_first = Duration::from_millis(200);
        c.catch_up_most = Duration::from_millis(800);
    };
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start_tuned("bob", no_gossip).await;
    let mut c = TestNode::start_tuned("carol", no_gossip).await;
    // Every connection exists before the first post, so no catch-up on connect brings one.
    b.connect(&a).await;
    c.connect(&a).await;
    c.connect(&b).await;
    let alice = a.node.peer_id();
    for f in [&b, &c] {
        f.node.follow(alice).await.expect("follow");
    }
    // Posts at different paces, the last after a pause long enough for the questions to
    // back off to their longest interval.
    for (i, pause) in [0u64, 0, 300, 2_000].into_iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let id = a
            .node
            .post(vec![png(i as u8, 100)], format!("post {i}"))
            .await
            .expect("post");
        for f in [&mut b, &mut c] {
            let took = arrival(f, id).await;
            // The longest interval (0.8 s) plus a catch-up, with room for a loaded machine.
            assert!(took < Duration::from_secs(5), "post {i} took {took:?}");
        }
    }
    for f in [&b, &c] {
        assert_eq!(f.node.feed(10).expect("feed").len(), 4);
    }
    let _ = &mut a;
}
