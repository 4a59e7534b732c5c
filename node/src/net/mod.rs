//! The libp2p side: the composed `NetworkBehaviour` and the swarm built from it.
//!
//! TCP+Noise+Yamux, QUIC and relayed circuits; identify, ping, gossipsub (strict signing,
//! every message validated by the actor before it is forwarded, peer scoring so rejected
//! senders lose score), request-response for `/paperplane/sync/1`, `/paperplane/dm/1`,
//! `/paperplane/blob/1` and `/paperplane/mailbox/1`, Kademlia on `/paperplane/kad/1` (records
//! validated by the actor before they are stored), relay v2 (client always, server on
//! request), DCUtR hole punching, AutoNAT v2 (client and server), optional mDNS, and
//! connection limits. Nothing here limits or scores peers by IP address: every peer reached
//! through a relay arrives from the relay's address, and many honest peers share one.
//!
//! What a peer can make the node hold is bounded: inbound streams per connection and per peer
//! (`stream_caps`, under the protocols, on both transports), the time to name a stream's
//! protocol (`negotiation`) and the pace at which a request must arrive (`pace`, read by the
//! codec).

mod behaviour;
pub mod codec;
mod negotiation;
mod pace;
mod stream_caps;
mod transport;

pub use behaviour::{Behaviour, BehaviourEvent};
pub use negotiation::{ShortNegotiation, NEGOTIATION_TIMEOUT};
pub use pace::{FRAME_GRACE, MIN_FRAME_RATE};
pub use stream_caps::{
    StreamCaps, MAX_INBOUND_STREAMS_PER_CONNECTION, MAX_INBOUND_STREAMS_PER_PEER,
};

use std::time::Duration;

use libp2p::{
    autonat, connection_limits, dcutr, gossipsub, identify,
    identity::Keypair,
    kad, mdns, ping, relay,
    request_response::{self, ProtocolSupport},
    swarm::behaviour::toggle::Toggle,
    StreamProtocol, Swarm, SwarmBuilder,
};
use paperplane_protocol::{dm, limits, PeerId};
use tokio::sync::mpsc;

pub use codec::FrameCodec;

/// How long a request-response exchange may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Most connections a node holds at once: enough for a business answering a thousand
/// customers' chats at the same time.
pub const MAX_CONNECTIONS: u32 = 1024;
/// Identify protocol name.
pub const IDENTIFY_PROTOCOL: &str = "/paperplane/id/1";
/// Kademlia protocol name.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/paperplane/kad/1");
/// Catch-up protocol name.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/paperplane/sync/1");
/// Direct-message protocol name.
pub const DM_PROTOCOL: StreamProtocol = StreamProtocol::new("/paperplane/dm/1");
/// Media protocol name.
pub const BLOB_PROTOCOL: StreamProtocol = StreamProtocol::new("/paperplane/blob/1");
/// Store-and-forward protocol name.
pub const MAILBOX_PROTOCOL: StreamProtocol = StreamProtocol::new("/paperplane/mailbox/1");
/// Concurrent `/paperplane/mailbox/1` streams per connection, both directions together.
pub const MAX_MAILBOX_STREAMS: usize = 4;
/// How long a dial may take to a connection (TCP or QUIC, the handshake, through a relay
/// too). Below AutoNAT v2's 10-second probe, so that a dial-back the NAT swallows is
/// answered as failed and a node behind it learns it is private.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(6);
/// How long a DHT query (a lookup, a record put) may take.
pub const DHT_QUERY_TIMEOUT: Duration = Duration::from_secs(20);
/// Gossipsub's per-RPC limit: the largest record plus room for the signed envelope. Every node
/// version must use this or a larger value (a smaller receiver drops the whole stream).
pub const GOSSIP_MAX_TRANSMIT: usize = limits::MAX_GOSSIP_BYTES + 16 * 1024;

/// Errors building the swarm.
#[derive(Debug, thiserror::Error)]
#[error("could not build the network stack: {0}")]
pub struct BuildError(String);

/// Gossip topic scoring: one steep penalty and nothing else. An invalid message (a forged,
/// misplaced or malformed record) weighs −100, below [`peer_score_thresholds`]' graylist
/// threshold (−80), so a forger is graylisted at its first invalid record. No delivery-rate
/// penalties (feeds are quiet) and no rewards: a reward for time in the mesh or first
/// deliveries would let a peer bank score and then forge without being graylisted.
pub fn topic_score_params() -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -100.0,
        invalid_message_deliveries_decay: 0.9,
        ..Default::default()
    }
}

/// Peer scoring across topics: no penalty for sharing an IP address. Many honest peers share
/// one — behind one office or carrier-grade NAT, on one host, or reached through one relay —
/// and with gossipsub's default (−5 per peer beyond ten, squared) fifty daemons on one host
/// graylisted each other and no post got through. A Sybil gains nothing here that the
/// invalid-message penalty does not take away: every record is signed and validated before
/// it is forwarded.
pub fn peer_score_params() -> gossipsub::PeerScoreParams {
    gossipsub::PeerScoreParams {
        ip_colocation_factor_weight: 0.0,
        ..Default::default()
    }
}

/// Score thresholds: gossipsub's defaults (gossip −10, publish −50, graylist −80). An honest
/// peer scores 0 (see [`topic_score_params`] and [`peer_score_params`]), above all of them;
/// only gossipsub's behaviour penalties (a GRAFT during a backoff, an IWANT left unanswered)
/// can take it below for a few seconds, as they shrink to a fifth every second.
pub fn peer_score_thresholds() -> gossipsub::PeerScoreThresholds {
    gossipsub::PeerScoreThresholds::default()
}

/// A gossip message's id: SHA-256 of the publisher, the publication's sequence number and
/// the data. The copies of one publication that arrive from several peers are one message;
/// publishing the same record again (the periodic profile republish) is a new one, which
/// gossipsub's duplicate cache would otherwise swallow. The sequence number is signed with the
/// message and gossipsub starts it at the publication time in nanoseconds, so a publisher
/// never repeats one; a replayed old record still loses to the newer version in the store.
pub fn gossip_message_id(m: &gossipsub::Message) -> gossipsub::MessageId {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    if let Some(source) = &m.source {
        h.update(source.to_bytes());
    }
    h.update(m.sequence_number.unwrap_or(0).to_be_bytes());
    h.update(&m.data);
    gossipsub::MessageId::from(h.finalize().to_vec())
}

/// Concurrent `/paperplane/dm/1` streams per connection: a sender keeps at most four
/// requests in flight per peer, so more only serve someone flooding the node.
pub const MAX_DM_STREAMS: usize = 16;

/// Concurrent `/paperplane/sync/1` streams per connection, the node's own requests and the
/// peer's together (libp2p fails the ones beyond it). Each answer the peer has not read yet
/// holds up to 4 MiB here, so a peer that keeps asking and never reads pins at most 32 MiB per
/// connection. A node keeps at most [`MAX_REQUESTS_IN_FLIGHT`] of its own requests in flight
/// per peer, which leaves room for the peer's.
pub const MAX_SYNC_STREAMS: usize = 8;
/// Concurrent `/paperplane/blob/1` streams per connection, both directions together, for the
/// same reason as [`MAX_SYNC_STREAMS`]: at most 8 chunks (2 MiB) wait for a slow reader.
pub const MAX_BLOB_STREAMS: usize = 8;
/// Sync or blob requests a node keeps in flight to one peer (the others wait their turn):
/// under half of [`MAX_SYNC_STREAMS`] and [`MAX_BLOB_STREAMS`], so two nodes catching up from
/// each other at once stay within both bounds.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 3;

/// The `/paperplane/sync/1` behaviour with its frame and stream limits.
pub fn sync_behaviour(support: ProtocolSupport) -> request_response::Behaviour<FrameCodec> {
    request_response::Behaviour::with_codec(
        FrameCodec::new(
            limits::MAX_SYNC_REQUEST_BYTES,
            limits::MAX_SYNC_RESPONSE_BYTES,
        ),
        [(SYNC_PROTOCOL, support)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(MAX_SYNC_STREAMS),
    )
}

/// The `/paperplane/blob/1` behaviour with its frame and stream limits.
pub fn blob_behaviour(support: ProtocolSupport) -> request_response::Behaviour<FrameCodec> {
    request_response::Behaviour::with_codec(
        FrameCodec::new(
            limits::MAX_BLOB_REQUEST_BYTES,
            limits::MAX_BLOB_RESPONSE_BYTES,
        ),
        [(BLOB_PROTOCOL, support)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(MAX_BLOB_STREAMS),
    )
}

/// The `/paperplane/dm/1` behaviour with its frame limits. A node speaks both sides
/// ([`ProtocolSupport::Full`]); a tool or test that only sends, [`ProtocolSupport::Outbound`].
pub fn dm_behaviour(support: ProtocolSupport) -> request_response::Behaviour<FrameCodec> {
    request_response::Behaviour::with_codec(
        FrameCodec::new(dm::MAX_DM_REQUEST_BYTES, dm::MAX_DM_RESPONSE_BYTES),
        [(DM_PROTOCOL, support)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(MAX_DM_STREAMS),
    )
}

/// The `/paperplane/mailbox/1` behaviour with its frame and stream limits.
pub fn mailbox_behaviour(support: ProtocolSupport) -> request_response::Behaviour<FrameCodec> {
    use paperplane_protocol::mailbox::{MAX_MAILBOX_REQUEST_BYTES, MAX_MAILBOX_RESPONSE_BYTES};
    request_response::Behaviour::with_codec(
        FrameCodec::new(MAX_MAILBOX_REQUEST_BYTES, MAX_MAILBOX_RESPONSE_BYTES),
        [(MAILBOX_PROTOCOL, support)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(MAX_MAILBOX_STREAMS),
    )
}

/// What a relay server (`--relay-server`) grants: generous enough that a chat over a relay
/// works for a long conversation, bounded so that one relay serves many. Rate limits are per
/// peer only, never per IP address (see the module docs).
pub fn relay_server_config() -> relay::Config {
    use std::num::NonZeroU32;
    let limit = |n: u32| NonZeroU32::new(n).expect("a limit above zero");
    relay::Config {
        max_reservations: 1024,
        max_reservations_per_peer: 4,
        reservation_duration: Duration::from_secs(60 * 60),
        reservation_rate_limiters: Vec::new(),
        max_circuits: 256,
        max_circuits_per_peer: 16,
        max_circuit_duration: Duration::from_secs(60 * 60),
        max_circuit_bytes: 64 << 20,
        circuit_src_rate_limiters: Vec::new(),
    }
    .reservation_rate_per_peer(limit(20), Duration::from_secs(30))
    .circuit_src_per_peer(limit(120), Duration::from_secs(1))
}

/// How the network stack is put together (from [`crate::config::NodeConfig`]).
#[derive(Clone, Copy, Debug)]
pub struct NetOptions {
    /// LAN discovery by mDNS.
    pub mdns: bool,
    /// Kademlia at all.
    pub kademlia: bool,
    /// Kademlia server mode: `Some(true)` always, `Some(false)` never, `None` while AutoNAT
    /// finds the node publicly reachable (the actor switches it).
    pub dht_server: Option<bool>,
    /// Relay for others.
    pub relay_server: bool,
}

/// The behaviour the swarm runs: [`Behaviour`], whose inbound streams must name their
/// protocol within [`NEGOTIATION_TIMEOUT`].
pub type NodeBehaviour = ShortNegotiation<Behaviour>;

/// The swarm, with the stream counts of its connections.
pub struct Network {
    /// The swarm.
    pub swarm: Swarm<NodeBehaviour>,
    /// The inbound streams each peer holds open.
    pub streams: StreamCaps,
    /// Peers that opened more streams than [`StreamCaps`] allow, once per connection.
    pub over_cap: mpsc::Receiver<PeerId>,
}

/// Builds the swarm for `keypair`.
pub fn build_swarm(keypair: Keypair, options: NetOptions) -> Result<Network, BuildError> {
    let err = |e: &dyn std::fmt::Display| BuildError(e.to_string());
    let (streams, over_cap) = StreamCaps::new();
    let (relayed, relay_client) = relay::client::new(keypair.public().to_peer_id());
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(|key| transport::build(key, &streams, relayed))
        .map_err(|e| err(&e))?
        .with_behaviour(|key| {
            let peer_id = key.public().to_peer_id();
            let gossip_cfg = gossipsub::ConfigBuilder::default()
                .validation_mode(gossipsub::ValidationMode::Strict)
                .validate_messages()
                .max_transmit_size(GOSSIP_MAX_TRANSMIT)
                .message_id_fn(gossip_message_id)
                .build()?;
            let mut gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossip_cfg,
            )?;
            gossipsub.with_peer_score(peer_score_params(), peer_score_thresholds())?;
            let sync = sync_behaviour(ProtocolSupport::Full);
            let dm = dm_behaviour(ProtocolSupport::Full);
            let blob = blob_behaviour(ProtocolSupport::Full);
            let mailbox = mailbox_behaviour(ProtocolSupport::Full);
            let mut kad_config = kad::Config::new(KAD_PROTOCOL);
            // Records are validated by the actor before it stores them.
            kad_config
                .set_record_filtering(kad::StoreInserts::FilterBoth)
                .set_query_timeout(DHT_QUERY_TIMEOUT);
            let mut kad = kad::Behaviour::with_config(
                peer_id,
                kad::store::MemoryStore::new(peer_id),
                kad_config,
            );
            // Without a configured mode, a client until AutoNAT says the node is public
            // (the actor switches it then).
            kad.set_mode(Some(match options.dht_server {
                Some(true) => kad::Mode::Server,
                Some(false) | None => kad::Mode::Client,
            }));
            let kad = options.kademlia.then_some(kad);
            let relay_server = options.relay_server.then(|| {
                let mut relay = relay::Behaviour::new(peer_id, relay_server_config());
                // The operator asked for it: serve without waiting for AutoNAT.
                relay.set_status(Some(relay::Status::Enable));
                relay
            });
            let mdns = if options.mdns {
                Some(mdns::tokio::Behaviour::new(
                    mdns::Config::default(),
                    peer_id,
                )?)
            } else {
                None
            };
            Ok(ShortNegotiation::new(Behaviour {
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_established_per_peer(Some(2))
                        .with_max_established(Some(MAX_CONNECTIONS))
                        .with_max_pending_incoming(Some(64)),
                ),
                identify: identify::Behaviour::new(identify::Config::new(
                    IDENTIFY_PROTOCOL.into(),
                    key.public(),
                )),
                ping: ping::Behaviour::new(ping::Config::new()),
                gossipsub,
                sync,
                dm,
                blob,
                mailbox,
                kad: Toggle::from(kad),
                relay_client,
                relay_server: Toggle::from(relay_server),
                dcutr: dcutr::Behaviour::new(peer_id),
                autonat_client: autonat::v2::client::Behaviour::default(),
                autonat_server: Toggle::from(
                    (options.relay_server || options.dht_server == Some(true))
                        .then(autonat::v2::server::Behaviour::default),
                ),
                mdns: Toggle::from(mdns),
            }))
        })
        .map_err(|e| err(&e))?
        .with_swarm_config(|c| {
            c.with_idle_connection_timeout(Duration::from_secs(60))
                // A request's bytes follow the protocol proposal at once instead of waiting
                // a round trip for the listener's confirmation (same wire protocol).
                .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
        })
        .with_connection_timeout(CONNECTION_TIMEOUT)
        .build();
    Ok(Network {
        swarm,
        streams,
        over_cap,
    })
}
