//! Caps on the inbound streams a peer can make this node hold, counted under the protocols on
//! every transport: per connection, and per peer across its connections. A stream beyond a cap
//! is reset at once, and the peer is reported (once per connection) on the channel the actor
//! reads, which cuts the peer off. Streams stalled before or during their protocol
//! negotiation, streams no protocol handler has taken yet and streams a handler holds all
//! count.
//!
//! An honest peer holds a few dozen at most: a gossip stream, a few Kademlia, identify and
//! ping streams, and its requests in flight (4 direct-message batches, 3 sync and 3 blob
//! requests), so the caps leave it a wide margin.

use std::{
    collections::{HashMap, VecDeque},
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
    task::{Context, Poll},
};

use futures::{AsyncRead, AsyncWrite};
use libp2p::{
    core::muxing::{StreamMuxer, StreamMuxerBox, StreamMuxerEvent, SubstreamBox},
    PeerId,
};
use tokio::sync::mpsc;

/// Inbound streams one connection may hold open at once.
pub const MAX_INBOUND_STREAMS_PER_CONNECTION: usize = 64;
/// Inbound streams one peer may hold open at once over all its connections (it may have two).
pub const MAX_INBOUND_STREAMS_PER_PEER: usize = 96;
/// Reports of peers over a cap waiting for the actor; beyond it they are dropped (the actor
/// is busy cutting off the ones already reported).
const MAX_PENDING_REPORTS: usize = 64;

/// Every peer's count of open inbound streams, shared by all connections. Cheap to clone.
#[derive(Clone)]
pub struct StreamCaps {
    shared: Arc<Shared>,
}

struct Shared {
    counts: Mutex<Counts>,
    over_cap: mpsc::Sender<PeerId>,
}

#[derive(Default)]
struct Counts {
    per_peer: HashMap<PeerId, usize>,
    total: usize,
}

impl StreamCaps {
    /// New caps, and the channel on which peers that went over a cap are reported.
    pub(crate) fn new() -> (Self, mpsc::Receiver<PeerId>) {
        let (over_cap, reports) = mpsc::channel(MAX_PENDING_REPORTS);
        let shared = Arc::new(Shared {
            counts: Mutex::new(Counts::default()),
            over_cap,
        });
        (Self { shared }, reports)
    }

    /// Inbound streams held open now, all peers together.
    pub fn held(&self) -> usize {
        self.shared.counts().total
    }

    /// Inbound streams `peer` holds open now.
    pub fn held_by(&self, peer: &PeerId) -> usize {
        self.shared
            .counts()
            .per_peer
            .get(peer)
            .copied()
            .unwrap_or(0)
    }

    /// Wraps the muxer of a new connection to `peer`.
    pub(crate) fn wrap(&self, peer: PeerId, muxer: StreamMuxerBox) -> CappedMuxer {
        CappedMuxer {
            inner: muxer,
            peer,
            caps: self.clone(),
            on_connection: Arc::new(AtomicUsize::new(0)),
            admitted: VecDeque::new(),
            reported: false,
        }
    }

    /// Takes a slot for a new inbound stream of `peer` on a connection holding
    /// `on_connection`, or `None` if either cap is reached.
    fn admit(&self, peer: PeerId, on_connection: &Arc<AtomicUsize>) -> Option<Slot> {
        let mut counts = self.shared.counts();
        let by_peer = counts.per_peer.get(&peer).copied().unwrap_or(0);
        if on_connection.load(Ordering::Relaxed) >= MAX_INBOUND_STREAMS_PER_CONNECTION
            || by_peer >= MAX_INBOUND_STREAMS_PER_PEER
        {
            return None;
        }
        on_connection.fetch_add(1, Ordering::Relaxed);
        counts.per_peer.insert(peer, by_peer + 1);
        counts.total += 1;
        Some(Slot {
            shared: self.shared.clone(),
            peer,
            on_connection: on_connection.clone(),
        })
    }
}

impl std::fmt::Debug for StreamCaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamCaps")
            .field("held", &self.held())
            .finish()
    }
}

impl Shared {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        lock(&self.counts)
    }
}

/// Locks `m`; the counts stay usable even if a thread panicked while holding them.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One open inbound stream's place in the counts, given back when the stream is dropped.
struct Slot {
    shared: Arc<Shared>,
    peer: PeerId,
    on_connection: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.shared.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_peer.get_mut(&self.peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_peer.remove(&self.peer);
            }
        }
        self.on_connection.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's muxer that counts its inbound streams against the caps. It takes every
/// stream the peer opens as soon as the connection is polled, not only when the swarm asks
/// for one, so that none waits uncounted.
pub(crate) struct CappedMuxer {
    inner: StreamMuxerBox,
    peer: PeerId,
    caps: StreamCaps,
    on_connection: Arc<AtomicUsize>,
    /// Admitted streams the swarm has not asked for yet.
    admitted: VecDeque<CappedStream>,
    reported: bool,
}

impl CappedMuxer {
    /// Takes every inbound stream the peer has opened: admits it, or resets it if a cap is
    /// reached (and reports the peer, once).
    fn take_inbound(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        while let Poll::Ready(stream) = Pin::new(&mut self.inner).poll_inbound(cx) {
            let stream = stream?;
            if let Some(slot) = self.caps.admit(self.peer, &self.on_connection) {
                self.admitted.push_back(CappedStream {
                    inner: stream,
                    _slot: Some(slot),
                });
                continue;
            }
            // Dropping it resets it.
            drop(stream);
            if !self.reported {
                self.reported = true;
                tracing::info!(peer = %self.peer, "a peer opened more streams than allowed");
                if self.caps.shared.over_cap.try_send(self.peer).is_err() {
                    tracing::debug!(peer = %self.peer, "too many reports waiting; dropped one");
                }
            }
        }
        Ok(())
    }
}

impl StreamMuxer for CappedMuxer {
    type Substream = CappedStream;
    type Error = io::Error;

    fn poll_inbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let this = self.get_mut();
        this.take_inbound(cx)?;
        match this.admitted.pop_front() {
            Some(stream) => Poll::Ready(Ok(stream)),
            None => Poll::Pending,
        }
    }

    fn poll_outbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_outbound(cx)
            .map_ok(CappedStream::outbound)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        let this = self.get_mut();
        this.take_inbound(cx)?;
        Pin::new(&mut this.inner).poll(cx)
    }
}

/// A stream of a [`CappedMuxer`]; an inbound one holds its slot until dropped.
pub(crate) struct CappedStream {
    inner: SubstreamBox,
    _slot: Option<Slot>,
}

impl CappedStream {
    fn outbound(inner: SubstreamBox) -> Self {
        Self { inner, _slot: None }
    }
}

impl AsyncRead for CappedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read_vectored(cx, bufs)
    }
}

impl AsyncWrite for CappedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures::{io::Cursor, FutureExt};
    use libp2p::core::muxing::StreamMuxerExt;

    use super::*;

    /// A muxer whose peer opens `n` streams at once.
    struct Opened(VecDeque<SubstreamBox>);

    impl Opened {
        fn muxer(n: usize) -> StreamMuxerBox {
            StreamMuxerBox::new(Self(
                (0..n)
                    .map(|_| SubstreamBox::new(Cursor::new(Vec::new())))
                    .collect(),
            ))
        }
    }

    impl StreamMuxer for Opened {
        type Substream = SubstreamBox;
        type Error = io::Error;

        fn poll_inbound(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Result<SubstreamBox, io::Error>> {
            match self.get_mut().0.pop_front() {
                Some(s) => Poll::Ready(Ok(s)),
                None => Poll::Pending,
            }
        }

        fn poll_outbound(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Result<SubstreamBox, io::Error>> {
            Poll::Ready(Ok(SubstreamBox::new(Cursor::new(Vec::new()))))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<StreamMuxerEvent>> {
            Poll::Pending
        }
    }

    fn peer(n: u8) -> PeerId {
        paperplane_crypto::Identity::from_seed([n; 32]).peer_id()
    }

    /// Every stream the muxer hands out now.
    fn accept_all(m: &mut CappedMuxer) -> Vec<CappedStream> {
        let mut v = Vec::new();
        while let Some(s) = futures::future::poll_fn(|cx| m.poll_inbound_unpin(cx)).now_or_never() {
            v.push(s.expect("stream"));
        }
        v
    }

    #[test]
    fn a_connection_holds_at_most_its_cap_and_the_peer_is_reported_once() {
        let (caps, mut reports) = StreamCaps::new();
        let p = peer(1);
        let mut conn = caps.wrap(p, Opened::muxer(MAX_INBOUND_STREAMS_PER_CONNECTION + 10));
        let mut held = accept_all(&mut conn);
        assert_eq!(held.len(), MAX_INBOUND_STREAMS_PER_CONNECTION);
        assert_eq!(caps.held(), MAX_INBOUND_STREAMS_PER_CONNECTION);
        assert_eq!(caps.held_by(&p), MAX_INBOUND_STREAMS_PER_CONNECTION);
        assert_eq!(reports.try_recv().ok(), Some(p));
        assert!(reports.try_recv().is_err(), "one report per connection");

        // Outbound streams do not count; a closed inbound one frees its slot.
        let _out = futures::future::poll_fn(|cx| conn.poll_outbound_unpin(cx))
            .now_or_never()
            .expect("ready")
            .expect("stream");
        assert_eq!(caps.held(), MAX_INBOUND_STREAMS_PER_CONNECTION);
        held.truncate(10);
        assert_eq!(caps.held(), 10);
        drop(held);
        assert_eq!(caps.held(), 0);
        assert_eq!(caps.held_by(&p), 0);
    }

    #[test]
    fn a_peer_holds_at_most_its_cap_over_all_its_connections() {
        let (caps, mut reports) = StreamCaps::new();
        let p = peer(1);
        let mut first = caps.wrap(p, Opened::muxer(MAX_INBOUND_STREAMS_PER_CONNECTION));
        let mut second = caps.wrap(p, Opened::muxer(MAX_INBOUND_STREAMS_PER_CONNECTION));
        let a = accept_all(&mut first);
        let b = accept_all(&mut second);
        assert_eq!(a.len() + b.len(), MAX_INBOUND_STREAMS_PER_PEER);
        assert_eq!(caps.held_by(&p), MAX_INBOUND_STREAMS_PER_PEER);
        assert_eq!(reports.try_recv().ok(), Some(p));

        // Another peer has its own.
        let q = peer(2);
        let mut other = caps.wrap(q, Opened::muxer(3));
        let c = accept_all(&mut other);
        assert_eq!(c.len(), 3);
        assert_eq!(caps.held(), MAX_INBOUND_STREAMS_PER_PEER + 3);
        drop((a, b, c));
        assert_eq!(caps.held(), 0);
    }
}
