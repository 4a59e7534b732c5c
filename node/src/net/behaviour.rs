//! The composed behaviour. The `NetworkBehaviour` derive generates `BehaviourEvent`, one
//! variant per field, without doc comments; hence the allow.
#![allow(missing_docs)]

use libp2p::{
    connection_limits, gossipsub, identify, kad, mdns, ping, request_response,
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
    /// Peer routing beyond the LAN.
    pub kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    /// LAN discovery (off in tests).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
}
