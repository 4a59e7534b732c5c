//! Group chat fan-out: nodes in one process on 127.0.0.1, one group, one member sending.
//!
//! - a group of `--members` (the sender included), every pair of members connected (a full
//!   mesh, so that every member can hand its own sender key to every other): the time to set
//!   it up, then `--messages` messages sent one after another, each timed from the send call
//!   to the `Event::Message` of the LAST member that stored it (p50 / p99 / max);
//! - a burst of `--burst` messages sent back to back: the whole process's CPU per message per
//!   member, and how long each `send_group_text` call took (queueing on the sender's actor);
//! - a removal: the time until every remaining member adopted the new roster, and until every
//!   remaining member received a message each other remaining member sent after it (each
//!   sends once it has adopted the change, so under its new key);
//! - the sender's store bytes per message per member, with the members stopped (nothing
//!   delivered): outbox rows and group trees, and the store directory on disk;
//! - a group of `--big` members connected to the sender only, with Kademlia off
//!   (`NodeConfig::kademlia`) so that it stays a star: the sender's fan-out, the same timings,
//!   and `Node::status` on the sender timed while a burst is in flight. With Kademlia on, the
//!   sender answers the members' lookups with everyone's addresses and the members connect to
//!   one another: in one process the fd limit (20,000 on the development machine) then bounds
//!   the size (250 members ran out of descriptors before the group was created; about 120
//!   fit). In the star the members cannot hand their own keys to one another (they retry in
//!   the background); only the sender sends.
//!
//! Every node runs in this process on a 2-worker tokio runtime (`--current-thread` for one
//! thread): a time "until the last member stored it" includes every member's own work
//! (opening, storing, flushing) done on the same cores, and the CPU per message is the whole
//! process's (the sender's sealing, queueing and sending, and every receiver's work).
//!
//! Set `RUST_LOG` to see the nodes' logs on stderr.
//!
//! Run: `cargo bench --bench group_fanout` (release). Options after `--`: `--members 50
//! --messages 100 --burst 100 --store 50 --big 250 --current-thread`; `--quick` for a smoke
//! run (`--members 8 --messages 20 --burst 20 --store 10 --big 16`; later flags override).
//! `--big 0` skips the big group.

/// The allocator the `paperplane` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use futures::StreamExt;
use paperplane::{Event, GroupId, Home, MessageId, Node, NodeConfig, PeerId};
use tokio::{sync::mpsc, time::Instant};

struct Args {
    members: usize,
    messages: usize,
    burst: usize,
    store: usize,
    big: usize,
    current_thread: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        members: 50,
        messages: 100,
        burst: 100,
        store: 50,
        big: 250,
        current_thread: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = || it.next().unwrap_or_default();
        match x.as_str() {
            "--quick" => {
                a.members = 8;
                a.messages = 20;
                a.burst = 20;
                a.store = 10;
                a.big = 16;
            }
            "--members" => a.members = val().parse().unwrap_or(a.members),
            "--messages" => a.messages = val().parse().unwrap_or(a.messages),
            "--burst" => a.burst = val().parse().unwrap_or(a.burst),
            "--store" => a.store = val().parse().unwrap_or(a.store),
            "--big" => a.big = val().parse().unwrap_or(a.big),
            "--current-thread" => a.current_thread = true,
            _ => {} // cargo bench passes --bench
        }
    }
    a.members = a.members.max(3);
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

/// File descriptors this process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// "p50 … ms  p99 … ms  max … ms" of `samples`.
fn spread(samples: &[Duration]) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    let mut s = samples.to_vec();
    s.sort();
    format!(
        "p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        ms(percentile(&s, 0.50)),
        ms(percentile(&s, 0.99)),
        ms(s[s.len() - 1])
    )
}

/// What a node's event stream reported, and when.
struct Obs {
    node: usize,
    at: Instant,
    what: What,
}

enum What {
    /// A group message was stored.
    Message { id: MessageId, text: String },
    /// A group's roster changed.
    Changed { version: u64 },
}

struct Member {
    node: Node,
    home: PathBuf,
    addr: String,
    peer: PeerId,
}

/// Nodes, index 0 the sender, and what their event streams report.
struct Cluster {
    members: Vec<Member>,
    obs: mpsc::UnboundedReceiver<Obs>,
}

/// Forwards `node`'s group events (with their time) to `tx`.
fn listen(node: &Node, index: usize, tx: mpsc::UnboundedSender<Obs>) {
    let mut events = node.events();
    tokio::spawn(async move {
        while let Some(e) = events.next().await {
            let at = Instant::now();
            let what = match e {
                Event::Message { message, .. } if message.group.is_some() => What::Message {
                    id: message.id,
                    text: message.text,
                },
                Event::GroupChanged { version, .. } => What::Changed { version },
                _ => continue,
            };
            if tx
                .send(Obs {
                    node: index,
                    at,
                    what,
                })
                .is_err()
            {
                break;
            }
        }
    });
}

async fn start_node(home: &Path, handle: &str, kademlia: bool) -> Node {
    let h = Home::new(home);
    if !h.is_initialised() {
        paperplane::init(&h, handle, None).expect("init");
    }
    let config = NodeConfig {
        kademlia,
        ..NodeConfig::loopback(h)
    };
    Node::start(config).await.expect("start")
}

impl Cluster {
    async fn start(dir: &Path, n: usize, kademlia: bool) -> Cluster {
        let (tx, obs) = mpsc::unbounded_channel();
        let mut members: Vec<Option<Member>> = (0..n).map(|_| None).collect();
        let started: Vec<(usize, Member)> = futures::stream::iter(0..n)
            .map(|i| {
                let home = dir.join(format!("n{i}"));
                async move {
                    let node = start_node(&home, &format!("member{i}"), kademlia).await;
                    let addr = node.status().await.expect("status").listen_addrs[0].clone();
                    let peer = node.peer_id();
                    (
                        i,
                        Member {
                            node,
                            home,
                            addr,
                            peer,
                        },
                    )
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        for (i, m) in started {
            listen(&m.node, i, tx.clone());
            members[i] = Some(m);
        }
        Cluster {
            members: members.into_iter().map(|m| m.expect("started")).collect(),
            obs,
        }
    }

    fn sender(&self) -> &Node {
        &self.members[0].node
    }

    /// Dials each pair `(a, b)` (`a` dials `b`), then waits until both ends of every pair hold
    /// the other's profile with messaging keys.
    async fn connect(&self, pairs: &[(usize, usize)]) {
        let failures: Vec<String> = futures::stream::iter(pairs.iter().copied())
            .map(|(a, b)| async move {
                self.members[a]
                    .node
                    .connect(&self.members[b].addr)
                    .await
                    .err()
                    .map(|e| format!("{a}->{b}: {e}"))
            })
            .buffer_unordered(32)
            .filter_map(|e| async move { e })
            .collect()
            .await;
        if !failures.is_empty() {
            eprintln!(
                "{} dials failed, e.g. {}",
                failures.len(),
                failures[..failures.len().min(3)].join("; ")
            );
        }
        let mut pending: Vec<(usize, usize)> =
            pairs.iter().flat_map(|&(a, b)| [(a, b), (b, a)]).collect();
        let deadline = Instant::now() + Duration::from_secs(300);
        while !pending.is_empty() {
            pending.retain(|&(a, b)| {
                !self.members[a]
                    .node
                    .profile(Some(self.members[b].peer))
                    .is_ok_and(|p| p.messaging_keys)
            });
            if Instant::now() > deadline {
                panic!(
                    "{} of {} ends still lack the other's keys after 300 s, e.g. {:?}",
                    pending.len(),
                    pairs.len() * 2,
                    &pending[..pending.len().min(5)]
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drops what the event streams reported so far.
    fn drain(&mut self) {
        while self.obs.try_recv().is_ok() {}
    }

    /// Waits until every node of `nodes` reported a roster of `version` or later; returns
    /// each one's time. Nodes missing at the deadline are left out.
    async fn wait_version(
        &mut self,
        nodes: &HashSet<usize>,
        version: u64,
        limit: Duration,
    ) -> HashMap<usize, Instant> {
        let deadline = Instant::now() + limit;
        let mut got = HashMap::new();
        while got.len() < nodes.len() {
            let Ok(Some(o)) = tokio::time::timeout_at(deadline, self.obs.recv()).await else {
                break;
            };
            if let What::Changed { version: v } = o.what {
                if v >= version && nodes.contains(&o.node) {
                    got.entry(o.node).or_insert(o.at);
                }
            }
        }
        got
    }

    /// Waits until every node of `nodes` stored every message of `ids`; returns, per
    /// message, each node's time. Reports (and returns) what is missing at the deadline.
    async fn wait_arrivals(
        &mut self,
        ids: &[MessageId],
        nodes: &HashSet<usize>,
        limit: Duration,
    ) -> HashMap<MessageId, HashMap<usize, Instant>> {
        let deadline = Instant::now() + limit;
        let wanted: HashSet<MessageId> = ids.iter().copied().collect();
        let mut got: HashMap<MessageId, HashMap<usize, Instant>> =
            ids.iter().map(|id| (*id, HashMap::new())).collect();
        let mut complete = 0;
        while complete < ids.len() {
            let Ok(Some(o)) = tokio::time::timeout_at(deadline, self.obs.recv()).await else {
                break;
            };
            if let What::Message { id, .. } = o.what {
                if wanted.contains(&id) && nodes.contains(&o.node) {
                    let per = got.get_mut(&id).expect("wanted");
                    if per.insert(o.node, o.at).is_none() && per.len() == nodes.len() {
                        complete += 1;
                    }
                }
            }
        }
        if complete < ids.len() {
            self.report_missing(ids, nodes, &got);
        }
        got
    }

    /// Prints which members lack which messages, whether they hold them in their store (an
    /// event lost) or not, and the sender's outbox.
    fn report_missing(
        &self,
        ids: &[MessageId],
        nodes: &HashSet<usize>,
        got: &HashMap<MessageId, HashMap<usize, Instant>>,
    ) {
        let mut missing: HashMap<usize, Vec<MessageId>> = HashMap::new();
        for id in ids {
            for n in nodes {
                if !got[id].contains_key(n) {
                    missing.entry(*n).or_default().push(*id);
                }
            }
        }
        println!(
            "  MISSING: {} of {} members lack some of {} messages; sender's outbox {} rows",
            missing.len(),
            nodes.len(),
            ids.len(),
            self.sender().outbox_len()
        );
        let mut shown: Vec<_> = missing.into_iter().collect();
        shown.sort_by_key(|(n, _)| *n);
        for (n, lacking) in shown.iter().take(10) {
            let node = &self.members[*n].node;
            let groups = node.groups().map(|g| g.len()).unwrap_or(0);
            let stored = node
                .groups()
                .ok()
                .and_then(|g| g.first().map(|g| g.id))
                .and_then(|g| node.group_chat(&g, usize::MAX).ok())
                .map(|chat| {
                    lacking
                        .iter()
                        .filter(|id| chat.iter().any(|m| m.id == **id))
                        .count()
                })
                .unwrap_or(0);
            println!(
                "  member {n}: lacks {} (of which {stored} are in its store without an event); {groups} groups; its outbox {} rows",
                lacking.len(),
                node.outbox_len()
            );
        }
    }

    /// Waits until the outboxes of `nodes` are empty; returns how many rows remain.
    async fn wait_outboxes(&self, nodes: &[usize], limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let rows: usize = nodes
                .iter()
                .map(|&n| self.members[n].node.outbox_len())
                .sum();
            if rows == 0 || Instant::now() > deadline {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Connections between the nodes (each counted once), and the sender's.
    async fn connections(&self) -> (usize, usize) {
        let mut total = 0;
        for m in &self.members {
            total += m.node.status().await.map_or(0, |s| s.connected_peers);
        }
        let sender = self
            .sender()
            .status()
            .await
            .map_or(0, |s| s.connected_peers);
        (total / 2, sender)
    }

    /// "N connections between the nodes (the sender's M), F file descriptors open".
    async fn network(&self) -> String {
        let (total, sender) = self.connections().await;
        format!(
            "{total} connections between the nodes (the sender holds {sender}), {} file descriptors open (limit 20,000 here)",
            open_fds()
        )
    }

    fn recipients(&self) -> HashSet<usize> {
        (1..self.members.len()).collect()
    }

    async fn shutdown(self) {
        for m in &self.members {
            m.node.shutdown().await.ok();
        }
    }
}

/// Sets up a group over `cluster` (connected as `pairs`): every member follows the sender, the
/// sender creates the group; prints the times; returns the group.
async fn make_group(c: &mut Cluster, pairs: &[(usize, usize)], mesh: bool) -> GroupId {
    let n = c.members.len();
    let t = Instant::now();
    c.connect(pairs).await;
    let connected = t.elapsed();
    let (_, rss) = cpu_and_rss();
    println!(
        "  setup: {} dials ({}), keys known both ways, in {:.1} s; process RSS {} MiB",
        pairs.len(),
        if mesh {
            "every pair"
        } else {
            "each member dials the sender only"
        },
        connected.as_secs_f64(),
        rss / 1024
    );
    let sender = c.sender().peer_id();
    for m in &c.members[1..] {
        m.node.follow(sender).await.expect("follow");
    }
    println!("  before the group: {}", c.network().await);
    c.drain();
    let peers: Vec<PeerId> = c.members[1..].iter().map(|m| m.peer).collect();
    let (cpu0, _) = cpu_and_rss();
    let t = Instant::now();
    let view = c
        .sender()
        .create_group("fan-out", peers)
        .await
        .expect("create the group");
    let recipients = c.recipients();
    let adopted = c
        .wait_version(&recipients, view.version, Duration::from_secs(120))
        .await;
    let all_adopted = t.elapsed();
    if adopted.len() < recipients.len() {
        println!(
            "  PROBLEM: only {} of {} members got the roster in 120 s",
            adopted.len(),
            recipients.len()
        );
    }
    let sender_left = c.wait_outboxes(&[0], Duration::from_secs(120)).await;
    let sender_done = t.elapsed();
    let everyone: Vec<usize> = (0..n).collect();
    let left = c.wait_outboxes(&everyone, Duration::from_secs(300)).await;
    let keys_done = t.elapsed();
    let (cpu1, rss) = cpu_and_rss();
    println!(
        "  group created: every member holds the roster {:.0} ms after the call; the sender's key delivered to all (its outbox empty{}) at {:.0} ms; every member's own key handed to every other (all outboxes empty) at {:.0} ms{}",
        ms(all_adopted),
        if sender_left > 0 {
            format!(" — NOT: {sender_left} rows left")
        } else {
            String::new()
        },
        ms(sender_done),
        ms(keys_done),
        if left > 0 {
            format!(" — NOT DONE: {left} rows still queued after 300 s")
        } else {
            String::new()
        }
    );
    println!(
        "      CPU of the whole process for it: {:.2} s ({} 1:1 key hand-overs between members, each a 1:1 message on a new session); RSS {} MiB",
        (cpu1 - cpu0).as_secs_f64(),
        n * (n - 1),
        rss / 1024
    );
    println!("      after: {}", c.network().await);
    view.id
}

/// Sends `count` messages one after another, each once the previous one reached every member;
/// prints the times.
async fn sequential(c: &mut Cluster, group: &GroupId, count: usize, label: &str) {
    let recipients = c.recipients();
    let (mut last, mut first, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    let mut incomplete = 0;
    c.drain();
    for k in 0..count {
        let t = Instant::now();
        let m = c
            .sender()
            .send_group_text(group, format!("{label} {k}: see you at the crag at six 🧗"))
            .await
            .expect("send");
        calls.push(t.elapsed());
        let got = c
            .wait_arrivals(&[m.id], &recipients, Duration::from_secs(30))
            .await;
        let times = &got[&m.id];
        if times.len() < recipients.len() {
            incomplete += 1;
            continue;
        }
        let to = |at: &Instant| at.saturating_duration_since(t);
        last.push(times.values().map(to).max().expect("members"));
        first.push(times.values().map(to).min().expect("members"));
    }
    println!(
        "  {count} messages one after another, send call -> LAST of {} members stored it: {}{}",
        recipients.len(),
        spread(&last),
        if incomplete > 0 {
            format!("  ({incomplete} messages did NOT reach every member in 30 s)")
        } else {
            String::new()
        }
    );
    println!(
        "      -> first member stored it: {};  the send call itself (queued and flushed): {}",
        spread(&first),
        spread(&calls)
    );
}

/// Sends `count` messages back to back; prints throughput, CPU per message per member and the
/// send calls' times; with `probe`, times `Node::status` on the sender meanwhile.
async fn burst(c: &mut Cluster, group: &GroupId, count: usize, probe: bool) {
    let recipients = c.recipients();
    c.drain();
    let stop = Arc::new(AtomicBool::new(false));
    let prober = probe.then(|| {
        let (node, stop) = (c.sender().clone(), stop.clone());
        tokio::spawn(async move {
            let mut times = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                node.status().await.expect("status");
                times.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            times
        })
    });
    let (cpu0, _) = cpu_and_rss();
    let t = Instant::now();
    let mut ids = Vec::with_capacity(count);
    let mut calls = Vec::with_capacity(count);
    for k in 0..count {
        let s = Instant::now();
        let m = c
            .sender()
            .send_group_text(group, format!("burst {k}: running late, start without me"))
            .await
            .expect("send");
        calls.push(s.elapsed());
        ids.push(m.id);
    }
    let queued = t.elapsed();
    let got = c
        .wait_arrivals(&ids, &recipients, Duration::from_secs(600))
        .await;
    let (cpu1, rss) = cpu_and_rss();
    stop.store(true, Ordering::Relaxed);
    let delivered: usize = got.values().map(HashMap::len).sum();
    let end = got
        .values()
        .flat_map(|m| m.values())
        .max()
        .map_or(t.elapsed(), |at| at.saturating_duration_since(t));
    println!(
        "  burst of {count} messages back to back to {} members: all queued in {:.0} ms, {delivered} of {} deliveries in {:.2} s ({:.0} deliveries/s, {:.1} messages/s to everyone)",
        recipients.len(),
        ms(queued),
        count * recipients.len(),
        end.as_secs_f64(),
        delivered as f64 / end.as_secs_f64(),
        count as f64 / end.as_secs_f64()
    );
    println!(
        "      CPU of the whole process (sender + all members + network) per message per member: {:.0} us ({:.2} s CPU in {:.2} s on 2 cores); RSS {} MiB",
        (cpu1 - cpu0).as_secs_f64() * 1e6 / delivered.max(1) as f64,
        (cpu1 - cpu0).as_secs_f64(),
        end.as_secs_f64(),
        rss / 1024
    );
    println!(
        "      each send_group_text call (sealed once, one row per member, flushed): {}",
        spread(&calls)
    );
    if let Some(p) = prober {
        let times = p.await.expect("prober");
        println!(
            "      sender's Node::status during the burst: {} calls, {}",
            times.len(),
            spread(&times)
        );
    }
}

/// Removes the last member; each remaining member sends one message once it adopted the new
/// roster; prints when all adopted it and when all received all those messages.
async fn removal(c: &mut Cluster, group: &GroupId) {
    let n = c.members.len();
    let victim = n - 1;
    let remaining: HashSet<usize> = (0..victim).collect();
    c.drain();
    let before = c.sender().group(group).expect("group");
    let (cpu0, _) = cpu_and_rss();
    let t = Instant::now();
    let after = c
        .sender()
        .remove_from_group(group, c.members[victim].peer)
        .await
        .expect("remove");
    let call = t.elapsed();
    assert_eq!(after.epoch, before.epoch + 1, "a removal starts an epoch");
    let send = |i: usize, node: Node, group: GroupId| {
        tokio::spawn(async move {
            if let Err(e) = node
                .send_group_text(&group, format!("after removal from {i}"))
                .await
            {
                eprintln!("member {i} could not send after the removal: {e}");
            }
        });
    };
    send(0, c.sender().clone(), *group);
    let mut adopted: HashMap<usize, Instant> = HashMap::from([(0, Instant::now())]);
    let mut received: HashMap<(usize, usize), Instant> = HashMap::new();
    let (mut leaked, mut victim_told) = (0, None);
    let want = remaining.len() * (remaining.len() - 1);
    let deadline = t + Duration::from_secs(300);
    while received.len() < want || adopted.len() < remaining.len() {
        let Ok(Some(o)) = tokio::time::timeout_at(deadline, c.obs.recv()).await else {
            break;
        };
        match o.what {
            What::Changed { version } if version >= after.version => {
                if o.node == victim {
                    victim_told.get_or_insert(o.at);
                } else if let std::collections::hash_map::Entry::Vacant(e) = adopted.entry(o.node) {
                    e.insert(o.at);
                    send(o.node, c.members[o.node].node.clone(), *group);
                }
            }
            What::Message { text, .. } => {
                let Some(from) = text
                    .strip_prefix("after removal from ")
                    .and_then(|f| f.parse::<usize>().ok())
                else {
                    continue;
                };
                if o.node == victim {
                    leaked += 1;
                } else if o.node != from {
                    received.entry((o.node, from)).or_insert(o.at);
                }
            }
            What::Changed { .. } => {}
        }
    }
    let (cpu1, _) = cpu_and_rss();
    let all_adopted = adopted
        .values()
        .max()
        .map(|at| at.saturating_duration_since(t));
    let all_received = received
        .values()
        .max()
        .map(|at| at.saturating_duration_since(t));
    println!(
        "  removal of 1 of {n} members: remove call {:.0} ms; all {} remaining members adopted the new roster (epoch {} -> {}) {:.0} ms after the call{}",
        ms(call),
        remaining.len(),
        before.epoch,
        after.epoch,
        all_adopted.map_or(f64::NAN, ms),
        if adopted.len() < remaining.len() {
            format!(" — ONLY {} of {} in 300 s", adopted.len(), remaining.len())
        } else {
            String::new()
        }
    );
    println!(
        "      every remaining member received every other's first message under its new key ({} of {want} deliveries) {:.0} ms after the call{}",
        received.len(),
        all_received.map_or(f64::NAN, ms),
        if received.len() < want {
            " — INCOMPLETE after 300 s"
        } else {
            ""
        }
    );
    if received.len() < want {
        let mut lacking: HashMap<usize, usize> = HashMap::new();
        for &r in &remaining {
            for &s in &remaining {
                if r != s && !received.contains_key(&(r, s)) {
                    *lacking.entry(s).or_default() += 1;
                }
            }
        }
        let mut v: Vec<_> = lacking.into_iter().collect();
        v.sort();
        println!("      undelivered, by sender (sender: members lacking its message): {v:?}");
    }
    let mut epochs_ok = 0;
    for &r in &remaining {
        if c.members[r]
            .node
            .group(group)
            .is_ok_and(|g| g.epoch == after.epoch && g.members.len() == remaining.len())
        {
            epochs_ok += 1;
        }
    }
    println!(
        "      CPU of the whole process meanwhile: {:.2} s ({} new sender keys handed over 1:1, and {want} group messages)",
        (cpu1 - cpu0).as_secs_f64(),
        remaining.len() * (remaining.len() - 1)
    );
    println!(
        "      {epochs_ok} of {} remaining members hold epoch {} with {} members; the removed member {} and received {leaked} of the messages sent after",
        remaining.len(),
        after.epoch,
        remaining.len(),
        if victim_told.is_some() {
            "was told of its removal"
        } else {
            "was NOT told of its removal"
        }
    );
}

/// Bytes of the sender's store: outbox rows (key and value) and their count, the group trees
/// (`Store::group_bytes`), and the directory on disk.
fn store_bytes(home: &Path, members: &[PeerId]) -> (u64, usize, u64, u64) {
    let store =
        paperplane::store::Store::open(&Home::new(home).store_path()).expect("the sender's store");
    let (mut outbox, mut rows) = (0u64, 0usize);
    for peer in members {
        for (_, entry) in store.outbox_all(peer).expect("outbox") {
            // The key is `peer ‖ sent_at ‖ id`.
            let key = peer.to_bytes().len() + 8 + 16;
            outbox += (key + paperplane::protocol::encode(&entry).len()) as u64;
            rows += 1;
        }
    }
    let groups = store.group_bytes();
    drop(store);
    (
        outbox,
        rows,
        groups,
        dir_size(&Home::new(home).store_path()),
    )
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// With every member stopped (nothing can be delivered), queues `count` messages on a
/// restarted sender: its store growth per message per member, and its CPU for queueing.
async fn store_cost(c: Cluster, group: &GroupId, count: usize) {
    let left = c.wait_outboxes(&[0], Duration::from_secs(60)).await;
    let sender_home = c.members[0].home.clone();
    let current: Vec<PeerId> = c
        .sender()
        .group(group)
        .expect("group")
        .members
        .iter()
        .map(|m| m.peer)
        .filter(|p| *p != c.members[0].peer)
        .collect();
    c.shutdown().await;
    let (o0, r0, g0, d0) = store_bytes(&sender_home, &current);
    let sender = start_node(&sender_home, "member0", true).await;
    let (cpu0, _) = cpu_and_rss();
    let t = Instant::now();
    for k in 0..count {
        sender
            .send_group_text(
                group,
                format!("stored {k}: the forecast says rain after four"),
            )
            .await
            .expect("send");
    }
    let queued = t.elapsed();
    let (cpu1, _) = cpu_and_rss();
    sender.shutdown().await.ok();
    drop(sender);
    let (o1, r1, g1, d1) = store_bytes(&sender_home, &current);
    let per = |bytes: u64| bytes as f64 / (count * current.len()) as f64;
    println!(
        "  sender's store, {count} messages queued to {} members with every member stopped ({} rows were still queued before): outbox +{} rows, +{:.0} B per message per member (key and value); group trees +{:.0} B per message (+{:.1} B per message per member); store directory on disk {} -> {} KiB (sled grows its file in large steps: coarse)",
        current.len(),
        r0 + left,
        r1 - r0,
        per(o1.saturating_sub(o0)),
        g1.saturating_sub(g0) as f64 / count as f64,
        per(g1.saturating_sub(g0)),
        d0 / 1024,
        d1 / 1024
    );
    println!(
        "      queueing alone (no member reachable): {:.1} ms per message, CPU {:.0} us per message per member (sealing, rows, flush, and failed dials)",
        ms(queued) / count as f64,
        (cpu1 - cpu0).as_secs_f64() * 1e6 / (count * current.len()) as f64
    );
}

async fn run(args: Args) {
    let tmp = tempfile::tempdir().expect("tempdir");
    println!(
        "group fan-out, all nodes in one process on 127.0.0.1 ({} tokio runtime, {} cores); times to the LAST member include every member's own work on the same cores",
        if args.current_thread { "current-thread" } else { "2-worker" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // ---- A group whose members all know each other.
    let n = args.members;
    println!(
        "group of {n} members (the sender and {} others), every pair connected:",
        n - 1
    );
    let t = Instant::now();
    let mut c = Cluster::start(&tmp.path().join("mesh"), n, true).await;
    println!("  {n} nodes started in {:.1} s", t.elapsed().as_secs_f64());
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect();
    let group = make_group(&mut c, &pairs, true).await;
    sequential(&mut c, &group, 1, "warm-up").await;
    sequential(&mut c, &group, args.messages, "message").await;
    burst(&mut c, &group, args.burst, false).await;
    removal(&mut c, &group).await;
    if args.store > 0 {
        store_cost(c, &group, args.store).await;
    } else {
        c.shutdown().await;
    }

    // ---- A big group around the sender.
    if args.big >= 3 {
        let n = args.big;
        println!(
            "group of {n} members (the sender and {} others), each member connected to the sender only (Kademlia off, so it stays a star: members cannot hand their own keys to one another, which they retry in the background); only the sender sends",
            n - 1
        );
        let t = Instant::now();
        let mut c = Cluster::start(&tmp.path().join("star"), n, false).await;
        let (_, rss) = cpu_and_rss();
        println!(
            "  {n} nodes started in {:.1} s; process RSS {} MiB",
            t.elapsed().as_secs_f64(),
            rss / 1024
        );
        let pairs: Vec<(usize, usize)> = (1..n).map(|b| (b, 0)).collect();
        let group = make_group(&mut c, &pairs, false).await;
        sequential(&mut c, &group, 1, "warm-up").await;
        sequential(&mut c, &group, args.messages, "message").await;
        burst(&mut c, &group, args.burst, true).await;
        let (_, rss) = cpu_and_rss();
        println!(
            "  at the end: {}; process RSS {} MiB",
            c.network().await,
            rss / 1024
        );
        c.shutdown().await;
    }
}

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
    }
    let args = parse_args();
    let rt = if args.current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    }
    .enable_all()
    .build()
    .expect("runtime");
    rt.block_on(run(args));
}
