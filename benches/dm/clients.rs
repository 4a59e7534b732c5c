//! Many conversations at once without many nodes: light clients, each a bare libp2p peer
//! with its own identity and end-to-end session, sending sealed messages to the receiver
//! over `/paperplane/dm/1` exactly as a node's outbox does, but keeping no store of their
//! own. They are a load generator for the receiver, which is the full node under test
//! (like `wrk` for a web server): a thousand full nodes in one process would measure the
//! process, not the receiver.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use futures::StreamExt;
use libp2p::{
    noise,
    request_response::{self, ProtocolSupport},
    swarm::SwarmEvent,
    tcp, yamux, Multiaddr, SwarmBuilder,
};
use paperplane::{
    net::dm_behaviour,
    protocol::{
        decode, dm::MAX_DM_RESPONSE_BYTES, encode, DirectMessage, DmRequest, DmResponse, DmResult,
        MessageBody, MessageId, MessagingKeys, SealedEnvelope,
    },
    PeerId,
};
use paperplane_crypto::{Conversation, Identity, MessagingIdentity};
use tokio::time::Instant;

/// Envelopes per request a client sends, one request in flight at a time.
const BATCH: usize = 4;

/// What the clients did together.
pub(crate) struct Totals {
    /// Messages acknowledged as stored.
    pub stored: u64,
    /// Messages refused or in requests that failed.
    pub failed: u64,
    /// From the first request to the last acknowledgement.
    pub elapsed: Duration,
}

/// A light client's identity, ready to run.
pub(crate) struct Client {
    identity: Identity,
    messaging: MessagingIdentity,
}

impl Client {
    /// A client with fresh keys.
    pub(crate) fn new() -> Self {
        let identity = Identity::from_seed(rand::random());
        let messaging = MessagingIdentity::from_secret_bytes(&identity, rand::random());
        Self {
            identity,
            messaging,
        }
    }

    /// The client's user id.
    pub(crate) fn peer_id(&self) -> PeerId {
        self.identity.peer_id()
    }
}

/// Runs every client against `receiver` at `addr` (whose published keys are `keys`) for
/// `secs`, each with one request of [`BATCH`] messages in flight.
pub(crate) async fn run(
    clients: Vec<Client>,
    receiver: PeerId,
    addr: Multiaddr,
    keys: MessagingKeys,
    secs: u64,
) -> Totals {
    let stored = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop_at = start + Duration::from_secs(secs);
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let (stored, failed, keys, addr) =
                (stored.clone(), failed.clone(), keys.clone(), addr.clone());
            tokio::spawn(async move {
                client
                    .send_until(receiver, addr, &keys, stop_at, &stored, &failed)
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
    Totals {
        stored: stored.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    }
}

impl Client {
    async fn send_until(
        self,
        receiver: PeerId,
        addr: Multiaddr,
        keys: &MessagingKeys,
        stop_at: Instant,
        stored: &AtomicU64,
        failed: &AtomicU64,
    ) {
        let mut swarm = SwarmBuilder::with_existing_identity(self.identity.libp2p_keypair())
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .expect("tcp")
            .with_behaviour(|_| dm_behaviour(ProtocolSupport::Outbound))
            .expect("behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        swarm.add_peer_address(receiver, addr.clone());
        let now = paperplane_now();
        let mut conv = Conversation::new(receiver)
            .start(&mut rand::rng(), &self.messaging, keys, now)
            .expect("session from the receiver's keys");
        let mut sent_at = now;
        let mut n = 0u64;
        while Instant::now() < stop_at {
            let envelopes: Vec<SealedEnvelope> = {
                let mut rng = rand::rng(); // not `Send`: gone before the next await
                (0..BATCH)
                    .map(|_| {
                        sent_at += 1;
                        n += 1;
                        let message = DirectMessage {
                            id: MessageId(rand::random()),
                            sent_at,
                            body: MessageBody::Text(format!("light {n}")),
                        };
                        let (next, envelope) = conv
                            .encrypt(&mut rng, &message.to_plaintext())
                            .expect("encrypt");
                        conv = next;
                        SealedEnvelope {
                            recipient: receiver,
                            id: message.id,
                            payload: envelope.to_bytes(),
                        }
                    })
                    .collect()
            };
            let request = encode(&DmRequest { envelopes });
            // Like a node's outbox: a failed attempt (the receiver admits 64 handshakes at
            // a time) is retried with the same bytes after a pause.
            let mut attempts = 0;
            swarm
                .behaviour_mut()
                .send_request(&receiver, request.clone());
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::Behaviour(request_response::Event::Message {
                        message: request_response::Message::Response { response, .. },
                        ..
                    }) => {
                        let response: DmResponse =
                            decode(&response, MAX_DM_RESPONSE_BYTES).expect("response");
                        let ok = response
                            .results
                            .iter()
                            .filter(|r| **r == DmResult::Stored)
                            .count() as u64;
                        stored.fetch_add(ok, Ordering::Relaxed);
                        failed.fetch_add(BATCH as u64 - ok, Ordering::Relaxed);
                        if let Some(r) = response.results.iter().find(|r| **r != DmResult::Stored) {
                            eprintln!("a light client's message was refused: {r:?}");
                        }
                        break;
                    }
                    SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                        error,
                        ..
                    }) => {
                        attempts += 1;
                        if Instant::now() > stop_at + Duration::from_secs(30) {
                            eprintln!("a light client gave up: {error}");
                            failed.fetch_add(BATCH as u64, Ordering::Relaxed);
                            return;
                        }
                        let backoff = 20 * (1u64 << attempts.min(5));
                        let pause =
                            Duration::from_millis(backoff + rand::random::<u64>() % backoff);
                        tokio::time::sleep(pause).await;
                        // A failed dial forgets the address.
                        swarm.add_peer_address(receiver, addr.clone());
                        swarm
                            .behaviour_mut()
                            .send_request(&receiver, request.clone());
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Unix time in ms, as the node stamps messages.
fn paperplane_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
