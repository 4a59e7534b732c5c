//! Direct-message benchmark between two nodes on loopback, each in its own process, every
//! message end-to-end encrypted and acknowledged only after the receiver flushed it.
//!
//! - round trip on a warm connection: `send` → `MessageDelivered`, sequential, p50/p99;
//! - sustained one-way throughput for a fixed time with many sends in flight, zero loss
//!   checked by counting what the receiver stored;
//! - CPU time per message and RSS of each process;
//! - throughput with several conversations (sender nodes) active at once, and with many
//!   more from light clients (see `clients`);
//! - the store's own cost per message, and the time to open a store holding many messages.
//!
//! Set `RUST_LOG` to see the nodes' logs on stderr.
//!
//! Run: `cargo bench --bench dm` (release). Options after `--`: `--rtt 5000 --seconds 10
//! --callers 256 --conversations 10,100 --clients 1000 --store 100000 --open 1000000
//! --multi-thread`. Both processes run on a current-thread tokio runtime, like the daemon,
//! unless `--multi-thread` is given.

/// The allocator the `paperplane` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use paperplane::{Event, Home, Node, NodeConfig, PeerId, Wait};

#[path = "dm/clients.rs"]
mod clients;
use tokio::time::Instant;

struct Args {
    rtt: usize,
    seconds: u64,
    conversations: Vec<usize>,
    open: usize,
    callers: usize,
    clients: Vec<usize>,
    store: u64,
}

fn parse_args() -> Args {
    let mut a = Args {
        rtt: 5000,
        seconds: 10,
        conversations: vec![10, 100],
        open: 1_000_000,
        callers: 256,
        clients: vec![1000],
        store: 100_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = || it.next().unwrap_or_default();
        match x.as_str() {
            "--rtt" => a.rtt = val().parse().unwrap_or(a.rtt),
            "--seconds" => a.seconds = val().parse().unwrap_or(a.seconds),
            "--conversations" => {
                a.conversations = val().split(',').filter_map(|n| n.parse().ok()).collect()
            }
            "--open" => a.open = val().parse().unwrap_or(a.open),
            "--callers" => a.callers = val().parse().unwrap_or(a.callers),
            "--store" => a.store = val().parse().unwrap_or(a.store),
            "--clients" => a.clients = val().split(',').filter_map(|n| n.parse().ok()).collect(),
            _ => {}
        }
    }
    a
}

/// CPU time (user + system) of this process, and its resident set size in KiB.
fn cpu_and_rss() -> (Duration, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let cpu = Duration::from_millis((ticks(11) + ticks(12)) * 10); // utime, stime at 100 Hz
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (cpu, rss)
}

async fn start(dir: &std::path::Path, handle: &str) -> Node {
    let home = Home::new(dir);
    if !home.is_initialised() {
        paperplane::init(&home, handle, None).expect("init");
    }
    Node::start(NodeConfig::loopback(home))
        .await
        .expect("start")
}

/// The receiver process: prints its address, then answers `stats` and `count <peer>` on stdin.
async fn receiver(dir: String) {
    let node = start(std::path::Path::new(&dir), "receiver").await;
    let addr = node.status().await.expect("status").listen_addrs[0].clone();
    println!("addr {addr}");
    // Questions arrive on stdin, read on a thread of its own (any runtime flavour).
    let (tx, mut questions) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(std::io::stdin()).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = questions.recv().await {
        let mut parts = line.split_whitespace();
        match parts.next() {
            Some("addrs") => {
                let addrs = node.status().await.expect("status").listen_addrs;
                println!("addrs {}", addrs.join(" "));
            }
            Some("stats") => {
                let (cpu, rss) = cpu_and_rss();
                println!("stats {} {}", cpu.as_micros(), rss);
            }
            Some("follow") => {
                let peer: PeerId = parts.next().and_then(|p| p.parse().ok()).expect("peer");
                node.follow(peer).await.expect("follow");
                println!("followed");
            }
            Some("inbox") => {
                let t = Instant::now();
                let chats = node.inbox().expect("inbox").len();
                // Opening a chat reads its newest page, as `chat PEER` does.
                let first = node.inbox().expect("inbox")[0].peer;
                let page = node.messages(first, None, 50).map(|m| m.len()).unwrap_or(0);
                println!("inbox {chats} {page} {}", t.elapsed().as_micros());
            }
            Some("count") => {
                let peer: PeerId = parts.next().and_then(|p| p.parse().ok()).expect("peer");
                let n = node
                    .messages(peer, None, usize::MAX)
                    .map(|m| m.len())
                    .unwrap_or(0);
                println!("count {n}");
            }
            _ => break,
        }
        std::io::stdout().flush().ok();
    }
    node.shutdown().await.ok();
}

struct Child {
    proc: std::process::Child,
    out: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Child {
    fn spawn(dir: &std::path::Path) -> (Child, String) {
        let mut proc = Command::new(std::env::current_exe().expect("exe"))
            .arg("--receiver")
            .arg(dir)
            .args(multi_thread().then_some("--multi-thread"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn receiver");
        let mut out = BufReader::new(proc.stdout.take().expect("stdout")).lines();
        let addr = out
            .next()
            .and_then(|l| l.ok())
            .and_then(|l| l.strip_prefix("addr ").map(str::to_owned))
            .expect("receiver address");
        (Child { proc, out }, addr)
    }

    fn ask(&mut self, q: &str) -> Vec<String> {
        let stdin = self.proc.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{q}").expect("write");
        stdin.flush().expect("flush");
        let line = self.out.next().and_then(|l| l.ok()).expect("answer");
        line.split_whitespace().skip(1).map(str::to_owned).collect()
    }

    /// Asks the process to stop and waits for it.
    fn quit(mut self) {
        if let Some(stdin) = self.proc.stdin.as_mut() {
            let _ = writeln!(stdin, "quit");
        }
        let _ = self.proc.wait();
    }

    fn stats(&mut self) -> (Duration, u64) {
        let v = self.ask("stats");
        (
            Duration::from_micros(v[0].parse().expect("cpu")),
            v[1].parse().expect("rss"),
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn round_trips(sender: &Node, peer: PeerId, n: usize) {
    let mut events = sender.events();
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        let m = sender
            .send(peer, format!("ping {i} 🏓"), Wait::Queued)
            .await
            .expect("send");
        loop {
            let Ok(next) = tokio::time::timeout(Duration::from_secs(5), events.next()).await else {
                panic!(
                    "no acknowledgement of message {i} in 5 s: state {:?}, outbox {}",
                    sender.message(&m.id).map(|m| m.state),
                    sender.outbox_len()
                );
            };
            match next.expect("events") {
                Event::MessageDelivered { id, .. } if id == m.id => break,
                Event::MessageFailed { reason, .. } => panic!("failed: {reason}"),
                _ => {}
            }
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    println!(
        "round trip (send -> acked after durable store), {n} sequential: p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        ms(samples[n / 2]),
        ms(samples[n * 99 / 100]),
        ms(samples[n - 1])
    );
}

/// Sends from every node in `senders` to `peer` for `secs` with `callers` concurrent callers
/// per node, each node keeping at most `window` messages unacknowledged (a semaphore refilled
/// by the node's `MessageDelivered` / `MessageFailed` events, as an app would wait); returns
/// (sent, delivered, elapsed) once every message is settled (or 60 s after the end).
///
/// Each message makes two events (`MessageSent`, then `MessageDelivered`), and twice
/// `window` stays below the event stream's buffer ([`paperplane::EVENT_BUFFER`]), so no event
/// can be skipped.
async fn blast(
    senders: &[Node],
    peer: PeerId,
    secs: u64,
    window: usize,
    callers: usize,
) -> (u64, u64, Duration) {
    use tokio::sync::Semaphore;
    assert!(
        2 * window < paperplane::EVENT_BUFFER,
        "the window must fit the event buffer"
    );
    let sent = Arc::new(AtomicU64::new(0));
    let delivered = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop_at = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    let mut counters = Vec::new();
    for node in senders {
        let permits = Arc::new(Semaphore::new(window));
        let node_sent = Arc::new(AtomicU64::new(0));
        let settled = Arc::new(AtomicU64::new(0));
        let mut events = node.events();
        counters.push((node_sent.clone(), settled.clone()));
        {
            let (permits, settled, delivered) =
                (permits.clone(), settled.clone(), delivered.clone());
            tokio::spawn(async move {
                while let Some(e) = events.next().await {
                    match e {
                        Event::MessageDelivered { .. } => {
                            delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        Event::MessageFailed { .. } => {}
                        _ => continue,
                    }
                    settled.fetch_add(1, Ordering::Relaxed);
                    permits.add_permits(1);
                }
            });
        }
        for w in 0..callers {
            let (node, sent, node_sent, permits) = (
                node.clone(),
                sent.clone(),
                node_sent.clone(),
                permits.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut i = 0u64;
                while Instant::now() < stop_at {
                    permits.acquire().await.expect("semaphore").forget();
                    node.send(peer, format!("msg {w}/{i}"), Wait::Queued)
                        .await
                        .expect("send");
                    sent.fetch_add(1, Ordering::Relaxed);
                    node_sent.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline
        && counters
            .iter()
            .any(|(s, d)| d.load(Ordering::Relaxed) < s.load(Ordering::Relaxed))
    {
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    (
        sent.load(Ordering::Relaxed),
        delivered.load(Ordering::Relaxed),
        start.elapsed(),
    )
}

/// How fast this machine is right now, printed first so that runs can be compared: the
/// median of 2,000 small appends each followed by `fdatasync`, and of 200,000 SHA-256 hashes
/// of 256 bytes (CPU speed). Shared machines vary by tens of per cent over an hour.
fn calibrate(dir: &std::path::Path) {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::create(dir.join("calibration")).expect("file");
    let mut fsyncs: Vec<Duration> = (0..2000)
        .map(|_| {
            let t = std::time::Instant::now();
            file.write_all(&[7; 300]).expect("write");
            file.sync_data().expect("fdatasync");
            t.elapsed()
        })
        .collect();
    fsyncs.sort();
    let block = [1u8; 256];
    let t = std::time::Instant::now();
    for _ in 0..200_000 {
        std::hint::black_box(Sha256::digest(std::hint::black_box(block)));
    }
    let hash = t.elapsed() / 200_000;
    println!(
        "machine now: write+fdatasync p50 {:.3} ms, SHA-256 of 256 B {} ns",
        ms(fsyncs[1000]),
        hash.as_nanos()
    );
}

async fn run(args: Args) {
    let tmp = tempfile::tempdir().expect("tempdir");
    calibrate(tmp.path());
    idle_daemon(&tmp.path().join("idle"));
    let (mut child, addr) = Child::spawn(&tmp.path().join("receiver"));
    let sender = start(&tmp.path().join("sender"), "sender").await;
    let peer = sender.connect(&addr).await.expect("connect");
    eprintln!("connected to the receiver {peer}");
    while !sender.profile(Some(peer)).is_ok_and(|p| p.messaging_keys) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The receiver follows the sender, so its messages land in the inbox, not in
    // (rate-limited) requests.
    child.ask(&format!("follow {}", sender.peer_id()));
    eprintln!("receiver keys known");
    // Warm-up: session, connection, caches.
    round_trips(&sender, peer, 100).await;
    round_trips(&sender, peer, args.rtt).await;

    let (c0, _) = cpu_and_rss();
    let (r0, _) = child.stats();
    let (sent, delivered, elapsed) = blast(
        std::slice::from_ref(&sender),
        peer,
        args.seconds,
        960,
        args.callers,
    )
    .await;
    let (c1, rss_s) = cpu_and_rss();
    let (r1, rss_r) = child.stats();
    let stored: u64 = child.ask(&format!("count {}", sender.peer_id()))[0]
        .parse()
        .expect("count");
    let expected_stored = sent + args.rtt as u64 + 100;
    println!(
        "throughput, 1 conversation, {}s: {sent} sent, {delivered} acked, {:.0} msg/s; receiver stored {stored} of {expected_stored} ({})",
        args.seconds,
        delivered as f64 / elapsed.as_secs_f64(),
        if stored == expected_stored { "zero loss" } else { "MISMATCH" }
    );
    println!(
        "CPU per message: sender {:.1} us, receiver {:.1} us;  RSS: sender {} MiB, receiver {} MiB",
        (c1 - c0).as_secs_f64() * 1e6 / delivered.max(1) as f64,
        (r1 - r0).as_secs_f64() * 1e6 / delivered.max(1) as f64,
        rss_s / 1024,
        rss_r / 1024
    );
    sender.shutdown().await.ok();
    drop(sender); // the handle holds the store open
    let keys = {
        let store =
            paperplane::store::Store::open(&Home::new(tmp.path().join("sender")).store_path())
                .expect("the sender's store");
        let profile = store
            .profile(&peer)
            .expect("read")
            .expect("receiver's profile");
        profile.body.messaging.expect("receiver's messaging keys")
    };

    for &n in &args.conversations {
        let mut senders = Vec::new();
        for i in 0..n {
            let node = start(&tmp.path().join(format!("s{n}-{i}")), &format!("s{i}")).await;
            node.connect(&addr).await.expect("connect");
            senders.push(node);
        }
        eprintln!("{n} senders started");
        for s in &senders {
            child.ask(&format!("follow {}", s.peer_id()));
            while !s.profile(Some(peer)).is_ok_and(|p| p.messaging_keys) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        eprintln!("{n} senders connected and known to the receiver");
        let window = (960 / n).max(4);
        let (sent, delivered, elapsed) = blast(
            &senders,
            peer,
            args.seconds,
            window,
            (args.callers / n).max(2),
        )
        .await;
        let (_, rss_s) = cpu_and_rss();
        let (_, rss_r) = child.stats();
        println!(
            "throughput, {n} conversations at once: {sent} sent, {delivered} acked, {:.0} msg/s;  RSS: senders' process {} MiB, receiver {} MiB",
            delivered as f64 / elapsed.as_secs_f64(),
            rss_s / 1024,
            rss_r / 1024
        );
        for s in senders {
            s.shutdown().await.ok();
        }
    }
    for &n in &args.clients {
        light_clients(&mut child, n, peer, &keys, args.seconds).await;
    }
    child.quit();

    if args.store > 0 {
        store_cost(args.store);
    }
    if args.open > 0 {
        open_large_store(args.open).await;
    }
}

/// `n` conversations at once from light clients (see `clients`): throughput, the receiver's
/// CPU per message and RSS, and zero loss checked against what the receiver stored.
async fn light_clients(
    child: &mut Child,
    n: usize,
    peer: PeerId,
    keys: &paperplane::protocol::MessagingKeys,
    secs: u64,
) {
    let clients: Vec<clients::Client> = (0..n).map(|_| clients::Client::new()).collect();
    let ids: Vec<PeerId> = clients.iter().map(clients::Client::peer_id).collect();
    for id in &ids {
        child.ask(&format!("follow {id}"));
    }
    let (r0, _) = child.stats();
    // Light clients speak TCP only.
    let addr: libp2p::Multiaddr = child
        .ask("addrs")
        .iter()
        .find(|a| a.contains("/tcp/"))
        .expect("a TCP address")
        .parse()
        .expect("receiver address");
    let totals = clients::run(clients, peer, addr, keys.clone(), secs).await;
    let (r1, rss_r) = child.stats();
    let mut stored = 0u64;
    for id in &ids {
        stored += child.ask(&format!("count {id}"))[0]
            .parse::<u64>()
            .expect("count");
    }
    println!(
        "{n} conversations at once (light clients), {secs}s: {} acked, {} refused, {:.0} msg/s; receiver stored {stored} of {} ({}); receiver CPU per message {:.1} us, RSS {} MiB",
        totals.stored,
        totals.failed,
        totals.stored as f64 / totals.elapsed.as_secs_f64(),
        totals.stored,
        if stored == totals.stored && totals.failed == 0 { "zero loss" } else { "MISMATCH" },
        (r1 - r0).as_secs_f64() * 1e6 / totals.stored.max(1) as f64,
        rss_r / 1024
    );
}

/// The store's own cost per message, without network or crypto: queueing outgoing messages
/// in transactions of 128, reading them back and settling them, and accepting incoming ones.
fn store_cost(n: u64) {
    use paperplane::store::{
        chat_state::ChatItem,
        messages::{DeliveryState, Folder, StoredMessage},
        Store,
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&tmp.path().join("store")).expect("open");
    let (bob, alice) = (
        paperplane_crypto::Identity::from_seed([2; 32]).peer_id(),
        paperplane_crypto::Identity::from_seed([3; 32]).peer_id(),
    );
    let conv = paperplane_crypto::Conversation::new(bob);
    let message = |peer: PeerId, n: u64, outgoing: bool| StoredMessage {
        id: paperplane::MessageId(rand::random()),
        peer,
        outgoing,
        sent_at: n,
        stored_at: n,
        body: paperplane::protocol::MessageBody::Text(format!("message number {n} 📨")),
        state: if outgoing {
            DeliveryState::Pending
        } else {
            DeliveryState::Received
        },
    };
    let batches = n / 128;
    let t = std::time::Instant::now();
    let mut last = None;
    for b in 0..batches {
        let rows: Vec<_> = (1..=128)
            .map(|i| {
                (
                    ChatItem::Shown(message(bob, b * 128 + i, true)),
                    vec![9u8; 230],
                )
            })
            .collect();
        last = store
            .queue_outgoing(&alice, &bob, &conv, &rows)
            .expect("queue")
            .0;
    }
    let queued = t.elapsed();
    let last = last.expect("rows queued");
    let t = std::time::Instant::now();
    loop {
        let rows = store.outbox_for(&bob, None, &last, 128).expect("outbox");
        if rows.is_empty() {
            break;
        }
        let settled: Vec<_> = rows
            .into_iter()
            .map(|(k, _)| (k, DeliveryState::Delivered))
            .collect();
        store.settle(&settled).expect("settle");
    }
    let settled = t.elapsed();
    let t = std::time::Instant::now();
    for b in 0..batches {
        let rows: Vec<_> = (1..=128)
            .map(|i| ChatItem::Shown(message(alice, b * 128 + i, false)))
            .collect();
        store
            .accept_incoming(&bob, &alice, &conv, &rows, Folder::Inbox)
            .expect("accept");
    }
    let accepted = t.elapsed();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / (batches * 128) as f64;
    println!(
        "store alone, {} messages each way in batches of 128: queue {:.1} us, read back and settle {:.1} us, accept {:.1} us per message",
        batches * 128,
        per(queued),
        per(settled),
        per(accepted)
    );
}

/// The resident memory of a `paperplane daemon` that has just started and has nothing to do
/// (its API listening, no peers), as a user's idle node.
fn idle_daemon(home: &std::path::Path) {
    let exe = env!("CARGO_BIN_EXE_paperplane");
    let home_arg = home.to_str().expect("utf-8 path");
    let init = Command::new(exe)
        .args(["init", "--home", home_arg, "--handle", "idle"])
        .stdout(Stdio::null())
        .status()
        .expect("paperplane init");
    assert!(init.success(), "paperplane init failed");
    let mut daemon = Command::new(exe)
        .args(["daemon", "--home", home_arg])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("paperplane daemon");
    // Up once it has written its API address; then a few seconds of idling.
    let addr_file = Home::new(home).api_addr_path();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !addr_file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(3));
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", daemon.id())).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    println!(
        "idle daemon: RSS {:.1} MiB ({:.1} MiB anonymous)",
        field("VmRSS:") as f64 / 1024.0,
        field("RssAnon:") as f64 / 1024.0
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
}

/// Fills a home with `n` received messages through the library, then times a cold start.
async fn open_large_store(n: usize) {
    use paperplane::store::{
        chat_state::ChatItem,
        messages::{DeliveryState, Folder, StoredMessage},
        Store,
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = Home::new(tmp.path());
    paperplane::init(&home, "big", None).expect("init");
    let fill = Instant::now();
    {
        let store = Store::open(&home.store_path()).expect("open");
        let me = paperplane_crypto::Identity::from_seed([8; 32]).peer_id();
        let conv = paperplane_crypto::Conversation::new(
            paperplane_crypto::Identity::from_seed([9; 32]).peer_id(),
        );
        // Batches of 1,000 messages per peer, spread over 100 chats.
        for chunk in 0..n.div_ceil(1000) {
            let peer =
                paperplane_crypto::Identity::from_seed([(chunk % 100) as u8 + 1; 32]).peer_id();
            let batch: Vec<_> = (chunk * 1000..((chunk + 1) * 1000).min(n))
                .map(|i| {
                    let mut id = [0u8; 16];
                    id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                    ChatItem::Shown(StoredMessage {
                        id: paperplane::MessageId(id),
                        peer,
                        outgoing: false,
                        sent_at: i as u64,
                        stored_at: i as u64,
                        body: paperplane::protocol::MessageBody::Text(format!(
                            "message number {i}"
                        )),
                        state: DeliveryState::Received,
                    })
                })
                .collect();
            store
                .accept_incoming(&me, &peer, &conv, &batch, Folder::Inbox)
                .expect("store");
        }
        store.flush().await.expect("flush");
    }
    let filled = fill.elapsed();
    // The node runs in a process of its own, so that its memory is measured alone.
    let t = Instant::now();
    let (mut child, _) = Child::spawn(tmp.path());
    let started = t.elapsed();
    let listing = child.ask("inbox");
    let (_, rss) = child.stats();
    child.quit();
    println!(
        "store with {n} messages in {} chats (filled in {:.1} s): node start {:.0} ms (process included), inbox listing and a chat's newest page {:.1} ms, RSS {} MiB",
        listing[0],
        filled.as_secs_f64(),
        ms(started),
        listing[2].parse::<f64>().expect("micros") / 1e3,
        rss / 1024
    );
}

/// Whether `--multi-thread` was given (the receiver process gets it too).
fn multi_thread() -> bool {
    std::env::args().any(|a| a == "--multi-thread")
}

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
    }
    let mut argv = std::env::args().skip(1);
    // The daemon's runtime by default; `--multi-thread` for tokio's work-stealing one.
    let rt = if multi_thread() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .expect("runtime");
    if argv.next().as_deref() == Some("--receiver") {
        let dir = argv.next().expect("receiver home");
        rt.block_on(receiver(dir));
        return;
    }
    rt.block_on(run(parse_args()));
}
