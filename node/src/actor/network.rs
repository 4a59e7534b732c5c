//! Swarm events: connections, listen addresses, gossip validation, discovery.

use libp2p::{
    gossipsub::{self, MessageAcceptance},
    identify, mdns,
    swarm::SwarmEvent,
};
use paperplane_protocol::{
    decode, limits::MAX_GOSSIP_BYTES, FeedMessage, PeerId, Profile, Signed, Topic,
};

use super::Actor;
use crate::{
    error::Error,
    event::Event,
    ingest::Outcome,
    net::{BehaviourEvent, KAD_PROTOCOL},
};

impl Actor {
    pub(super) fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen_addrs.push(address.clone());
                self.addresses_changed(crate::reach::is_relayed(&address));
                if self.swarm.behaviour().relay_server.is_enabled()
                    && crate::reach::is_public_candidate(&address)
                {
                    // A relay's operator declares it reachable: reservations carry these
                    // addresses (a relay with none cannot grant one).
                    self.swarm.add_external_address(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|a| *a != address);
                self.addresses_changed(false);
            }
            SwarmEvent::ListenerClosed { listener_id, .. } => {
                self.discovery_listener_closed(listener_id);
            }
            SwarmEvent::ExternalAddrConfirmed { address } => {
                tracing::info!(%address, "public address confirmed");
                self.external_addresses_changed();
            }
            SwarmEvent::ExternalAddrExpired { .. } => self.external_addresses_changed(),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                endpoint,
                ..
            } => {
                if let Some(why) = self.inbox.banned(&peer_id, self.now()) {
                    tracing::debug!(%peer_id, "closing a connection from a refused peer");
                    self.swarm.close_connection(connection_id);
                    // A `connect` to that peer gets told why rather than waiting forever.
                    let refused =
                        || Error::Dial(format!("{peer_id} is refused for a while: {why}"));
                    if let Some(reply) = self.pending_dials.remove(&connection_id) {
                        let _ = reply.send(Err(refused()));
                    }
                    for (_, reply) in self.awaiting_peer.remove(&peer_id).unwrap_or_default() {
                        let _ = reply.send(Err(refused()));
                    }
                    return;
                }
                if let Some(reply) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Ok(peer_id));
                }
                for (_, reply) in self.awaiting_peer.remove(&peer_id).unwrap_or_default() {
                    let _ = reply.send(Ok(peer_id));
                }
                self.discovery_connected(peer_id, connection_id, &endpoint);
                self.discovery.last_active.insert(peer_id, self.now());
                if num_established.get() == 1 {
                    self.connected.insert(peer_id);
                    self.emit(Event::PeerConnected { peer: peer_id });
                    self.sync_on_connect(peer_id);
                    self.chat_photos_connected(peer_id);
                    self.mailbox_connected(peer_id);
                }
                self.drive_outbox(crate::delivery::outbox::Input::Connected(peer_id));
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.discovery_disconnected(connection_id);
                if num_established > 0 {
                    return;
                }
                self.connected.remove(&peer_id);
                self.discovery.last_active.remove(&peer_id);
                self.forget_syncs(&peer_id);
                self.forget_chunk_requests(&peer_id);
                self.emit(Event::PeerDisconnected { peer: peer_id });
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                peer_id,
            } => {
                if let Some(reply) = self.pending_dials.remove(&connection_id) {
                    let message = format!("dial failed: {error}");
                    let _ = reply.send(Err(if timed_out(&error) {
                        Error::DialTimedOut(message)
                    } else {
                        Error::Dial(message)
                    }));
                }
                if let Some(peer) = peer_id {
                    self.discovery_dial_failed(peer, &error.to_string());
                }
                // That dial used other addresses; each waiting caller now dials its own.
                let waiting = peer_id.and_then(|p| self.awaiting_peer.remove(&p));
                for (addr, reply) in waiting.unwrap_or_default() {
                    self.connect(addr, reply);
                }
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                tracing::debug!(from = %send_back_addr, %error, "incoming connection failed");
            }
            SwarmEvent::Behaviour(ev) => self.on_behaviour_event(ev),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        if let Some(peer) = active_peer(&event) {
            self.discovery.last_active.insert(peer, self.now());
        }
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                let acceptance = self.on_gossip(propagation_source, &message);
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { topic, .. }) => {
                if let Some(queue) = self.pending_publish.remove(&topic) {
                    for bytes in queue {
                        if let Err(e) = self
                            .swarm
                            .behaviour_mut()
                            .gossipsub
                            .publish(topic.clone(), bytes)
                        {
                            tracing::debug!(%topic, error = %e, "retried publish failed");
                        }
                    }
                }
            }
            BehaviourEvent::Sync(ev) => self.on_sync_event(ev),
            BehaviourEvent::Blob(ev) => self.on_blob_event(ev),
            BehaviourEvent::Dm(ev) => self.on_dm_event(ev),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.discovery_identified(peer_id, &info);
                // Another host's loopback addresses lead back to this host.
                let listen = crate::reach::dialable_elsewhere(info.listen_addrs.clone());
                let addrs: Vec<String> = listen.iter().map(|a| a.to_string()).collect();
                if let Err(e) = self.store.put_addresses(&peer_id, &addrs) {
                    tracing::warn!(error = %e, "remembering a peer's addresses");
                }
                if info.protocols.contains(&KAD_PROTOCOL) {
                    for addr in listen {
                        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                            kad.add_address(&peer_id, addr);
                        }
                    }
                }
            }
            BehaviourEvent::Mailbox(ev) => self.on_mailbox_event(ev),
            BehaviourEvent::Kad(ev) => self.on_kad(ev),
            BehaviourEvent::RelayClient(ev) => self.on_relay_client(ev),
            BehaviourEvent::RelayServer(ev) => self.on_relay_server(ev),
            BehaviourEvent::Dcutr(ev) => self.on_dcutr(ev),
            BehaviourEvent::AutonatClient(ev) => self.on_autonat(ev),
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&peer, addr.clone());
                    }
                    if !self.connected.contains(&peer) {
                        let _ = self.swarm.dial(addr);
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether `message` is its author republishing the very profile version the node holds
    /// (the periodic republish): forwarded, so that peers who missed the first publication
    /// get it, but not stored or announced again. Anyone else's copy of it, or an older
    /// version, is ignored.
    fn is_held_republish(&self, message: &gossipsub::Message, p: &Signed<Profile>) -> bool {
        message.source == Some(p.body.author)
            && self
                .store
                .profile(&p.body.author)
                .is_ok_and(|held| held.is_some_and(|h| h.id() == p.id()))
    }

    /// `peer` opened more streams than it may hold (see `net::StreamCaps`): it is disconnected,
    /// and refused for a while if it keeps at it.
    pub(super) fn on_too_many_streams(&mut self, peer: PeerId) {
        let banned = self.inbox.too_many_streams(peer, self.now());
        tracing::info!(%peer, banned, "disconnecting a peer that opened too many streams");
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    /// Validates one gossip message; accepted records are stored and announced.
    fn on_gossip(&mut self, from: PeerId, message: &gossipsub::Message) -> MessageAcceptance {
        let outcome = match Topic::parse(message.topic.as_str()) {
            Some(Topic::Profiles) => {
                match decode::<Signed<Profile>>(&message.data, MAX_GOSSIP_BYTES) {
                    Ok(p) => {
                        let outcome = self.ingest().profile(&p);
                        if matches!(outcome, Ok(Outcome::Ignored))
                            && self.is_held_republish(message, &p)
                        {
                            // Nothing new here, but peers beyond us may have missed it.
                            return MessageAcceptance::Accept;
                        }
                        outcome
                    }
                    Err(e) => Ok(Outcome::Rejected(e.to_string())),
                }
            }
            Some(Topic::Feed(author)) => {
                match decode::<FeedMessage>(&message.data, MAX_GOSSIP_BYTES) {
                    Ok(m) => {
                        let outcome = self.ingest().feed(&m, Some(&author));
                        if let (Ok(Outcome::Accepted(_)), FeedMessage::Post(p)) = (&outcome, &m) {
                            self.fetch_photos(&p.body, &[from]);
                        }
                        outcome
                    }
                    Err(e) => Ok(Outcome::Rejected(e.to_string())),
                }
            }
            None => Ok(Outcome::Rejected("not a paperplane topic".into())),
        };
        match outcome {
            Ok(Outcome::Accepted(event)) => {
                self.emit(*event);
                MessageAcceptance::Accept
            }
            Ok(Outcome::Ignored) => MessageAcceptance::Ignore,
            Ok(Outcome::Rejected(reason)) => {
                self.rejected += 1;
                tracing::debug!(%from, topic = %message.topic, %reason, "rejected gossip");
                MessageAcceptance::Reject
            }
            Err(e) => {
                tracing::error!(error = %e, "store failure while ingesting gossip");
                MessageAcceptance::Ignore
            }
        }
    }
}

/// The peer an event shows to be in use: one that asked or answered something, or
/// forwarded a gossip message.
fn active_peer(event: &BehaviourEvent) -> Option<PeerId> {
    use libp2p::request_response::Event as Rr;
    match event {
        BehaviourEvent::Sync(Rr::Message { peer, .. })
        | BehaviourEvent::Dm(Rr::Message { peer, .. })
        | BehaviourEvent::Blob(Rr::Message { peer, .. })
        | BehaviourEvent::Mailbox(Rr::Message { peer, .. }) => Some(*peer),
        BehaviourEvent::Gossipsub(gossipsub::Event::Message {
            propagation_source, ..
        }) => Some(*propagation_source),
        _ => None,
    }
}

/// Whether a dial failed for want of time (the connection timeout) rather than an answer.
fn timed_out(error: &libp2p::swarm::DialError) -> bool {
    let libp2p::swarm::DialError::Transport(attempts) = error else {
        return false;
    };
    !attempts.is_empty()
        && attempts.iter().all(|(_, e)| {
            let mut source: Option<&(dyn std::error::Error + 'static)> = match e {
                libp2p::TransportError::Other(e) => Some(e),
                libp2p::TransportError::MultiaddrNotSupported(_) => None,
            };
            let mut timeout = false;
            while let Some(e) = source {
                let text = e.to_string().to_ascii_lowercase();
                timeout |= text.contains("timeout") || text.contains("timed out");
                if let Some(io) = e.downcast_ref::<std::io::Error>() {
                    timeout |= io.kind() == std::io::ErrorKind::TimedOut;
                }
                source = e.source();
            }
            timeout
        })
}
