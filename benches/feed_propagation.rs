//! How long a new post takes to reach every node of an N-node mesh (N = 10 and 20), all in
//! one process on 127.0.0.1, every node following the author. Prints p50 / p99 / max over
//! the measured posts, from `Node::post` returning to the last node's `Event::Post`.
//!
//! Run: `cargo bench --bench feed_propagation` (release build). Options after `--`:
//! `--nodes 10,20 --posts 100`.

use std::{collections::HashMap, time::Duration};

use paperplane::{Event, Home, Node, NodeConfig, RecordId};
use tokio::{sync::mpsc, time::Instant};

struct Args {
    sizes: Vec<usize>,
    posts: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        sizes: vec![10, 20],
        posts: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--nodes" => {
                args.sizes = it
                    .next()
                    .map(|v| v.split(',').filter_map(|n| n.parse().ok()).collect())
                    .unwrap_or_default()
            }
            "--posts" => args.posts = it.next().and_then(|v| v.parse().ok()).unwrap_or(100),
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

fn png(seed: u32) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend_from_slice(&seed.to_be_bytes());
    v.resize(2048, 0xAB);
    v
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

async fn run(n: usize, posts: usize) {
    let dirs: Vec<_> = (0..n)
        .map(|_| tempfile::tempdir().expect("tempdir"))
        .collect();
    let mut nodes = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        let home = Home::new(d.path());
        paperplane::init(&home, &format!("node{i}"), None).expect("init");
        nodes.push(
            Node::start(NodeConfig::loopback(home))
                .await
                .expect("start"),
        );
    }
    // A sparse, connected mesh: node i dials i-1 and, for i > 3, i/2 and i-3.
    for i in 1..n {
        let mut targets = vec![i - 1];
        if i > 3 {
            targets.extend([i / 2, i - 3]);
        }
        targets.sort();
        targets.dedup();
        for t in targets {
            let addr = nodes[t].status().await.expect("status").listen_addrs[0].clone();
            nodes[i].connect(&addr).await.expect("connect");
        }
    }
    let author = nodes[0].clone();
    for n in &nodes[1..] {
        n.follow(author.peer_id()).await.expect("follow");
    }
    // Every follower reports (post id, arrival) to the collector.
    let (tx, mut rx) = mpsc::unbounded_channel::<(RecordId, Instant)>();
    for n in &nodes[1..] {
        let mut events = n.events();
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                if let Event::Post { post } = ev {
                    let _ = tx.send((post.id, Instant::now()));
                }
            }
        });
    }
    let followers = n - 1;
    let mut arrivals: HashMap<RecordId, usize> = HashMap::new();
    let mut latencies = Vec::new();
    let mut lost = 0usize;
    // Warm-up posts until the gossip mesh carries a post to everyone.
    let warmup = 5;
    for k in 0..(warmup + posts) {
        let id = author
            .post(vec![png(k as u32)], format!("post {k}"))
            .await
            .expect("post");
        let start = Instant::now();
        let deadline = start + Duration::from_secs(5);
        let mut last = None;
        loop {
            if arrivals.get(&id).copied().unwrap_or(0) == followers {
                break;
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((pid, at))) => {
                    *arrivals.entry(pid).or_default() += 1;
                    if pid == id {
                        last = Some(at);
                    }
                }
                _ => break,
            }
        }
        let got = arrivals.get(&id).copied().unwrap_or(0);
        if k < warmup {
            continue;
        }
        match (got == followers, last) {
            (true, Some(at)) => latencies.push(at.saturating_duration_since(start)),
            _ => lost += 1,
        }
    }
    latencies.sort();
    if latencies.is_empty() {
        println!("N = {n:>2}: no post reached every node ({lost} incomplete)");
    } else {
        println!(
            "N = {n:>2}: post reaches all {followers} followers: p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} posts, {} incomplete within 5 s)",
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            latencies.len(),
            lost,
        );
    }
    for n in &nodes {
        let _ = n.shutdown().await;
    }
}

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for &n in &args.sizes {
        rt.block_on(run(n, args.posts));
    }
}
