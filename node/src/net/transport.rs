//! The transports: TCP with Noise and Yamux (`V1Lazy` negotiation), QUIC, and circuits
//! through relays (relay v2, Noise and Yamux over the relayed stream). Each connection's
//! muxer counts the peer's inbound streams against [`StreamCaps`].

use std::error::Error;

use libp2p::{
    core::{muxing::StreamMuxerBox, transport::Boxed, upgrade::Version},
    identity::Keypair,
    noise, quic, relay, tcp, yamux, PeerId, Transport,
};

use super::stream_caps::{CappedMuxer, StreamCaps};

/// TCP, QUIC and relayed circuits (`relayed`, from `relay::client::new`) for `key`, with
/// `caps` on every connection.
pub(crate) fn build(
    key: &Keypair,
    caps: &StreamCaps,
    relayed: relay::client::Transport,
) -> Result<Boxed<(PeerId, CappedMuxer)>, Box<dyn Error + Send + Sync>> {
    let tcp_caps = caps.clone();
    let tcp = tcp::tokio::Transport::new(tcp::Config::default())
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(key)?)
        .multiplex(yamux::Config::default())
        .map(move |(peer, muxer), _| (peer, tcp_caps.wrap(peer, StreamMuxerBox::new(muxer))));
    let quic_caps = caps.clone();
    let quic = quic::tokio::Transport::new(quic::Config::new(key))
        .map(move |(peer, conn), _| (peer, quic_caps.wrap(peer, StreamMuxerBox::new(conn))));
    let relay_caps = caps.clone();
    let relayed = relayed
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(key)?)
        .multiplex(yamux::Config::default())
        .map(move |(peer, muxer), _| (peer, relay_caps.wrap(peer, StreamMuxerBox::new(muxer))));
    Ok(tcp
        .or_transport(quic)
        .map(|either, _| either.into_inner())
        .or_transport(relayed)
        .map(|either, _| either.into_inner())
        .boxed())
}
