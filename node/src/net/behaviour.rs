//! The composed behaviour. The `NetworkBehaviour` derive generates `BehaviourEvent`, one
//! variant per field, without doc comments; hence the allow.
#![allow(missing_docs)]

use libp2p::{
    autonat, connection_limits, dcutr, gossipsub, identify, kad, mdns, ping, relay,
    request_response,
    swarm::{behaviour::toggle::Toggle, NetworkBehaviour},
};

use super::FrameCodec;

/// Everything the node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Caps on connections.
    pub limits: connection_limits::Behaviour,
    /// Exchanges listen addresses and protocols.
    pub identify: identify::Behaviour,
    /// Liveness.
    pub ping: ping::Behaviour,
    /// Profiles and feeds.
    pub gossipsub: gossipsub::Behaviour,
    /// `/paperplane/sync/1`.
    pub sync: request_response::Behaviour<FrameCodec>,
    /// `/paperplane/dm/1`.
    pub dm: request_response::Behaviour<FrameCodec>,
    /// `/paperplane/blob/1`.
    pub blob: request_response::Behaviour<FrameCodec>,
    /// `/paperplane/mailbox/1`.
    pub mailbox: request_response::Behaviour<FrameCodec>,
    /// Peer routing and address records beyond the LAN.
    pub kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    /// Reservations on relays and connections through them.
    pub relay_client: relay::client::Behaviour,
    /// Relaying for others (`--relay-server`).
    pub relay_server: Toggle<relay::Behaviour>,
    /// Hole punching: a relayed connection upgraded to a direct one.
    pub dcutr: dcutr::Behaviour,
    /// Asks peers to dial our address candidates back: are we publicly reachable?
    pub autonat_client: autonat::v2::client::Behaviour,
    /// Dials other peers' candidates back for them: only on nodes that are public by
    /// configuration (a relay, a DHT server). A node behind a NAT would answer over relayed
    /// connections, where the test's padding stalled the circuit it shares with messages.
    pub autonat_server: Toggle<autonat::v2::server::Behaviour>,
    /// LAN discovery (off in tests).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
}
