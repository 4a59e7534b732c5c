//! Reaching peers beyond the LAN: reachability (AutoNAT v2), reservations on relays, the
//! signed address record in the DHT, finding a peer by id alone, and hole punching (DCUtR)
//! reports. The decisions that need no swarm live in [`crate::reach`].

use std::collections::{HashMap, HashSet};

use libp2p::{
    autonat,
    core::transport::ListenerId,
    core::ConnectedPoint,
    dcutr, identify, kad,
    multiaddr::Protocol,
    relay,
    swarm::{dial_opts::DialOpts, ConnectionId},
    Multiaddr,
};
use paperplane_protocol::{
    addresses::{self, PeerAddresses, MAX_ADDRESS_RECORD_BYTES},
    decode, encode, PeerId, Signed,
};

use super::{Actor, ConnectReply};
use crate::{
    error::Error,
    reach::{self, Reachability},
    views::ConnectionView,
};

/// The discovery side's state.
#[derive(Default)]
pub(super) struct Discovery {
    /// What AutoNAT found.
    pub(super) reachability: Reachability,
    /// Every open connection: its peer and the address it runs over.
    connections: HashMap<ConnectionId, (PeerId, Multiaddr)>,
    /// Relays the node knows (they speak the relay hop protocol), with an address to reach
    /// them at.
    relays: HashMap<PeerId, Multiaddr>,
    /// Reservations asked for or held, by relay.
    reservations: HashMap<PeerId, ListenerId>,
    /// Peers from the bootstrap list.
    pub(super) bootstrap_peers: HashSet<PeerId>,
    /// The DHT mode follows reachability (no mode was configured).
    pub(super) dht_mode_follows_reachability: bool,
    /// Lookups by peer id in flight: the DHT query and the peer it looks for.
    lookups: HashMap<kad::QueryId, PeerId>,
    /// `connect PEER-ID` calls waiting for a connection to that peer.
    waiting: HashMap<PeerId, Vec<ConnectReply>>,
    /// Peers dialled at the addresses of their DHT record: if that dial fails, the routing
    /// tables are asked next (a record may be older than the peer's newest relay).
    from_record: HashSet<PeerId>,
    /// `bootstrap` calls waiting for the query's end.
    bootstraps: Vec<tokio::sync::oneshot::Sender<crate::error::Result<usize>>>,
    /// The addresses changed since the record was last published.
    dirty: bool,
    /// When the address record was last published (Unix ms).
    last_published: u64,
    /// When reservations were last looked after (Unix ms).
    last_reservation_check: u64,
    /// Peers with a relay reservation on this node or a circuit through it: open circuits
    /// per peer.
    pub(super) relaying_for: HashMap<PeerId, u32>,
    /// When each connected peer last asked or answered something (Unix ms).
    pub(super) last_active: HashMap<PeerId, u64>,
    /// When idle connections were last looked for.
    last_idle_check: u64,
}

impl Actor {
    /// A connection came up: remembered for `status` and for choosing relays.
    pub(super) fn discovery_connected(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        endpoint: &ConnectedPoint,
    ) {
        let address = match endpoint {
            ConnectedPoint::Dialer { address, .. } => address.clone(),
            ConnectedPoint::Listener { send_back_addr, .. } => send_back_addr.clone(),
        };
        if !reach::is_relayed(&address) {
            if let ConnectedPoint::Dialer { address, .. } = endpoint {
                // A relay's address as we dialled it is one we can reserve through.
                if let Some(relay) = self.discovery.relays.get_mut(&peer) {
                    *relay = address.clone();
                }
            }
        }
        self.discovery.connections.insert(id, (peer, address));
        self.discovery.from_record.remove(&peer);
        if let Some(replies) = self.discovery.waiting.remove(&peer) {
            for reply in replies {
                let _ = reply.send(Ok(peer));
            }
        }
    }

    /// A connection closed.
    pub(super) fn discovery_disconnected(&mut self, id: ConnectionId) {
        self.discovery.connections.remove(&id);
    }

    /// A dial to `peer` failed: `connect PEER-ID` calls waiting on it (and no lookup) fail.
    pub(super) fn discovery_dial_failed(&mut self, peer: PeerId, error: &str) {
        if self.discovery.lookups.values().any(|p| *p == peer) {
            return;
        }
        if self.discovery.from_record.remove(&peer) && self.discovery.waiting.contains_key(&peer) {
            if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                let query = kad.get_closest_peers(peer);
                self.discovery.lookups.insert(query, peer);
                return;
            }
        }
        if let Some(replies) = self.discovery.waiting.remove(&peer) {
            for reply in replies {
                let _ = reply.send(Err(Error::Dial(format!("dial failed: {error}"))));
            }
        }
    }

    /// The open connections, for `status`.
    pub(super) fn connection_views(&self) -> Vec<ConnectionView> {
        let mut out: Vec<ConnectionView> = self
            .discovery
            .connections
            .values()
            .map(|(peer, address)| ConnectionView {
                peer: *peer,
                address: address.to_string(),
                relayed: reach::is_relayed(address),
            })
            .collect();
        out.sort_by(|a, b| (a.peer, &a.address).cmp(&(b.peer, &b.address)));
        out
    }

    /// The node's addresses through relays (reservations held), each ending in our id.
    pub(super) fn relayed_addrs(&self) -> Vec<String> {
        self.listen_addrs
            .iter()
            .filter(|a| reach::is_relayed(a))
            .map(|a| self.with_me(a).to_string())
            .collect()
    }

    fn with_me(&self, a: &Multiaddr) -> Multiaddr {
        a.clone().with_p2p(self.me).unwrap_or_else(|a| a)
    }

    /// Identify told us about `peer`: a relay is remembered (and reserved on if we need one).
    pub(super) fn discovery_identified(&mut self, peer: PeerId, info: &identify::Info) {
        if !info.protocols.contains(&relay::HOP_PROTOCOL_NAME) {
            return;
        }
        // QUIC first: a reservation over QUIC makes the NAT's mapping of our UDP port the
        // address others see, and UDP hole punching works behind more NATs than TCP.
        let address = reach::relay_addr(&info.listen_addrs);
        let room = self.discovery.relays.len() < reach::MAX_KNOWN_RELAYS
            || self.discovery.relays.contains_key(&peer);
        if let (Some(address), true) = (address, room) {
            self.discovery.relays.insert(peer, address);
            self.keep_reservations();
        }
    }

    /// Reserves slots on up to [`reach::WANTED_RESERVATIONS`] known relays while the node
    /// is not publicly reachable (and gives them up once it is).
    pub(super) fn keep_reservations(&mut self) {
        let d = &mut self.discovery;
        if d.reachability == Reachability::Public {
            for (_, listener) in d.reservations.drain() {
                self.swarm.remove_listener(listener);
            }
            return;
        }
        let mut relays: Vec<(PeerId, Multiaddr)> = d
            .relays
            .iter()
            .filter(|(p, _)| !d.reservations.contains_key(p) && **p != self.me)
            .map(|(p, a)| (*p, a.clone()))
            .collect();
        relays.sort_by_key(|(p, _)| (!d.bootstrap_peers.contains(p), *p));
        for (relay, address) in relays {
            if self.discovery.reservations.len() >= reach::WANTED_RESERVATIONS {
                break;
            }
            let circuit = address
                .with_p2p(relay)
                .unwrap_or_else(|a| a)
                .with(Protocol::P2pCircuit);
            match self.swarm.listen_on(circuit.clone()) {
                Ok(listener) => {
                    tracing::info!(%relay, "asking a relay for a reservation");
                    self.discovery.reservations.insert(relay, listener);
                }
                Err(e) => tracing::debug!(%circuit, error = %e, "cannot reserve on a relay"),
            }
        }
    }

    /// A listener closed: a reservation that ended is asked for again later.
    pub(super) fn discovery_listener_closed(&mut self, listener: ListenerId) {
        self.discovery.reservations.retain(|_, l| *l != listener);
        self.discovery.dirty = true;
    }

    /// The addresses the node can be reached at changed. A new relayed address is
    /// published at once: it is the one that lets others in.
    pub(super) fn addresses_changed(&mut self, relayed: bool) {
        self.discovery.dirty = true;
        if relayed {
            self.discovery.last_published = 0;
            self.publish_addresses_if_due();
        }
    }

    /// AutoNAT tested one of our addresses.
    pub(super) fn on_autonat(&mut self, event: autonat::v2::client::Event) {
        let reachable = event.result.is_ok();
        tracing::debug!(addr = %event.tested_addr, server = %event.server, reachable, "reachability test");
        let confirmed = self.direct_external_addresses().len();
        let before = self.discovery.reachability;
        self.discovery.reachability = reach::after_test(reachable, confirmed);
        if before != self.discovery.reachability {
            self.reachability_changed();
        }
    }

    /// Reachability changed: reservations, the DHT mode and the address record follow.
    fn reachability_changed(&mut self) {
        let public = self.discovery.reachability == Reachability::Public;
        tracing::info!(reachability = ?self.discovery.reachability, "reachability changed");
        self.discovery.dirty = true;
        if self.discovery.dht_mode_follows_reachability {
            // Decided here rather than by kad itself, which counts a relayed address as
            // public and would make every node behind a NAT a DHT server.
            if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                kad.set_mode(Some(if public {
                    kad::Mode::Server
                } else {
                    kad::Mode::Client
                }));
            }
        }
        self.keep_reservations();
    }

    /// A confirmed public address appeared or expired.
    pub(super) fn external_addresses_changed(&mut self) {
        let confirmed = self.direct_external_addresses().len();
        let before = self.discovery.reachability;
        self.discovery.reachability = reach::after_external_change(before, confirmed);
        self.discovery.dirty = true;
        if before != self.discovery.reachability {
            self.reachability_changed();
        }
    }

    /// Confirmed public addresses that are not through a relay (the swarm counts a relayed
    /// address with a reservation as confirmed too; it says nothing of reachability).
    pub(super) fn direct_external_addresses(&self) -> Vec<Multiaddr> {
        self.swarm
            .external_addresses()
            .filter(|a| !reach::is_relayed(a))
            .cloned()
            .collect()
    }

    /// The relay server's events: who holds a reservation or a circuit here.
    pub(super) fn on_relay_server(&mut self, event: relay::Event) {
        match event {
            relay::Event::ReservationReqAccepted { src_peer_id, .. } => {
                self.discovery.relaying_for.entry(src_peer_id).or_insert(0);
            }
            relay::Event::ReservationTimedOut { src_peer_id }
                if self.discovery.relaying_for.get(&src_peer_id) == Some(&0) =>
            {
                self.discovery.relaying_for.remove(&src_peer_id);
            }
            relay::Event::CircuitReqAccepted {
                src_peer_id,
                dst_peer_id,
            } => {
                for p in [src_peer_id, dst_peer_id] {
                    *self.discovery.relaying_for.entry(p).or_insert(0) += 1;
                }
            }
            relay::Event::CircuitClosed {
                src_peer_id,
                dst_peer_id,
                ..
            } => {
                for p in [src_peer_id, dst_peer_id] {
                    if let Some(n) = self.discovery.relaying_for.get_mut(&p) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
            _ => {}
        }
    }

    /// The relay client's events.
    pub(super) fn on_relay_client(&mut self, event: relay::client::Event) {
        if let relay::client::Event::ReservationReqAccepted {
            relay_peer_id,
            renewal,
            ..
        } = event
        {
            if !renewal {
                tracing::info!(relay = %relay_peer_id, "relay reservation accepted");
            }
            self.discovery.dirty = true;
        }
    }

    /// Hole punching's outcome.
    pub(super) fn on_dcutr(&mut self, event: dcutr::Event) {
        match event.result {
            Ok(_) => {
                let peer = event.remote_peer_id;
                tracing::info!(%peer, "direct connection after hole punching");
                // The relay's circuit is no longer needed: what was in flight on it is sent
                // again on the direct connection (the recipient answers duplicates).
                let relayed: Vec<ConnectionId> = self
                    .discovery
                    .connections
                    .iter()
                    .filter(|(_, (p, a))| *p == peer && reach::is_relayed(a))
                    .map(|(id, _)| *id)
                    .collect();
                for id in relayed {
                    self.swarm.close_connection(id);
                }
            }
            Err(e) => {
                tracing::info!(peer = %event.remote_peer_id, error = %e, "hole punching failed; staying on the relay")
            }
        }
    }

    /// Finds `peer` in the DHT and connects to it; `reply` gets the answer.
    pub(super) fn connect_by_id(&mut self, peer: PeerId, reply: ConnectReply) {
        if peer == self.me {
            let _ = reply.send(Err(Error::DialSelf));
            return;
        }
        if self.connected.contains(&peer) {
            let _ = reply.send(Ok(peer));
            return;
        }
        let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() else {
            // No DHT: the addresses the node already knows are all there is.
            self.discovery.waiting.entry(peer).or_default().push(reply);
            match self.swarm.dial(peer) {
                Ok(()) | Err(libp2p::swarm::DialError::DialPeerConditionFalse(_)) => {}
                Err(e) => self.discovery_dial_failed(peer, &e.to_string()),
            }
            return;
        };
        let query = kad.get_record(kad::RecordKey::new(&addresses::dht_key(&peer)));
        self.discovery.lookups.insert(query, peer);
        self.discovery.waiting.entry(peer).or_default().push(reply);
    }

    /// Looks `peer` up in the DHT so that a request to it (a delivery, a deposit, a fetch)
    /// finds an address, unless it is connected or a lookup is already running. Nobody
    /// waits for the answer; the dial that follows does the rest.
    pub(super) fn find_peer(&mut self, peer: PeerId) {
        if peer == self.me
            || self.connected.contains(&peer)
            || self.discovery.lookups.values().any(|p| *p == peer)
        {
            return;
        }
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            let query = kad.get_record(kad::RecordKey::new(&addresses::dht_key(&peer)));
            self.discovery.lookups.insert(query, peer);
        }
    }

    /// Re-runs the DHT bootstrap; `reply` gets the routing table's size at its end.
    pub(super) fn bootstrap(
        &mut self,
        reply: tokio::sync::oneshot::Sender<crate::error::Result<usize>>,
    ) {
        match self
            .swarm
            .behaviour_mut()
            .kad
            .as_mut()
            .map(|k| k.bootstrap())
        {
            Some(Ok(_)) => self.discovery.bootstraps.push(reply),
            None | Some(Err(_)) => {
                let _ = reply.send(Err(Error::NoDhtPeers));
            }
        }
    }

    /// The number of peers in the DHT routing table.
    pub(super) fn dht_peers(&mut self) -> usize {
        self.swarm
            .behaviour_mut()
            .kad
            .as_mut()
            .map_or(0, |k| k.kbuckets().map(|b| b.num_entries()).sum())
    }

    pub(super) fn on_kad(&mut self, event: kad::Event) {
        match event {
            kad::Event::InboundRequest {
                request:
                    kad::InboundRequest::PutRecord {
                        source,
                        record: Some(record),
                        ..
                    },
            } => self.store_dht_record(source, record),
            kad::Event::OutboundQueryProgressed {
                id, result, step, ..
            } => match result {
                kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(found))) => {
                    let Some(&peer) = self.discovery.lookups.get(&id) else {
                        return;
                    };
                    let Some(addrs) = self.addresses_in(&peer, &found.record) else {
                        return; // an invalid record: the query goes on
                    };
                    self.discovery.lookups.remove(&id);
                    if let Some(mut q) = self
                        .swarm
                        .behaviour_mut()
                        .kad
                        .as_mut()
                        .and_then(|k| k.query_mut(&id))
                    {
                        q.finish();
                    }
                    self.dial_found(peer, addrs);
                }
                kad::QueryResult::GetRecord(_) if step.last => {
                    // No valid record: perhaps the routing table knows the peer itself.
                    if let Some(peer) = self.discovery.lookups.remove(&id) {
                        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                            let query = kad.get_closest_peers(peer);
                            self.discovery.lookups.insert(query, peer);
                        }
                    }
                }
                kad::QueryResult::GetClosestPeers(result) => {
                    let Some(&peer) = self.discovery.lookups.get(&id) else {
                        return;
                    };
                    let peers = match result {
                        Ok(ok) => ok.peers,
                        Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
                    };
                    let addrs: Vec<Multiaddr> = peers
                        .into_iter()
                        .filter(|p| p.peer_id == peer)
                        .flat_map(|p| p.addrs)
                        .collect();
                    if !addrs.is_empty() || step.last {
                        self.discovery.lookups.remove(&id);
                        if addrs.is_empty() {
                            self.lookup_failed(peer);
                        } else {
                            self.dial_found(peer, addrs);
                        }
                    }
                }
                kad::QueryResult::Bootstrap(r) => {
                    let done = match r {
                        Ok(ok) => ok.num_remaining == 0,
                        Err(_) => true,
                    };
                    if done || step.last {
                        let peers = self.dht_peers();
                        for reply in self.discovery.bootstraps.drain(..) {
                            let _ = reply.send(Ok(peers));
                        }
                        self.discovery.dirty = true;
                    }
                }
                kad::QueryResult::PutRecord(Err(e)) => {
                    tracing::debug!(error = %e, "publishing the address record");
                }
                _ => {}
            },
            kad::Event::ModeChanged { new_mode } => {
                tracing::info!(mode = %new_mode, "DHT mode");
            }
            _ => {}
        }
    }

    fn lookup_failed(&mut self, peer: PeerId) {
        if self.connected.contains(&peer) {
            return;
        }
        if let Some(replies) = self.discovery.waiting.remove(&peer) {
            for reply in replies {
                let _ = reply.send(Err(Error::PeerNotFound(peer)));
            }
        }
    }

    fn dial_found(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if self.connected.contains(&peer) {
            return;
        }
        // Another host's loopback address leads back to this host.
        let addrs = reach::dialable_elsewhere(addrs);
        for a in &addrs {
            self.swarm.add_peer_address(peer, a.clone());
        }
        let addrs = addrs.into_iter().map(|a| strip_p2p(a, &peer)).collect();
        let opts = DialOpts::peer_id(peer).addresses(addrs).build();
        match self.swarm.dial(opts) {
            // A dial is already on its way (the DHT's own): its outcome answers.
            Ok(()) | Err(libp2p::swarm::DialError::DialPeerConditionFalse(_)) => {}
            Err(e) => self.discovery_dial_failed(peer, &e.to_string()),
        }
    }

    /// The valid addresses in a DHT record for `peer`, or `None` if it is not a valid
    /// address record of that peer.
    fn addresses_in(&self, peer: &PeerId, record: &kad::Record) -> Option<Vec<Multiaddr>> {
        let signed = self.valid_address_record(record)?;
        (signed.body.peer == *peer).then(|| {
            signed
                .body
                .addrs
                .iter()
                .filter_map(|a| a.parse::<Multiaddr>().ok())
                .collect()
        })
    }

    fn valid_address_record(&self, record: &kad::Record) -> Option<Signed<PeerAddresses>> {
        reach::address_record(record.key.as_ref(), &record.value, self.now()).ok()
    }

    /// Another peer asks us to store a record: only a valid, newer address record is kept.
    fn store_dht_record(&mut self, from: PeerId, mut record: kad::Record) {
        let Some(signed) = self.valid_address_record(&record) else {
            tracing::debug!(%from, "refusing an invalid DHT record");
            return;
        };
        let now = self.now();
        let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() else {
            return;
        };
        use kad::store::RecordStore;
        if let Some(held) = kad.store_mut().get(&record.key) {
            let newer = decode::<Signed<PeerAddresses>>(&held.value, MAX_ADDRESS_RECORD_BYTES)
                .is_ok_and(|h| h.body.published_at >= signed.body.published_at);
            if newer {
                return;
            }
        }
        record.expires = Some(instant_after(signed.body.expires_at, now));
        if let Err(e) = kad.store_mut().put(record) {
            tracing::debug!(error = %e, "the DHT record store is full");
        }
    }

    /// Publishes the address record when the addresses changed (a few seconds later, so a
    /// burst of changes is one record) and before the last one expires.
    pub(super) fn publish_addresses_if_due(&mut self) {
        let now = self.now();
        let due = reach::publish_due(self.discovery.dirty, self.discovery.last_published, now);
        if !due || self.dht_peers() == 0 {
            return;
        }
        let listen: Vec<Multiaddr> = self.listen_addrs.clone();
        let external = self.direct_external_addresses();
        let addrs: Vec<String> = reach::publishable(&listen, &external)
            .iter()
            .map(|a| self.with_me(a).to_string())
            .collect();
        let record = self.identity.sign_record(PeerAddresses {
            peer: self.me,
            addrs,
            published_at: now,
            expires_at: now + reach::ADDRESS_TTL_MS,
        });
        let value = encode(&record);
        let key = kad::RecordKey::new(&addresses::dht_key(&self.me));
        let mut kad_record = kad::Record::new(key, value);
        kad_record.publisher = Some(self.me);
        kad_record.expires = Some(instant_after(now + reach::ADDRESS_TTL_MS, now));
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            match kad.put_record(kad_record, kad::Quorum::One) {
                Ok(_) => {
                    self.discovery.dirty = false;
                    self.discovery.last_published = now;
                }
                Err(e) => tracing::debug!(error = %e, "storing our own address record"),
            }
        }
    }

    /// What keeps a connection to `peer` worth holding while idle (`followers`: who
    /// follows the user, read once per check).
    fn uses_of(&self, peer: &PeerId, followers: &HashSet<PeerId>) -> reach::Uses {
        reach::Uses {
            follows: self.followees.contains(peer) || followers.contains(peer),
            chats: self.store.conversation(peer).is_ok_and(|c| c.is_some())
                || self.outbox.is_tracking(peer),
            mailbox: self.mailbox_relation(peer),
            relay: self.discovery.reservations.contains_key(peer)
                || self.discovery.relaying_for.contains_key(peer),
            bootstrap: self.discovery.bootstrap_peers.contains(peer),
        }
    }

    /// Closes the connections idle for [`crate::NodeConfig::idle_connection_timeout`] to
    /// peers the node has no use for, so a node that met thousands of peers does not hold
    /// thousands of connections. (Gossipsub keeps every connection busy, so libp2p's own
    /// idle timeout never fires.)
    fn close_idle_connections(&mut self, now: u64) {
        let idle: Vec<PeerId> = self
            .connected
            .iter()
            .copied()
            .filter(|p| {
                let last = self.discovery.last_active.get(p).copied().unwrap_or(0);
                now.saturating_sub(last) >= self.idle_ms
            })
            .collect();
        if idle.is_empty() {
            return;
        }
        let followers: HashSet<PeerId> = self
            .store
            .followers(&self.me)
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.body.author)
            .collect();
        for peer in idle {
            let last = self.discovery.last_active.get(&peer).copied().unwrap_or(0);
            if reach::close_idle(self.uses_of(&peer, &followers), last, now, self.idle_ms) {
                tracing::debug!(%peer, "closing an idle connection the node has no use for");
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
    }

    /// Looks after reservations now and then (a relay that dropped ours, a new relay), and
    /// closes idle connections.
    pub(super) fn discovery_tick(&mut self) {
        let now = self.now();
        if now.saturating_sub(self.discovery.last_idle_check) >= reach::IDLE_CHECK_MS {
            self.discovery.last_idle_check = now;
            self.close_idle_connections(now);
        }
        if now.saturating_sub(self.discovery.last_reservation_check) >= reach::RESERVATION_CHECK_MS
        {
            self.discovery.last_reservation_check = now;
            self.keep_reservations();
        }
        self.publish_addresses_if_due();
    }
}

/// `addr` without a trailing `/p2p/<peer>` (a dial to a known peer names it separately).
fn strip_p2p(mut addr: Multiaddr, peer: &PeerId) -> Multiaddr {
    if matches!(addr.iter().last(), Some(Protocol::P2p(p)) if p == *peer) {
        addr.pop();
    }
    addr
}

/// The moment `at_ms` (Unix ms) will come, as kad's store counts time, given `now_ms`.
fn instant_after(at_ms: u64, now_ms: u64) -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_millis(at_ms.saturating_sub(now_ms))
}
