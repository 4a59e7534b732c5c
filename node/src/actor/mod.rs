//! The node actor: one task owns the swarm and the store, takes [`Command`]s from the
//! [`crate::Node`] handles, turns swarm events into store changes and [`Event`]s, and holds
//! no protocol rules of its own (those live in `protocol`, `crypto`, `ingest` and `profile`).
//!
//! - `command`: the [`Command`]s a handle sends; `commands`: carrying out the user's actions
//!   (post, follow, like, …).
//! - `publish`: gossip subscriptions and publishing the own profile and records.
//! - `network`: swarm events: connections, gossip, discovery.
//! - `sync`: `/paperplane/sync/1`, both sides.
//! - `blobs`: `/paperplane/blob/1`, both sides; [`blob_fetch`] reassembles and verifies.
//! - `chat_photos`: photos in chats: sealing and sending, fetching and revealing.
//! - `chats`: the user's changes to chats: read, accept, decline, block.
//! - `business`: quick replies, away, labels and muting; the automatic away answer.
//! - `dm`: `/paperplane/dm/1`, both sides, carrying out the delivery core's decisions;
//!   `flush`: group commit.

pub(crate) mod blob_fetch;
mod blobs;
mod business;
mod chat_items;
mod chat_photos;
mod chats;
mod command;
mod commands;
mod discovery;
mod dm;
mod flush;
mod group_receive;
mod group_send;
mod groups;
mod mailbox;
mod network;
mod publish;
mod slots;
mod sync;

pub(crate) use command::{Command, Queued};

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use libp2p::{
    gossipsub::TopicHash, request_response::OutboundRequestId, swarm::ConnectionId, Multiaddr,
    Swarm,
};
use paperplane_crypto::{Identity, MessagingIdentity, PrekeyStore, ReplayCache};
use paperplane_protocol::{BlobHash, PeerId, Topic};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::{
    clock::Clock,
    config::NodeConfig,
    delivery::{
        inbox::Inbox,
        outbox::{BatchId, Input, Outbox},
    },
    error::{Error, Result},
    event::Event,
    ingest::Ingest,
    net::{self, NodeBehaviour, StreamCaps},
    store::{messages::OutboxKey, Store},
    views::Status,
};

/// Where a `connect` call's answer goes.
type ConnectReply = oneshot::Sender<Result<PeerId>>;

/// What [`spawn`] needs.
pub(crate) struct Parts {
    /// Settings.
    pub config: NodeConfig,
    /// The user's key.
    pub identity: Identity,
    /// The store.
    pub store: Store,
    /// Where events go.
    pub events: broadcast::Sender<Event>,
    /// Where commands come from.
    pub commands: mpsc::Receiver<Command>,
    /// Set to true once stopped.
    pub done: watch::Sender<bool>,
}

/// Most queued `send` calls handled in one store transaction.
const MAX_SEND_BATCH: usize = 256;

/// Most messages kept per topic while no peer subscribes to it yet.
const MAX_PENDING_PUBLISH: usize = 256;

struct Actor {
    swarm: Swarm<NodeBehaviour>,
    /// The inbound streams each peer holds open on this node.
    streams: StreamCaps,
    store: Store,
    identity: Identity,
    me: PeerId,
    events: broadcast::Sender<Event>,
    listen_addrs: Vec<Multiaddr>,
    connected: HashSet<PeerId>,
    pending_dials: HashMap<ConnectionId, oneshot::Sender<Result<PeerId>>>,
    /// `connect` calls (address and reply) for a peer the node was already dialling: answered
    /// when that dial connects, and dialled themselves if it fails.
    awaiting_peer: HashMap<PeerId, Vec<(String, ConnectReply)>>,
    pending_publish: HashMap<TopicHash, Vec<Vec<u8>>>,
    syncs: sync::Requests,
    fetches: HashMap<BlobHash, blobs::Fetch>,
    blob_requests: blobs::Requests,
    /// What each peer may still ask this node to serve (sync and blob) this minute.
    serving: crate::serving::ServeBudget,
    /// Records from the network rejected since start.
    rejected: u64,
    messaging: MessagingIdentity,
    prekeys: PrekeyStore,
    /// The sessions of deleted conversations, as stored.
    replays: ReplayCache,
    /// The delivery core's sending side.
    outbox: Outbox<OutboxKey>,
    /// Which batch each `/paperplane/dm/1` request in flight carries.
    dm_requests: HashMap<OutboundRequestId, BatchId>,
    /// The delivery core's receiving side.
    inbox: Inbox,
    clock: Clock,
    flusher: flush::Flusher,
    /// Whom the user follows (read on every new connection, so kept here).
    followees: HashSet<PeerId>,
    /// When to ask peers again about each followed author (anti-entropy).
    catch_up: crate::anti_entropy::Schedule,
    /// Whether the node subscribes to feed topics (see [`NodeConfig::feed_gossip`]).
    feed_gossip: bool,
    /// Photos in chats: those still to fetch, and those sent.
    chat_photos: chat_photos::ChatPhotos,
    /// The timestamp of the newest message we sent to anyone (`Actor::next_stamp`).
    last_stamp: u64,
    /// How many group updates wait in `group_outgoing` for the request being received to
    /// be stored (any left by a crash are sent at start).
    deferred_group_updates: usize,
    /// Whether group updates wait for members' keys (tried again at the next sweep).
    group_updates_parked: bool,
    /// When they were last tried.
    last_parked_retry: u64,
    /// When group keys and held envelopes were last swept.
    last_group_sweep: u64,
    /// Reachability, relays, the address record, lookups by peer id.
    discovery: discovery::Discovery,
    /// Store-and-forward: deposits, the mail kept here, fetching ours.
    mailboxes: mailbox::Mailboxes,
    /// How long a connection without use may stay idle (ms).
    idle_ms: u64,
}

/// A duration in whole milliseconds, saturating.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Builds the swarm, starts listening and dialling, and runs the actor in a task. Returns once
/// the listeners report their addresses (or after 5 s).
pub(crate) async fn spawn(parts: Parts) -> Result<()> {
    let Parts {
        config,
        identity,
        store,
        events,
        commands,
        done,
    } = parts;
    let net::Network {
        mut swarm,
        streams,
        over_cap,
    } = net::build_swarm(
        identity.libp2p_keypair(),
        net::NetOptions {
            mdns: config.mdns,
            kademlia: config.kademlia,
            dht_server: if config.relay_server {
                Some(true)
            } else {
                config.dht_server
            },
            relay_server: config.relay_server,
        },
    )
    .map_err(|e| Error::Transport(e.to_string()))?;
    let me = identity.peer_id();
    let parse = |a: &String| -> Result<Multiaddr> {
        a.parse()
            .map_err(|e: libp2p::multiaddr::Error| Error::BadAddress {
                addr: a.clone(),
                reason: e.to_string(),
            })
    };
    let listen: Vec<Multiaddr> = config.listen.iter().map(parse).collect::<Result<_>>()?;
    let dial: Vec<Multiaddr> = config
        .bootstrap
        .iter()
        .chain(&config.connect)
        .map(parse)
        .collect::<Result<_>>()?;
    for addr in &listen {
        swarm.listen_on(addr.clone()).map_err(|e| Error::Listen {
            addr: addr.to_string(),
            reason: e.to_string(),
        })?;
    }
    let now = config.clock.now_ms();
    let messaging =
        MessagingIdentity::from_secret_bytes(&identity, *config.home.messaging_secret()?);
    let mut prekeys = match store.prekeys()? {
        Some(p) => p,
        None => PrekeyStore::new(&mut rand::rng(), now),
    };
    prekeys.rotate_if_due(&mut rand::rng(), now);
    store.put_prekeys(&prekeys)?;
    let replays = store.replay_cache()?;
    let (flush_tx, flush_rx) = mpsc::channel(4);
    let waiting = store.outbox_peers()?;
    let my_mailboxes = store.my_mailboxes()?;
    let mut actor = Actor {
        swarm,
        streams,
        store,
        identity,
        me,
        events,
        listen_addrs: Vec::new(),
        connected: HashSet::new(),
        pending_dials: HashMap::new(),
        awaiting_peer: HashMap::new(),
        pending_publish: HashMap::new(),
        syncs: sync::Requests::default(),
        fetches: HashMap::new(),
        blob_requests: blobs::Requests::default(),
        serving: crate::serving::ServeBudget::default(),
        rejected: 0,
        messaging,
        prekeys,
        replays,
        outbox: Outbox::new(rand::random()),
        dm_requests: HashMap::new(),
        inbox: Inbox::default(),
        clock: config.clock.clone(),
        flusher: flush::Flusher::new(flush_tx),
        followees: HashSet::new(),
        catch_up: crate::anti_entropy::Schedule::new(crate::anti_entropy::Backoff {
            first: millis(config.catch_up_first),
            most: millis(config.catch_up_most),
        }),
        feed_gossip: config.feed_gossip,
        chat_photos: chat_photos::ChatPhotos::default(),
        // Rows waiting in the outbox must stay before every new one to their recipient.
        last_stamp: waiting
            .iter()
            .map(|(_, up_to)| up_to.sent_at())
            .max()
            .unwrap_or(0),
        deferred_group_updates: 1,
        last_group_sweep: 0,
        group_updates_parked: false,
        last_parked_retry: 0,
        discovery: discovery::Discovery::default(),
        mailboxes: mailbox::Mailboxes::naming(my_mailboxes),
        idle_ms: millis(config.idle_connection_timeout),
    };
    actor.publish_messaging_keys()?;
    actor.subscribe(Topic::Profiles);
    actor.subscribe(Topic::Feed(me));
    for f in actor.store.following(&me)? {
        actor.followees.insert(f.body.followee);
        actor.catch_up.track(f.body.followee, now);
        actor.subscribe(Topic::Feed(f.body.followee));
    }
    // Wait for the listeners' addresses so `status` reports them from the start.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while actor.listen_addrs.len() < listen.len() {
        use futures::StreamExt;
        match tokio::time::timeout_at(deadline, actor.swarm.select_next_some()).await {
            Ok(ev) => actor.on_swarm_event(ev),
            Err(_) => break,
        }
    }
    actor.discovery.dht_mode_follows_reachability =
        config.dht_server.is_none() && !config.relay_server;
    for (i, addr) in dial.into_iter().enumerate() {
        if let Some(libp2p::multiaddr::Protocol::P2p(peer)) = addr.iter().last() {
            if i < config.bootstrap.len() {
                actor.discovery.bootstrap_peers.insert(peer);
            }
            if let Some(kad) = actor.swarm.behaviour_mut().kad.as_mut() {
                kad.add_address(&peer, addr.clone());
            }
        }
        if let Err(e) = actor.swarm.dial(addr.clone()) {
            tracing::warn!(%addr, error = %e, "dial failed");
        }
    }
    actor.remember_known_peers()?;
    // Mail left while we were away.
    actor.fetch_mail();
    actor.send_deferred_group_updates();
    actor.resume_chat_photos()?;
    // Messages queued before the last stop (read back from disk, so durable) go out now, or
    // as soon as their peer is back.
    for (peer, up_to) in waiting {
        actor.drive_outbox(Input::Durable { peer, up_to });
    }
    actor.publish_own_profile();
    tokio::spawn(actor.run(
        commands,
        flush_rx,
        over_cap,
        config.republish_interval,
        done,
    ));
    Ok(())
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut flushed: mpsc::Receiver<std::result::Result<(), String>>,
        mut over_cap: mpsc::Receiver<PeerId>,
        republish: Duration,
        done: watch::Sender<bool>,
    ) {
        use futures::StreamExt;
        // Keeps the swarm polled so gossipsub's heartbeat runs on time (see LIBP2P.md).
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut republish =
            tokio::time::interval_at(tokio::time::Instant::now() + republish, republish);
        let mut shutdown_reply = None;
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(Command::Shutdown(reply)) => {
                        shutdown_reply = Some(reply);
                        break;
                    }
                    Some(Command::Send { peer, body, reply }) => {
                        // Sends waiting behind this one share its transaction and flush.
                        let mut sends = vec![dm::Outgoing { peer, body, reply }];
                        let mut next = None;
                        while sends.len() < MAX_SEND_BATCH {
                            match commands.try_recv() {
                                Ok(Command::Send { peer, body, reply }) => {
                                    sends.push(dm::Outgoing { peer, body, reply });
                                }
                                Ok(other) => {
                                    next = Some(other);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        self.send_messages(sends);
                        match next {
                            Some(Command::Shutdown(reply)) => {
                                shutdown_reply = Some(reply);
                                break;
                            }
                            Some(cmd) => self.on_command(cmd),
                            None => {}
                        }
                    }
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
                Some(peer) = over_cap.recv() => self.on_too_many_streams(peer),
                Some(r) = flushed.recv() => self.on_flushed(r),
                _ = tick.tick() => self.on_tick(),
                _ = republish.tick() => self.publish_own_profile(),
            }
            self.kick_flush();
        }
        self.kick_flush();
        // Work waiting for a flush in progress still completes.
        while self.flusher_busy() {
            match flushed.recv().await {
                Some(r) => self.on_flushed(r),
                None => break,
            }
        }
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "flushing the store at shutdown failed");
        }
        for peer in self.connected.drain() {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        drop(self);
        if let Some(reply) = shutdown_reply {
            let _ = reply.send(Ok(()));
        }
        let _ = done.send(true);
    }

    /// Teaches the swarm the addresses of peers seen before, and dials the people we follow,
    /// so deliveries and catch-up resume after a restart without any discovery.
    fn remember_known_peers(&mut self) -> Result<()> {
        let mut dialled = 0;
        for (peer, addrs) in self.store.addresses()? {
            for addr in addrs.iter().filter_map(|a| a.parse::<Multiaddr>().ok()) {
                self.swarm.add_peer_address(peer, addr);
            }
            if self.followees.contains(&peer) && dialled < 16 && !self.connected.contains(&peer) {
                dialled += 1;
                let _ = self.swarm.dial(peer);
            }
        }
        Ok(())
    }

    /// The time, read once per piece of work and passed to the rules.
    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    fn on_tick(&mut self) {
        self.drive_outbox(Input::Tick);
        self.discovery_tick();
        self.mailbox_tick();
        self.ask_about_due_authors();
        self.retry_chat_photos();
        let now = self.now();
        self.retry_parked_group_updates(now);
        if now.saturating_sub(self.last_group_sweep) >= groups::SWEEP_EVERY_MS {
            self.last_group_sweep = now;
            self.sweep_groups();
        }
        if self.prekeys.rotation_due(self.now()) {
            if let Err(e) = self.publish_messaging_keys() {
                tracing::error!(error = %e, "rotating prekeys");
            }
        }
    }

    fn ingest(&self) -> Ingest<'_> {
        Ingest {
            store: &self.store,
            me: self.me,
            now: self.now(),
        }
    }

    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn status(&mut self) -> Status {
        let handle = self
            .store
            .profile(&self.me)
            .ok()
            .flatten()
            .map(|p| p.body.handle.as_str().to_owned())
            .unwrap_or_default();
        let mut peers: Vec<PeerId> = self.connected.iter().copied().collect();
        peers.sort();
        Status {
            peer_id: self.me,
            handle,
            listen_addrs: self
                .listen_addrs
                .iter()
                .map(|a| {
                    a.clone()
                        .with_p2p(self.me)
                        .unwrap_or_else(|a| a)
                        .to_string()
                })
                .collect(),
            connected_peers: peers.len(),
            peers,
            rejected_records: self.rejected,
            inbound_streams: self.streams.held(),
            reachability: self.discovery.reachability,
            external_addrs: self
                .direct_external_addresses()
                .iter()
                .map(|a| a.to_string())
                .collect(),
            relayed_addrs: self.relayed_addrs(),
            connections: self.connection_views(),
            dht_peers: self.dht_peers(),
            relay_server: self.swarm.behaviour().relay_server.is_enabled(),
        }
    }
}
