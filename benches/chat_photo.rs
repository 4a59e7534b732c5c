//! Chat-photo benchmark: a photo (5 MiB by default) sent in a chat between two nodes on
//! loopback in this process, each run with a fresh photo:
//!
//! - time to delivered: `send_photo` until the recipient acknowledged the message (the photo
//!   checked, sealed and stored, the message encrypted, queued, flushed and acknowledged);
//! - time to ready: until the recipient holds the photo decrypted and verified (its sealed
//!   bytes fetched in chunks over `/paperplane/blob/1`), and the throughput that makes;
//! - where the time to ready goes: until the recipient's first chunk, from its first chunk to
//!   its last (the transfer alone), and from the last chunk to ready (hash check, decryption,
//!   checks and storing the photo).
//!
//! Run: `cargo bench --bench chat_photo` (release). Options after `--`: `--runs 10
//! --mib 5`. Set `RUST_LOG` to see the nodes' logs on stderr.

/// The allocator the `paperplane` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use paperplane::{Event, Home, Node, NodeConfig, Wait};
use tokio::time::Instant;

struct Args {
    runs: usize,
    mib: usize,
}

fn parse_args() -> Args {
    let mut a = Args { runs: 10, mib: 5 };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = || it.next().unwrap_or_default();
        match x.as_str() {
            "--runs" => a.runs = val().parse().unwrap_or(a.runs),
            "--mib" => a.mib = val().parse().unwrap_or(a.mib),
            _ => {}
        }
    }
    a
}

/// A PNG signature followed by `len` pseudo-random bytes (incompressible, like a photo).
fn photo(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    v.extend((0..len - 8).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    }));
    v
}

async fn start(dir: &std::path::Path, handle: &str) -> Node {
    let home = Home::new(dir);
    paperplane::init(&home, handle, None).expect("init");
    Node::start(NodeConfig::loopback(home))
        .await
        .expect("start")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args();
    let size = args.mib * 1024 * 1024;
    let (da, db) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let a = start(da.path(), "alice").await;
    let b = start(db.path(), "bob").await;
    let addr = b.status().await.expect("status").listen_addrs[0].clone();
    a.connect(&addr).await.expect("connect");
    let bob = b.peer_id();
    let alice = a.peer_id();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(a.profile(Some(bob)).is_ok_and(|p| p.messaging_keys)
        && b.profile(Some(alice)).is_ok_and(|p| p.messaging_keys))
    {
        assert!(Instant::now() < deadline, "the nodes never met");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "chat photo of {} MiB between two nodes on loopback, {} runs",
        args.mib, args.runs
    );
    let (mut delivered, mut ready) = (Vec::new(), Vec::new());
    for run in 0..args.runs {
        let bytes = photo(run as u64 + 1, size);
        let mut events = b.events();
        let t0 = Instant::now();
        let (mut first_chunk, mut last_chunk) = (None, None);
        let sent = a
            .send_photo(bob, bytes, "", Wait::Settled)
            .await
            .expect("send");
        assert_eq!(sent.state, "delivered");
        let t_delivered = t0.elapsed();
        loop {
            match events.next().await.expect("running") {
                Event::ChatPhotoReady { id, .. } if id == sent.id => break,
                Event::ChatPhotoProgress {
                    id, bytes, total, ..
                } if id == sent.id => {
                    first_chunk.get_or_insert_with(Instant::now);
                    if bytes == total {
                        last_chunk = Some(Instant::now());
                    }
                }
                Event::ChatPhotoFailed { id, reason, .. } if id == sent.id => {
                    panic!("photo failed: {reason}")
                }
                _ => {}
            }
        }
        let t_ready = t0.elapsed();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let (first, last) = match (first_chunk, last_chunk) {
            (Some(a), Some(b)) => (a.duration_since(t0), b.duration_since(t0)),
            _ => (Duration::ZERO, Duration::ZERO),
        };
        println!(
            "  run {run:2}: delivered {:6.1} ms, ready {:6.1} ms, {:6.1} MB/s \
             (first chunk {:5.1}, transfer {:5.1}, then {:5.1} ms)",
            ms(t_delivered),
            ms(t_ready),
            size as f64 / 1e6 / t_ready.as_secs_f64(),
            ms(first),
            ms(last.saturating_sub(first)),
            ms(t_ready.saturating_sub(last)),
        );
        delivered.push(t_delivered);
        ready.push(t_ready);
    }
    let (d, r) = (median(delivered), median(ready));
    println!(
        "median: delivered {:.1} ms, ready {:.1} ms, {:.1} MB/s end to end (decimal MB)",
        d.as_secs_f64() * 1e3,
        r.as_secs_f64() * 1e3,
        size as f64 / 1e6 / r.as_secs_f64()
    );
    a.shutdown().await.expect("shutdown");
    b.shutdown().await.expect("shutdown");
}
