//! A hostile peer ("mallory", a bare libp2p swarm speaking the paperplane protocols) sends
//! forged, misplaced and malformed records and serves wrong blob bytes; honest nodes reject
//! all of it and keep working.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{
    gossipsub, noise,
    request_response::{self, ProtocolSupport},
    swarm::{NetworkBehaviour, SwarmEvent},
    tcp, yamux, Multiaddr, SwarmBuilder,
};
use paperplane::{
    net::{FrameCodec, BLOB_PROTOCOL, GOSSIP_MAX_TRANSMIT},
    protocol::{
        decode, encode,
        limits::{MAX_BLOB_REQUEST_BYTES, MAX_BLOB_RESPONSE_BYTES},
        BlobHash, BlobRequest, BlobResponse, FeedMessage, Handle, MessageId, PeerId, PhotoRef,
        Post, Profile, Topic,
    },
    Error, Event, Home, Wait,
};
use paperplane_crypto::Identity;
use tokio::sync::mpsc;

use crate::common::{png, TestNode};

#[derive(NetworkBehaviour)]
struct MalloryBehaviour {
    gossipsub: gossipsub::Behaviour,
    blob: request_response::Behaviour<FrameCodec>,
}

enum Cmd {
    Dial(Multiaddr),
    Subscribe(String),
    Publish(String, Vec<u8>),
}

#[derive(Debug)]
enum Seen {
    Connected,
    Subscribed(String),
    BlobRequest,
}

/// Runs mallory's swarm in a task; she answers every blob request with `blob_answer`.
fn spawn_mallory(
    identity: &Identity,
    blob_answer: Vec<u8>,
) -> (mpsc::Sender<Cmd>, mpsc::Receiver<Seen>) {
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
            MalloryBehaviour {
                gossipsub: gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Signed(key.clone()),
                    cfg,
                )
                .expect("gossipsub"),
                blob: request_response::Behaviour::with_codec(
                    FrameCodec::new(MAX_BLOB_REQUEST_BYTES, MAX_BLOB_RESPONSE_BYTES),
                    [(BLOB_PROTOCOL, ProtocolSupport::Full)],
                    request_response::Config::default(),
                ),
            }
        })
        .expect("behaviour")
        .build();
    let (cmd_tx, mut cmd_rx) = mpsc::channel(16);
    let (seen_tx, seen_rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                cmd = cmd_rx.recv() => match cmd {
                    Some(Cmd::Dial(a)) => swarm.dial(a).expect("dial"),
                    Some(Cmd::Subscribe(t)) => {
                        swarm.behaviour_mut().gossipsub.subscribe(&gossipsub::IdentTopic::new(t)).expect("subscribe");
                    }
                    Some(Cmd::Publish(t, bytes)) => {
                        swarm.behaviour_mut().gossipsub.publish(gossipsub::IdentTopic::new(t), bytes).expect("publish");
                    }
                    None => break,
                },
                ev = swarm.select_next_some() => match ev {
                    SwarmEvent::ConnectionEstablished { .. } => { let _ = seen_tx.send(Seen::Connected).await; }
                    SwarmEvent::Behaviour(MalloryBehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { topic, .. })) => {
                        let _ = seen_tx.send(Seen::Subscribed(topic.into_string())).await;
                    }
                    SwarmEvent::Behaviour(MalloryBehaviourEvent::Blob(request_response::Event::Message {
                        message: request_response::Message::Request { request, channel, .. }, ..
                    })) => {
                        let req: BlobRequest = decode(&request, MAX_BLOB_REQUEST_BYTES).expect("blob request");
                        assert_eq!(req.offset, 0);
                        let _ = swarm.behaviour_mut().blob.send_response(channel, encode(&BlobResponse::Chunk {
                            total_len: blob_answer.len() as u64,
                            bytes: blob_answer.clone(),
                        }));
                        let _ = seen_tx.send(Seen::BlobRequest).await;
                    }
                    _ => {}
                },
                _ = tick.tick() => {}
            }
        }
    });
    (cmd_tx, seen_rx)
}

async fn wait_seen(rx: &mut mpsc::Receiver<Seen>, mut pred: impl FnMut(&Seen) -> bool) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(s) = rx.recv().await {
            if pred(&s) {
                return;
            }
        }
        panic!("mallory stopped");
    })
    .await
    .expect("mallory saw it in time");
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

fn profile(author: PeerId, handle: &str, version: u64) -> Profile {
    Profile {
        author,
        version,
        updated_at: now(),
        handle: Handle::parse(handle).expect("handle"),
        display_name: handle.into(),
        bio: "totally legit".into(),
        avatar: None,
        business: None,
        messaging: None,
    }
}

/// Connects a fresh mallory (identity `seed`) to `a`, subscribed to `topics`; returns her
/// command channel once `a` has her subscriptions.
async fn mallory_at(
    a: &mut TestNode,
    seed: u8,
    topics: &[String],
) -> (Identity, mpsc::Sender<Cmd>) {
    let mallory = Identity::from_seed([seed; 32]);
    let (cmd, mut seen) = spawn_mallory(&mallory, Vec::new());
    for t in topics {
        cmd.send(Cmd::Subscribe(t.clone())).await.expect("cmd");
    }
    cmd.send(Cmd::Dial(a.addr().await.parse().expect("addr")))
        .await
        .expect("cmd");
    let mut missing: Vec<&String> = topics.iter().collect();
    wait_seen(&mut seen, |s| {
        if let Seen::Subscribed(x) = s {
            missing.retain(|t| *t != x);
        }
        missing.is_empty()
    })
    .await;
    (mallory, cmd)
}

/// Waits until `a` has rejected `n` records in all.
async fn rejected(a: &TestNode, n: u64) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while a.node.status().await.expect("status").rejected_records < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("rejection counted in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_misplaced_and_malformed_gossip_is_rejected() {
    let mut a = TestNode::start("alice").await;
    let b = TestNode::start("bob").await;
    a.connect(&b).await;
    let bob = b.node.peer_id();
    a.node.follow(bob).await.expect("follow");
    let profiles = Topic::Profiles.name();
    let bob_feed = Topic::Feed(bob).name();
    let topics = [profiles.clone(), bob_feed.clone()];
    let photo = PhotoRef::for_bytes(&png(9, 50)).expect("photo");

    // Each attack comes from a fresh mallory: one rejected message graylists its sender.
    // 1. Bob's profile, signed by mallory.
    let (m, cmd) = mallory_at(&mut a, 61, &topics).await;
    cmd.send(Cmd::Publish(
        profiles.clone(),
        encode(&m.sign_record(profile(bob, "bob", 99))),
    ))
    .await
    .expect("cmd");
    rejected(&a, 1).await;
    // 2. A post "by bob", signed by mallory.
    let (m, cmd) = mallory_at(&mut a, 62, &topics).await;
    let forged_post = m.sign_record(Post {
        author: bob,
        seq: 1,
        created_at: now(),
        caption: "send me your keys".into(),
        photos: vec![photo],
    });
    cmd.send(Cmd::Publish(
        bob_feed.clone(),
        encode(&FeedMessage::Post(forged_post)),
    ))
    .await
    .expect("cmd");
    rejected(&a, 2).await;
    // 3. Mallory's own, validly signed post, on bob's topic.
    let (m, cmd) = mallory_at(&mut a, 63, &topics).await;
    let misplaced = m.sign_record(Post {
        author: m.peer_id(),
        seq: 1,
        created_at: now(),
        caption: "misplaced".into(),
        photos: vec![photo],
    });
    cmd.send(Cmd::Publish(
        bob_feed.clone(),
        encode(&FeedMessage::Post(misplaced)),
    ))
    .await
    .expect("cmd");
    rejected(&a, 3).await;
    // 4. Garbage bytes.
    let (_, cmd) = mallory_at(&mut a, 64, &topics).await;
    cmd.send(Cmd::Publish(bob_feed.clone(), vec![1, 2, 3, 4, 5]))
        .await
        .expect("cmd");
    rejected(&a, 4).await;

    let bob_seen_by_alice = a.node.profile(Some(bob)).expect("bob's profile");
    assert_eq!(
        bob_seen_by_alice,
        b.node.profile(None).expect("bob's own profile")
    );
    assert_eq!(bob_seen_by_alice.bio, "");
    assert!(
        a.node.feed(10).expect("feed").is_empty(),
        "no forged post stored"
    );
    assert_eq!(a.node.resolve("@bob").expect("bob"), bob);

    // A valid record from a fresh sender is still accepted and forwarded.
    let (m, cmd) = mallory_at(&mut a, 65, &topics).await;
    cmd.send(Cmd::Publish(
        profiles.clone(),
        encode(&m.sign_record(profile(m.peer_id(), "mallory", 1))),
    ))
    .await
    .expect("cmd");
    let id = m.peer_id();
    a.wait_for("a valid profile", |e| {
        matches!(e, Event::Profile { profile } if profile.peer_id == id).then_some(())
    })
    .await;
    assert_eq!(a.node.status().await.expect("status").rejected_records, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forger_is_graylisted_even_after_time_in_the_mesh() {
    let mut a = TestNode::start("alice").await;
    let b = TestNode::start("bob").await;
    a.connect(&b).await;
    let bob = b.node.peer_id();
    let profiles = Topic::Profiles.name();
    let topics = [profiles.clone()];

    // Mallory behaves for a while: a valid profile of her own, then time in alice's mesh.
    let (m, cmd) = mallory_at(&mut a, 66, &topics).await;
    let mallory = m.peer_id();
    cmd.send(Cmd::Publish(
        profiles.clone(),
        encode(&m.sign_record(profile(mallory, "mallory", 1))),
    ))
    .await
    .expect("cmd");
    a.wait_for("mallory's profile", |e| {
        matches!(e, Event::Profile { profile } if profile.peer_id == mallory).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    // Then one forged record: she is graylisted, and what she sends next is dropped unread.
    cmd.send(Cmd::Publish(
        profiles.clone(),
        encode(&m.sign_record(profile(bob, "bob", 99))),
    ))
    .await
    .expect("cmd");
    rejected(&a, 1).await;
    cmd.send(Cmd::Publish(
        profiles.clone(),
        encode(&m.sign_record(profile(mallory, "mallory", 2))),
    ))
    .await
    .expect("cmd");
    // A fresh peer's valid profile, sent after hers, still gets through.
    let (n, cmd_n) = mallory_at(&mut a, 67, &topics).await;
    let nina = n.peer_id();
    cmd_n
        .send(Cmd::Publish(
            profiles.clone(),
            encode(&n.sign_record(profile(nina, "nina", 1))),
        ))
        .await
        .expect("cmd");
    a.wait_for("nina's profile", |e| {
        matches!(e, Event::Profile { profile } if profile.peer_id == nina).then_some(())
    })
    .await;
    assert_eq!(
        a.node
            .profile(Some(mallory))
            .expect("mallory's profile")
            .version,
        1,
        "the graylisted forger's later record was dropped"
    );
    assert_eq!(a.node.status().await.expect("status").rejected_records, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_with_wrong_bytes_is_rejected_and_an_honest_peer_still_serves_it() {
    let mut a = TestNode::start("alice").await;
    let b = TestNode::start("bob").await;
    let real = png(3, 2_000);
    let mut wrong = real.clone();
    wrong[1_000] ^= 0xFF;
    let hash = BlobHash::of(&real);

    let mallory = Identity::from_seed([77; 32]);
    let (cmd, mut seen) = spawn_mallory(&mallory, wrong);
    cmd.send(Cmd::Dial(a.addr().await.parse().expect("addr")))
        .await
        .expect("cmd");
    wait_seen(&mut seen, |s| matches!(s, Seen::Connected)).await;
    let m = mallory.peer_id();
    a.wait_for("mallory connected", |e| {
        matches!(e, Event::PeerConnected { peer } if *peer == m).then_some(())
    })
    .await;

    match a.node.photo(hash).await {
        Err(Error::PhotoUnavailable(h)) => assert_eq!(h, hash.to_hex()),
        other => panic!(
            "expected PhotoUnavailable, got {:?}",
            other.map(|b| b.len())
        ),
    }
    wait_seen(&mut seen, |s| matches!(s, Seen::BlobRequest)).await;

    // Bob holds the real photo (his post); once connected, alice gets the right bytes.
    b.node
        .post(vec![real.clone()], "real".into())
        .await
        .expect("post");
    a.connect(&b).await;
    assert_eq!(a.node.photo(hash).await.expect("from bob"), real);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_and_tampered_envelopes_are_refused() {
    use paperplane::protocol::{DmRejection, DmRequest, DmResult, SealedEnvelope};
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());

    // Capture the sealed bytes of a message while bob is away: they sit in alice's outbox.
    let b_home = b.stop().await;
    a.node
        .send(bob, "the code is 1234", Wait::Queued)
        .await
        .expect("queued");
    let a_home = a.stop().await;
    let (id, payload) = newest_outbox_entry(a_home.path(), &bob);
    let a = TestNode::start_in(a_home).await;
    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    b.wait_for("the real message", |e| {
        matches!(e, Event::Message { message, .. } if message.from == alice).then_some(())
    })
    .await;

    // Mallory replays the captured envelope, then a tampered copy.
    let mallory = Identity::from_seed([88; 32]);
    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let mut tampered = payload.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let request = DmRequest {
        envelopes: vec![
            SealedEnvelope {
                recipient: bob,
                id,
                payload: payload.clone(),
            },
            SealedEnvelope {
                recipient: bob,
                id,
                payload: tampered,
            },
            SealedEnvelope {
                recipient: alice,
                id,
                payload,
            },
        ],
    };
    let response = crate::common::send_raw_dm(&mallory, addr, bob, &request).await;
    assert_eq!(
        response.results,
        vec![
            DmResult::Rejected(DmRejection::Undecryptable),
            DmResult::Rejected(DmRejection::Undecryptable),
            DmResult::Rejected(DmRejection::NotForMe),
        ]
    );
    let history = b.node.chat(alice, None, 10).await.expect("chat");
    assert_eq!(history.len(), 1, "stored exactly once");
    assert!(b
        .node
        .chat(mallory.peer_id(), None, 10)
        .await
        .expect("chat")
        .is_empty());
    let requests = b.node.requests().expect("requests");
    assert_eq!(requests.len(), 1, "only alice's real request");
    assert_eq!(requests[0].peer, alice);
}

/// The message id and sealed bytes of the newest envelope waiting in the outbox of the
/// (stopped) node in `home` (an older one may wait for an acknowledgement that came too late).
fn newest_outbox_entry(home: &std::path::Path, to: &PeerId) -> (MessageId, Vec<u8>) {
    let store = paperplane::store::Store::open(&Home::new(home).store_path()).expect("store");
    let (_, last) = store
        .outbox_peers()
        .expect("outbox")
        .into_iter()
        .find(|(p, _)| p == to)
        .expect("a queued envelope");
    let rows = store.outbox_for(to, None, &last, 10).expect("outbox");
    let (_, entry) = rows.last().expect("a queued envelope");
    (entry.message, entry.payload.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_a_stored_envelope_is_acknowledged_as_a_duplicate() {
    use paperplane::protocol::{DmRejection, DmRequest, DmResult, SealedEnvelope};
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let got = |text: &'static str| {
        move |e: &Event| {
            matches!(e, Event::Message { message, .. } if message.text == text).then_some(())
        }
    };

    // The first message carries the handshake; capture it from alice's outbox.
    let b_home = b.stop().await;
    a.node
        .send(bob, "first", Wait::Queued)
        .await
        .expect("queued");
    let a_home = a.stop().await;
    let first = newest_outbox_entry(a_home.path(), &bob);
    let mut a = TestNode::start_in(a_home).await;
    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    b.wait_for("the first message", got("first")).await;
    b.node
        .send(alice, "reply", Wait::Queued)
        .await
        .expect("reply");
    a.wait_for("the reply", got("reply")).await;

    // After the reply, alice's messages carry no handshake.
    let b_home = b.stop().await;
    a.node
        .send(bob, "second", Wait::Queued)
        .await
        .expect("queued");
    let a_home = a.stop().await;
    let second = newest_outbox_entry(a_home.path(), &bob);
    let envelope = |p: &[u8]| paperplane_crypto::Envelope::from_bytes(p).expect("envelope");
    assert!(envelope(&first.1).handshake.is_some());
    assert!(envelope(&second.1).handshake.is_none());
    let a = TestNode::start_in(a_home).await;
    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    b.wait_for("the second message", got("second")).await;
    let a_home = a.stop().await;

    // Alice's node sends both again, as after a lost acknowledgement.
    let identity = Home::new(a_home.path()).load_identity().expect("identity");
    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let request = DmRequest {
        envelopes: [first, second]
            .into_iter()
            .map(|(id, payload)| SealedEnvelope {
                recipient: bob,
                id,
                payload,
            })
            .collect(),
    };
    let response = crate::common::send_raw_dm(&identity, addr, bob, &request).await;
    assert_eq!(
        response.results,
        vec![DmResult::Duplicate, DmResult::Duplicate]
    );
    let texts: Vec<String> = b
        .node
        .chat(alice, None, 10)
        .await
        .expect("chat")
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["first", "reply", "second"]);

    // An envelope must name the id of the message inside it: one that does not is refused
    // and not stored, and the real one still arrives afterwards.
    let b_home = b.stop().await;
    let a = TestNode::start_in(a_home).await;
    a.node
        .send(bob, "third", Wait::Queued)
        .await
        .expect("queued");
    let a_home = a.stop().await;
    let (id, payload) = newest_outbox_entry(a_home.path(), &bob);
    let mut b = TestNode::start_in(b_home).await;
    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let wrong = MessageId(rand::random());
    assert_ne!(wrong, id);
    let request = DmRequest {
        envelopes: vec![SealedEnvelope {
            recipient: bob,
            id: wrong,
            payload,
        }],
    };
    let response = crate::common::send_raw_dm(&identity, addr, bob, &request).await;
    assert_eq!(
        response.results,
        vec![DmResult::Rejected(DmRejection::Malformed)]
    );
    assert_eq!(b.node.chat(alice, None, 10).await.expect("chat").len(), 3);
    let a = TestNode::start_in(a_home).await;
    b.connect(&a).await;
    b.wait_for("the third message", got("third")).await;
    assert_eq!(b.node.chat(alice, None, 10).await.expect("chat").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_request_replayed_opens_nothing_but_a_new_message_does() {
    use paperplane::protocol::{DmRejection, DmRequest, DmResult, SealedEnvelope};
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let got = |text: &'static str| {
        move |e: &Event| {
            matches!(e, Event::Message { message, .. } if message.text == text).then_some(())
        }
    };

    let b_home = b.stop().await;
    a.node
        .send(bob, "buy followers", Wait::Queued)
        .await
        .expect("queued");
    let a_home = a.stop().await;
    let captured = newest_outbox_entry(a_home.path(), &bob);
    let a = TestNode::start_in(a_home).await;
    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    b.wait_for("the request", got("buy followers")).await;
    b.node.decline(alice).await.expect("decline");
    assert!(b.node.requests().expect("requests").is_empty());

    // The stored envelope comes again (as from a mailbox): it opens nothing.
    let a_home = a.stop().await;
    let identity = Home::new(a_home.path()).load_identity().expect("identity");
    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let request = DmRequest {
        envelopes: vec![SealedEnvelope {
            recipient: bob,
            id: captured.0,
            payload: captured.1,
        }],
    };
    let response = crate::common::send_raw_dm(&identity, addr, bob, &request).await;
    assert_eq!(
        response.results,
        vec![DmResult::Rejected(DmRejection::Undecryptable)]
    );
    assert!(b.node.requests().expect("requests").is_empty());

    // Alice writes again: a new request.
    let a = TestNode::start_in(a_home).await;
    b.connect(&a).await;
    a.node
        .send(bob, "please?", Wait::Queued)
        .await
        .expect("queued");
    b.wait_for("the new request", got("please?")).await;
    assert_eq!(b.node.requests().expect("requests").len(), 1);
}
