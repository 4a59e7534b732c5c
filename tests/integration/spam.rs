//! Many fresh identities (peer ids cost nothing) each send a message request: what they can
//! store is bounded, and someone the user follows still gets through.

use std::{
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use paperplane::{
    protocol::{
        DirectMessage, DmRejection, DmRequest, DmResult, MessageBody, MessageId, SealedEnvelope,
    },
    Clock, Event, Wait,
};
use paperplane_crypto::{Conversation, Identity, MessagingIdentity};

use crate::common::{messaging_keys, send_raw_dm, start_with_clock, TestNode};

/// Strangers writing: more than the 500 request chats a node keeps
/// (`PAPERPLANE_SPAM_STRANGERS` sets another number, e.g. 10000 for a long run by hand).
fn strangers() -> u64 {
    std::env::var("PAPERPLANE_SPAM_STRANGERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(540)
}
/// The request chats a node keeps (`delivery::inbox::MAX_REQUEST_CHATS`).
const MAX_REQUEST_CHATS: usize = 500;
/// The bound on the store's size on disk after the spam, stated in the README.
const STORE_BOUND_BYTES: u64 = 64 << 20;

fn disk_use(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            let meta = e.metadata().expect("metadata");
            if meta.is_dir() {
                disk_use(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_from_many_fresh_identities_stay_within_bounds() {
    let b = TestNode::start("bob").await;
    let bob = b.node.peer_id();
    let home = b.stop().await;
    let keys = messaging_keys(home.path(), &bob);
    // Bob's clock moves a minute on whenever the test says, so the per-minute budgets do not
    // make the test wait.
    let minutes = Arc::new(AtomicU64::new(0));
    let start = wall_clock();
    let clock = {
        let minutes = minutes.clone();
        Clock::from_fn(move || start + minutes.load(Ordering::Relaxed) * 61_000)
    };
    let mut b = start_with_clock(home, clock).await;
    let mut a = TestNode::start("alice").await;
    a.meet(&mut b).await;
    let alice = a.node.peer_id();
    b.node.follow(alice).await.expect("follow");
    let addr: libp2p::Multiaddr = b.addr().await.parse().expect("addr");

    let mut rng = rand::rng();
    let mut stored = 0;
    let strangers = strangers();
    for i in 0..strangers {
        if i % 250 == 249 {
            minutes.fetch_add(1, Ordering::Relaxed);
        }
        let stranger = Identity::from_seed(rand::random());
        let messaging = MessagingIdentity::generate(&stranger, &mut rng);
        let mut conv = Conversation::new(bob)
            .start(&mut rng, &messaging, &keys, wall_clock())
            .expect("handshake");
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at: start + i,
            body: MessageBody::Text(format!("cheap followers, offer {i} 💸")),
        };
        let envelope = conv
            .encrypt_in_place(&mut rng, &message.to_plaintext())
            .expect("seal");
        let request = DmRequest {
            envelopes: vec![SealedEnvelope {
                recipient: bob,
                id: message.id,
                payload: envelope.to_bytes(),
            }],
        };
        let response = send_raw_dm(&stranger, addr.clone(), bob, &request).await;
        if response.results == [DmResult::Stored] {
            stored += 1;
        }
    }
    let requests = b.node.requests().expect("requests");
    println!(
        "{strangers} strangers: {stored} stored, {} request chats kept",
        requests.len()
    );
    assert_eq!(stored, strangers, "each was within the per-minute budgets");
    assert_eq!(
        requests.len(),
        MAX_REQUEST_CHATS,
        "the quietest were dropped"
    );

    // Someone bob follows still gets through, to the inbox.
    a.node
        .send(bob, "are we still on for tonight?", Wait::Queued)
        .await
        .expect("send");
    let request = b
        .wait_for("alice's message", |e| match e {
            Event::Message { message, request } if message.from == alice => Some(*request),
            _ => None,
        })
        .await;
    assert!(!request, "alice's message is in the inbox");

    let home = b.stop().await;
    let used = disk_use(&home.path().join("store"));
    println!(
        "store on disk after the spam: {:.1} MiB",
        used as f64 / (1 << 20) as f64
    );
    assert!(used < STORE_BOUND_BYTES, "{used} bytes on disk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_make_the_node_keep_many_skipped_keys() {
    let b = TestNode::start("bob").await;
    let bob = b.node.peer_id();
    let home = b.stop().await;
    let keys = messaging_keys(home.path(), &bob);
    let b = TestNode::start_in(home).await;
    let addr: libp2p::Multiaddr = b.addr().await.parse().expect("addr");
    let stranger = Identity::from_seed(rand::random());
    let mut rng = rand::rng();
    let messaging = MessagingIdentity::generate(&stranger, &mut rng);
    let mut conv = Conversation::new(bob)
        .start(&mut rng, &messaging, &keys, wall_clock())
        .expect("handshake");
    // 200 messages sealed in a row; only some are sent.
    let sealed: Vec<SealedEnvelope> = (0..200u64)
        .map(|i| {
            let message = DirectMessage {
                id: MessageId(rand::random()),
                sent_at: wall_clock() + i,
                body: MessageBody::Text(format!("message {i}")),
            };
            let envelope = conv
                .encrypt_in_place(&mut rng, &message.to_plaintext())
                .expect("seal");
            SealedEnvelope {
                recipient: bob,
                id: message.id,
                payload: envelope.to_bytes(),
            }
        })
        .collect();
    let send = |envelopes: Vec<SealedEnvelope>| {
        let (stranger, addr) = (&stranger, addr.clone());
        async move {
            send_raw_dm(stranger, addr, bob, &DmRequest { envelopes })
                .await
                .results
        }
    };
    // The last one first: opening it would keep 199 skipped keys for a stranger.
    assert_eq!(
        send(vec![sealed[199].clone()]).await,
        [DmResult::Rejected(DmRejection::Malformed)]
    );
    // In order, and with a small gap (a few lost messages), a stranger is heard.
    assert_eq!(
        send(sealed[..3].to_vec()).await,
        [DmResult::Stored; 3].to_vec()
    );
    assert_eq!(send(vec![sealed[10].clone()]).await, [DmResult::Stored]);
    let requests = b.node.requests().expect("requests");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].unread, 4);
}
