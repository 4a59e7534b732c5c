//! Connections a node keeps: `--peers` peers (1,000 by default) each contact one node once
//! and then say nothing more; the node should close those connections once they have been
//! idle for its `idle_connection_timeout` (`--idle-ms`, 30 s here instead of the default
//! 2 minutes), since it neither follows nor chats with any of them.
//!
//! The node is a full `paperplane` node on 127.0.0.1; the peers are bare libp2p swarms in
//! the same process (TCP, Noise, Yamux, identify and ping), so that a thousand of them fit
//! within the machine's file descriptors. Printed: the node's connections once every peer
//! has connected, and then every second until they are gone (or `--wait-s` passes).
//!
//! Run: `cargo bench --bench idle_connections` (release). Options after `--`:
//! `--peers 1000 --idle-ms 30000 --wait-s 90`.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{identify, noise, ping, swarm::NetworkBehaviour, tcp, yamux, Multiaddr, SwarmBuilder};
use paperplane::{Home, Node, NodeConfig};
use tokio::time::Instant;

#[derive(NetworkBehaviour)]
struct Peer {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One peer: dials `hub` once and keeps polling its swarm (it never closes by itself).
async fn peer(hub: Multiaddr, connected: tokio::sync::mpsc::Sender<()>) {
    let mut swarm = SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|key| Peer {
            identify: identify::Behaviour::new(identify::Config::new(
                "/paperplane/id/1".into(),
                key.public(),
            )),
            ping: ping::Behaviour::default(),
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    swarm.dial(hub).expect("dial");
    let mut told = false;
    loop {
        if let libp2p::swarm::SwarmEvent::ConnectionEstablished { .. } =
            swarm.select_next_some().await
        {
            if !told {
                told = true;
                let _ = connected.send(()).await;
            }
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let peers = arg("--peers", 1000) as usize;
    let idle_ms = arg("--idle-ms", 30_000);
    let wait_s = arg("--wait-s", 90);
    let dir = tempfile::tempdir().expect("tempdir");
    let home = Home::new(dir.path());
    paperplane::init(&home, "hub", Some("hub")).expect("init");
    let mut config = NodeConfig::loopback(home);
    config.idle_connection_timeout = Duration::from_millis(idle_ms);
    let node = Node::start(config).await.expect("start");
    let hub: Multiaddr = node.status().await.expect("status").listen_addrs[0]
        .parse()
        .expect("address");

    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(peers);
    // In waves of 50, each once the one before has connected (or 5 s passed): the node
    // accepts at most 64 handshakes at a time.
    let mut up = 0;
    for wave in (0..peers).collect::<Vec<_>>().chunks(50) {
        for _ in wave {
            tokio::spawn(peer(hub.clone(), tx.clone()));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let target = up + wave.len();
        while up < target {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(())) => up += 1,
                _ => break,
            }
        }
    }
    let held = node.status().await.expect("status").connected_peers;
    println!(
        "{up} of {peers} peers connected in {:.1} s; the node holds {held} connections",
        started.elapsed().as_secs_f64()
    );
    let quiet = Instant::now();
    let mut last = held;
    while quiet.elapsed() < Duration::from_secs(wait_s) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = node.status().await.expect("status").connected_peers;
        if now != last {
            println!(
                "after {:>4.1} s idle: {now} connections",
                quiet.elapsed().as_secs_f64()
            );
            last = now;
        }
        if now == 0 {
            break;
        }
    }
    println!(
        "idle timeout {} ms: {last} connections left after {:.1} s",
        idle_ms,
        quiet.elapsed().as_secs_f64()
    );
    node.shutdown().await.expect("shutdown");
}
