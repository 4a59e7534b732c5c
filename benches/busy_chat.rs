//! A busy chat: how fast a node reads one chat of 10,000 messages with reactions, replies,
//! edits, unsends and read receipts mixed in, and the inbox around it.
//!
//! The chat is written straight into the store of an initialised home, through the same
//! store calls the node makes when it sends and receives (`queue_outgoing`,
//! `accept_incoming`, `settle`), in batches; then a node is started on that home and its
//! library calls are timed:
//!
//! - `messages(peer, None, 50)`: what `paperplane chat @bob --limit 50` reads (views with
//!   reactions, edits and the receipt applied);
//! - `messages(peer, before, 50)`: a page further back;
//! - `inbox()`: the busy chat among 49 quiet ones.
//!
//! Each is run many times; p50 and p99 are printed. The goal is under 10 ms each.
//!
//! Run: `cargo bench --bench busy_chat` (release). Options after `--`: `--messages 10000
//! --iterations 2000`.

/// The allocator the `paperplane` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use paperplane::{
    protocol::{MessageBody, MessageId, Quote},
    store::{
        chat_state::{ChatItem, ControlRow},
        messages::{DeliveryState, Folder, StoredMessage},
        Store,
    },
    Home, Node, NodeConfig, PeerId,
};
use paperplane_crypto::{Conversation, Identity};

struct Args {
    messages: u64,
    iterations: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        messages: 10_000,
        iterations: 2_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = || it.next().unwrap_or_default();
        match x.as_str() {
            "--messages" => a.messages = val().parse().unwrap_or(a.messages),
            "--iterations" => a.iterations = val().parse().unwrap_or(a.iterations),
            _ => {}
        }
    }
    a
}

/// What the chat holds, in the order it was written.
#[derive(Default)]
struct Counts {
    ours: u64,
    theirs: u64,
    replies: u64,
    reactions: u64,
    edits: u64,
    unsends: u64,
    receipts: u64,
}

/// Writes the chat between `me` and `peer`: `n` messages, alternating in runs, with
/// changes mixed in; returns what it wrote.
fn fill(store: &Store, me: &PeerId, peer: &PeerId, n: u64, start: u64) -> Counts {
    let conv = Conversation::new(*peer);
    let mut counts = Counts::default();
    let mut incoming: Vec<ChatItem> = Vec::new();
    let mut outgoing: Vec<(ChatItem, Vec<u8>)> = Vec::new();
    // Recent messages of each side, for changes to name.
    let (mut ours, mut theirs): (Vec<MessageId>, Vec<MessageId>) = (Vec::new(), Vec::new());
    let mut next_id = 0u64;
    let mut new_id = || {
        next_id += 1;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&next_id.to_be_bytes());
        id[8..].copy_from_slice(&start.to_be_bytes());
        MessageId(id)
    };
    let flush_in = |items: &mut Vec<ChatItem>| {
        if !items.is_empty() {
            store
                .accept_incoming(me, peer, &conv, items, Folder::Inbox)
                .expect("accept");
            items.clear();
        }
    };
    let flush_out = |items: &mut Vec<(ChatItem, Vec<u8>)>| {
        if !items.is_empty() {
            let (last, _) = store.queue_outgoing(me, peer, &conv, items).expect("queue");
            if let Some(last) = last {
                let rows = store
                    .outbox_for(peer, None, &last, items.len())
                    .expect("outbox");
                let settled: Vec<_> = rows
                    .into_iter()
                    .map(|(key, _)| (key, DeliveryState::Delivered))
                    .collect();
                store.settle(&settled).expect("settle");
            }
            items.clear();
        }
    };
    // Runs of 1–4 messages from each side, in turn.
    let (mut theirs_now, mut run_left) = (true, 1u64);
    for i in 0..n {
        if run_left == 0 {
            theirs_now = !theirs_now;
            run_left = 1 + (i * 7 + i / 3) % 4;
        }
        run_left -= 1;
        let at = start + i * 2_000;
        let id = new_id();
        let text = format!(
            "message {i}: see you at the usual place around {} 🙂",
            i % 24
        );
        let body = if i % 10 == 3 {
            let quoted = *(if theirs_now { &ours } else { &theirs })
                .last()
                .unwrap_or(&id);
            counts.replies += 1;
            MessageBody::Reply {
                text,
                quote: Quote {
                    id: quoted,
                    author: if theirs_now { *me } else { *peer },
                    excerpt: "see you at the usual place".into(),
                },
            }
        } else {
            MessageBody::Text(text)
        };
        if theirs_now {
            flush_out(&mut outgoing);
            counts.theirs += 1;
            incoming.push(ChatItem::Shown(StoredMessage {
                id,
                peer: *peer,
                outgoing: false,
                sent_at: at,
                stored_at: at + 50,
                body,
                state: DeliveryState::Received,
            }));
            theirs.push(id);
            // They react to one of ours now and then, edit a message of theirs, unsend
            // one, and read ours.
            let change = |body| {
                ChatItem::Control(ControlRow {
                    id: MessageId(rand::random()),
                    peer: *peer,
                    outgoing: false,
                    sent_at: at + 500,
                    body,
                })
            };
            if i % 5 == 0 {
                if let Some(target) = ours.last() {
                    counts.reactions += 1;
                    incoming.push(change(MessageBody::Reaction {
                        target: *target,
                        emoji: Some(["❤️", "😂", "🔥", "👍"][(i % 4) as usize].into()),
                    }));
                }
            }
            if i % 20 == 1 {
                counts.edits += 1;
                incoming.push(change(MessageBody::Edit {
                    target: id,
                    text: format!("message {i}, edited"),
                }));
            } else if i % 97 == 2 {
                counts.unsends += 1;
                incoming.push(change(MessageBody::Unsend { target: id }));
            } else if i % 7 == 0 {
                if let Some(target) = ours.last() {
                    counts.receipts += 1;
                    incoming.push(change(MessageBody::Seen { up_to: *target }));
                }
            }
            if incoming.len() >= 200 {
                flush_in(&mut incoming);
            }
        } else {
            flush_in(&mut incoming);
            counts.ours += 1;
            outgoing.push((
                ChatItem::Shown(StoredMessage {
                    id,
                    peer: *peer,
                    outgoing: true,
                    sent_at: at,
                    stored_at: at,
                    body,
                    state: DeliveryState::Pending,
                }),
                vec![0; 512],
            ));
            ours.push(id);
            if i % 6 == 0 {
                if let Some(target) = theirs.last() {
                    counts.reactions += 1;
                    outgoing.push((
                        ChatItem::Control(ControlRow {
                            id: new_id(),
                            peer: *peer,
                            outgoing: true,
                            sent_at: at + 1,
                            body: MessageBody::Reaction {
                                target: *target,
                                emoji: Some("❤️".into()),
                            },
                        }),
                        vec![0; 512],
                    ));
                }
            }
            if outgoing.len() >= 200 {
                flush_out(&mut outgoing);
            }
        }
    }
    flush_in(&mut incoming);
    flush_out(&mut outgoing);
    counts
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let (p50, p99) = (percentile(&times, 0.50), percentile(&times, 0.99));
    let goal = if p50 < Duration::from_millis(10) && p99 < Duration::from_millis(10) {
        "under 10 ms"
    } else {
        "OVER 10 ms"
    };
    println!(
        "{what:<34} p50 {:>8.3} ms   p99 {:>8.3} ms   ({} runs, {goal})",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        times.len()
    );
}

fn time(iterations: usize, mut f: impl FnMut()) -> Vec<Duration> {
    // A few runs to warm the caches first, as a chat that is open.
    for _ in 0..10 {
        f();
    }
    (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().expect("tempdir");
    let home = Home::new(dir.path());
    let me = paperplane::init(&home, "alice", Some("Alice")).expect("init");
    let bob = Identity::from_seed([2; 32]).peer_id();
    let start = 1_700_000_000_000u64;

    let filled = Instant::now();
    let counts = {
        let store = Store::open(&home.store_path()).expect("store");
        // 49 quiet chats around the busy one.
        for k in 0..49u8 {
            let other = Identity::from_seed([k.wrapping_add(10); 32]).peer_id();
            fill(&store, &me, &other, 5, start + u64::from(k) * 1_000);
        }
        let counts = fill(&store, &me, &bob, args.messages, start);
        store.flush_blocking().expect("flush");
        counts
    };
    println!(
        "busy chat: {} messages ({} ours, {} theirs, {} replies) with {} reactions, {} edits, \
         {} unsends, {} read receipts; 49 other chats; written through the store in {:.1} s",
        counts.ours + counts.theirs,
        counts.ours,
        counts.theirs,
        counts.replies,
        counts.reactions,
        counts.edits,
        counts.unsends,
        counts.receipts,
        filled.elapsed().as_secs_f64()
    );

    let node = Node::start(NodeConfig::loopback(home))
        .await
        .expect("start");
    let newest = node.messages(bob, None, 50).expect("chat");
    assert_eq!(newest.len(), 50);
    let shown = |v: &[paperplane::MessageView]| {
        (
            v.iter().filter(|m| !m.reactions.is_empty()).count(),
            v.iter().filter(|m| m.edited_at.is_some()).count(),
            v.iter().filter(|m| m.state == "seen").count(),
        )
    };
    let (reacted, edited, seen) = shown(&newest);
    println!("the newest 50: {reacted} with reactions, {edited} edited, {seen} of ours seen");
    assert!(reacted > 0 && seen > 0, "the changes show");
    let inbox = node.inbox().expect("inbox");
    assert_eq!(inbox.len(), 50);
    let older = newest[0].id;

    report(
        "messages(bob, None, 50)",
        time(args.iterations, || {
            let v = node.messages(bob, None, 50).expect("chat");
            assert_eq!(v.len(), 50);
        }),
    );
    report(
        "messages(bob, Some(older), 50)",
        time(args.iterations, || {
            let v = node.messages(bob, Some(older), 50).expect("chat");
            assert_eq!(v.len(), 50);
        }),
    );
    report(
        "inbox() with 50 chats",
        time(args.iterations, || {
            let v = node.inbox().expect("inbox");
            assert_eq!(v.len(), 50);
        }),
    );
    node.shutdown().await.expect("shutdown");
}
