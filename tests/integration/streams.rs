//! A hostile peer that holds streams open: it opens them and stalls (before naming a protocol,
//! after naming it, after a request's length), trickles a request byte by byte, or opens far
//! more streams than a peer needs. The node resets each stalled or trickled stream at its
//! deadline, holds no more than a peer's cap, cuts off a peer that goes over it (and refuses
//! one that keeps at it), and serves an honest peer all along.
//!
//! The hostile peer is a bare TCP + Noise + Yamux connection whose streams are written by
//! hand, multistream-select header included.

use std::{
    future::poll_fn,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    task::Poll,
    time::Duration,
};

use futures::{task::AtomicWaker, AsyncReadExt, AsyncWriteExt};
use libp2p::{
    core::{
        muxing::{StreamMuxerBox, StreamMuxerExt, SubstreamBox},
        transport::{DialOpts, PortUse},
        upgrade::Version,
        Endpoint,
    },
    noise, tcp, yamux, Multiaddr, Transport,
};
use paperplane::{
    net::{
        DM_PROTOCOL, FRAME_GRACE, MAX_INBOUND_STREAMS_PER_CONNECTION, NEGOTIATION_TIMEOUT,
        SYNC_PROTOCOL,
    },
    Event, MessageState, PeerId, Wait,
};
use paperplane_crypto::Identity;
use tokio::{task::JoinSet, time::Instant};

use crate::common::TestNode;

/// What the node may take beyond a deadline to reset a stream (timers, a loaded machine).
const SLACK: Duration = Duration::from_millis(2_500);

/// A bare connection to a node. It refuses every stream the node opens and speaks no
/// protocol; its own streams carry whatever bytes a test writes.
struct RawConnection {
    muxer: Arc<Mutex<StreamMuxerBox>>,
    driver: tokio::task::JoinHandle<()>,
    /// Wakes the driver. A stream's first bytes wait in yamux until the connection is polled
    /// again (a new stream's channel is not watched before that), so each open wakes it.
    driver_waker: Arc<AtomicWaker>,
}

impl RawConnection {
    /// Dials `addr` (with `/p2p/`) as `identity`.
    async fn dial(identity: &Identity, addr: &str) -> RawConnection {
        let key = identity.libp2p_keypair();
        let mut transport = tcp::tokio::Transport::new(tcp::Config::default())
            .upgrade(Version::V1Lazy)
            .authenticate(noise::Config::new(&key).expect("noise"))
            .multiplex(yamux::Config::default())
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
        let addr: Multiaddr = addr.parse().expect("addr");
        let dial = transport
            .dial(
                addr,
                DialOpts {
                    role: Endpoint::Dialer,
                    port_use: PortUse::New,
                },
            )
            .expect("dial");
        let (_, muxer) = tokio::time::timeout(Duration::from_secs(10), dial)
            .await
            .expect("connected in time")
            .expect("connected");
        let muxer = Arc::new(Mutex::new(muxer));
        let (driven, driver_waker) = (muxer.clone(), Arc::new(AtomicWaker::new()));
        let waker = driver_waker.clone();
        // Drives the connection until it closes; the node's own streams are reset.
        let driver = tokio::spawn(poll_fn(move |cx| {
            waker.register(cx.waker());
            let mut m = driven.lock().expect("lock");
            loop {
                match m.poll_inbound_unpin(cx) {
                    Poll::Ready(Ok(stream)) => drop(stream),
                    Poll::Ready(Err(_)) => return Poll::Ready(()),
                    Poll::Pending => break,
                }
            }
            match m.poll_unpin(cx) {
                Poll::Ready(Err(_)) => Poll::Ready(()),
                _ => Poll::Pending,
            }
        }));
        RawConnection {
            muxer,
            driver,
            driver_waker,
        }
    }

    /// Opens a stream and writes `bytes` on it (a stream reaches the node with its first
    /// bytes).
    async fn open(&self, bytes: &[u8]) -> SubstreamBox {
        self.try_open(bytes)
            .await
            .expect("stream opened and written")
    }

    /// Like [`RawConnection::open`], `None` once the connection or the stream is refused.
    async fn try_open(&self, bytes: &[u8]) -> Option<SubstreamBox> {
        let mut stream = poll_fn(|cx| self.muxer.lock().expect("lock").poll_outbound_unpin(cx))
            .await
            .ok()?;
        stream.write_all(bytes).await.ok()?;
        self.driver_waker.wake();
        Some(stream)
    }

    /// Waits up to `within` for the node to close the connection; whether it did.
    async fn closed_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, &mut self.driver).await.is_ok()
    }
}

/// multistream-select's header and a proposal of `protocol`, as a `V1Lazy` dialer sends them
/// before its first bytes of data.
fn proposal(protocol: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for line in ["/multistream/1.0.0", protocol] {
        v.push(line.len() as u8 + 1);
        v.extend_from_slice(line.as_bytes());
        v.push(b'\n');
    }
    v
}

/// Reads `stream` until the node ends it; how long after `start` that was.
fn watch(tasks: &mut JoinSet<Duration>, mut stream: SubstreamBox, start: Instant) {
    tasks.spawn(async move {
        let mut buf = [0u8; 256];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            let _ = n;
        }
        start.elapsed()
    });
}

/// Waits (up to 15 s) for every watched stream to end; when the last one did.
async fn all_ended(tasks: &mut JoinSet<Duration>) -> Duration {
    let mut last = Duration::ZERO;
    tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(ended) = tasks.join_next().await {
            last = last.max(ended.expect("watcher"));
        }
    })
    .await
    .expect("every stream ended");
    last
}

/// Waits (up to 10 s) until the node reports at least `n` inbound streams; the most seen.
async fn holds_at_least(node: &TestNode, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let held = node.node.status().await.expect("status").inbound_streams;
        if held >= n {
            return held;
        }
        assert!(
            Instant::now() < deadline,
            "the node holds {held} < {n} streams"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for `node` to see `peer` connected.
async fn connected(node: &mut TestNode, peer: PeerId) {
    node.wait_for("the hostile peer connected", |e| {
        matches!(e, Event::PeerConnected { peer: p } if *p == peer).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_streams_are_reset_at_their_deadline_while_an_honest_peer_is_served() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, mallory) = (a.node.peer_id(), Identity::from_seed([91; 32]));
    let conn = RawConnection::dial(&mallory, &a.addr().await).await;
    connected(&mut a, mallory.peer_id()).await;

    let start = Instant::now();
    let mut streams = JoinSet::new();
    // Stalled before naming a protocol: one byte of the header.
    for _ in 0..20 {
        watch(&mut streams, conn.open(&[0x13]).await, start);
    }
    // Stalled after naming the protocol, before the request.
    for _ in 0..12 {
        watch(
            &mut streams,
            conn.open(&proposal(DM_PROTOCOL.as_ref())).await,
            start,
        );
    }
    for _ in 0..6 {
        watch(
            &mut streams,
            conn.open(&proposal(SYNC_PROTOCOL.as_ref())).await,
            start,
        );
    }
    // Stalled after the request's length.
    for _ in 0..4 {
        let mut bytes = proposal(DM_PROTOCOL.as_ref());
        bytes.extend_from_slice(&100u32.to_be_bytes());
        watch(&mut streams, conn.open(&bytes).await, start);
    }
    let stalled = streams.len();
    assert!(stalled < MAX_INBOUND_STREAMS_PER_CONNECTION);
    holds_at_least(&a, stalled).await;

    // Meanwhile bob's messages go through at once.
    let sent = b
        .node
        .send(alice, "still there?", Wait::Settled)
        .await
        .expect("sent");
    assert_eq!(sent.state, MessageState::Delivered);
    let served = start.elapsed();
    assert!(
        served < NEGOTIATION_TIMEOUT.min(FRAME_GRACE),
        "served while the stalled streams were held"
    );

    let last = all_ended(&mut streams).await;
    let deadline = NEGOTIATION_TIMEOUT.max(FRAME_GRACE);
    assert!(
        last < deadline + SLACK,
        "the last stalled stream was reset after {last:?}, its deadline is {deadline:?}"
    );
    let held = a.node.status().await.expect("status").inbound_streams;
    assert!(held < stalled, "{held} streams still held");
    println!(
        "{stalled} stalled streams: the last reset after {last:?}; an honest message \
         delivered {served:?} after the stall began"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_trickled_byte_by_byte_is_cut_at_its_deadline() {
    let mut a = TestNode::start("alice").await;
    let mallory = Identity::from_seed([92; 32]);
    let conn = RawConnection::dial(&mallory, &a.addr().await).await;
    connected(&mut a, mallory.peer_id()).await;

    // A 4 KiB request on each protocol, one byte every 50 ms: 200 s if it were let finish.
    let start = Instant::now();
    let mut cut = JoinSet::new();
    for protocol in [DM_PROTOCOL, SYNC_PROTOCOL] {
        let mut bytes = proposal(protocol.as_ref());
        bytes.extend_from_slice(&1000u32.to_be_bytes());
        let stream = conn.open(&bytes).await;
        cut.spawn(async move {
            let (mut reader, mut writer) = stream.split();
            let trickle = async {
                for _ in 0..1000 {
                    if writer.write_all(&[7]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            };
            let ended = async {
                let mut buf = [0u8; 256];
                while let Ok(1..) = reader.read(&mut buf).await {}
            };
            tokio::select! {
                _ = trickle => panic!("the whole request was let through"),
                _ = ended => start.elapsed(),
            }
        });
    }
    let last = all_ended(&mut cut).await;
    assert!(
        last >= FRAME_GRACE && last < FRAME_GRACE + SLACK,
        "cut after {last:?}, the deadline is {FRAME_GRACE:?}"
    );
    println!("trickled requests cut after {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_opening_more_streams_than_its_cap_is_cut_off_and_then_refused() {
    let mut a = TestNode::start("alice").await;
    let mallory = Identity::from_seed([93; 32]);
    let addr = a.addr().await;
    // The most streams alice holds at any moment (she has no other peer).
    let (most, sampling) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(true)),
    );
    let sampler = {
        let (node, most, sampling) = (a.node.clone(), most.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let held = node.status().await.expect("status").inbound_streams;
                most.fetch_max(held, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // Each time, 200 streams that never name a protocol: alice holds no more than the cap and
    // drops the connection well before any deadline could have reset them.
    let before_deadlines = NEGOTIATION_TIMEOUT.min(FRAME_GRACE) - Duration::from_secs(1);
    for attempt in 1..=3 {
        let mut conn = RawConnection::dial(&mallory, &addr).await;
        connected(&mut a, mallory.peer_id()).await;
        let start = Instant::now();
        let mut streams = JoinSet::new();
        for _ in 0..200 {
            let Some(stream) = conn.try_open(&[0x13]).await else {
                break;
            };
            watch(&mut streams, stream, start);
        }
        assert!(
            conn.closed_within(before_deadlines).await,
            "attempt {attempt}: the connection was not cut"
        );
        let last = all_ended(&mut streams).await;
        assert!(last < before_deadlines, "attempt {attempt}: {last:?}");
        println!("attempt {attempt}: every stream ended after {last:?}");
        a.wait_for("the hostile peer disconnected", |e| {
            matches!(e, Event::PeerDisconnected { peer } if *peer == mallory.peer_id())
                .then_some(())
        })
        .await;
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.await.expect("sampler");
    let most = most.load(Ordering::Relaxed);
    assert!(
        (1..=MAX_INBOUND_STREAMS_PER_CONNECTION).contains(&most),
        "alice held {most} streams at once"
    );
    println!("at most {most} streams held at once");

    // Three times: refused for a while, even without opening anything.
    let mut conn = RawConnection::dial(&mallory, &addr).await;
    assert!(
        conn.closed_within(before_deadlines).await,
        "a refused peer was let in"
    );

    // An honest peer is served as ever.
    let mut b = TestNode::start("bob").await;
    b.meet(&mut a).await;
    let sent = b
        .node
        .send(a.node.peer_id(), "all quiet?", Wait::Settled)
        .await
        .expect("sent");
    assert_eq!(sent.state, MessageState::Delivered);
}
