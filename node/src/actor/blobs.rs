//! `/paperplane/blob/1`: serving chunks from the store (within each peer's budget), and
//! fetching a blob chunk by chunk from one peer after another until one delivers bytes
//! matching the hash, with a few chunk requests in flight per blob (and per peer).

use std::collections::{HashMap, VecDeque};

use libp2p::request_response::{self, Message, OutboundRequestId};
use paperplane_protocol::{
    decode, encode,
    limits::{BLOB_CHUNK_BYTES, MAX_BLOB_REQUEST_BYTES, MAX_BLOB_RESPONSE_BYTES},
    BlobHash, BlobRequest, BlobResponse, PeerId, Post,
};
use tokio::sync::oneshot;

use super::{
    blob_fetch::{Admit, Assembly, Expect, FetchQueue, Step},
    slots::{Offer, Slots},
    Actor,
};
use crate::{
    error::{Error, Result},
    net::MAX_REQUESTS_IN_FLIGHT,
    serving::Service,
};

/// Most chunk requests waiting for a slot per peer (each fetch waits with at most
/// [`CHUNKS_IN_FLIGHT`](super::blob_fetch::CHUNKS_IN_FLIGHT) of them).
const MAX_WAITING_CHUNKS: usize = 1024;
/// Blobs assembled at once. Each holds up to a whole photo (8 MiB) in memory until it is
/// complete, so this bounds fetching to 32 MiB however many posts arrive at once.
const MAX_ACTIVE_FETCHES: usize = 4;
/// Blobs waiting for one of the [`MAX_ACTIVE_FETCHES`] places (a hash and a few peers each);
/// beyond it a fetch is refused, and the photo is fetched when someone asks for it.
const MAX_QUEUED_FETCHES: usize = 4096;

/// One chunk request: the blob, the attempt it belongs to, and where the chunk starts.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    hash: BlobHash,
    attempt: u64,
    offset: u64,
}

/// The node's own chunk requests: which chunk each one in flight is for, the chunk requests
/// waiting for one of the few slots each peer has, and the blobs waiting for their turn.
pub(super) struct Requests {
    in_flight: HashMap<OutboundRequestId, Chunk>,
    slots: Slots<Chunk>,
    queue: FetchQueue<Queued>,
    /// The number of the next attempt (a fetch from one peer); answers to an attempt that
    /// ended are ignored.
    next_attempt: u64,
}

impl Default for Requests {
    fn default() -> Self {
        Self {
            in_flight: HashMap::new(),
            slots: Slots::new(MAX_REQUESTS_IN_FLIGHT, MAX_WAITING_CHUNKS),
            queue: FetchQueue::new(MAX_ACTIVE_FETCHES, MAX_QUEUED_FETCHES),
            next_attempt: 0,
        }
    }
}

/// How a fetch ended.
enum Ending {
    Stored,
    /// No peer delivered it.
    Unavailable,
    StoreFailed(crate::store::StoreError),
}

/// A blob waiting to be fetched.
struct Queued {
    preferred: Vec<PeerId>,
    expect: Expect,
    waiters: Vec<oneshot::Sender<Result<()>>>,
}

/// A blob being fetched.
pub(super) struct Fetch {
    assembly: Assembly,
    /// Peers still to try, in order.
    candidates: VecDeque<PeerId>,
    /// The peer being asked now.
    current: PeerId,
    /// This attempt's number: chunk requests of earlier attempts no longer count.
    attempt: u64,
    waiters: Vec<oneshot::Sender<Result<()>>>,
}

impl Actor {
    /// Fetches the photos of a post we do not hold yet, asking `from` and the author first.
    pub(super) fn fetch_photos(&mut self, post: &Post, from: &[PeerId]) {
        let mut preferred = from.to_vec();
        preferred.push(post.author);
        for photo in &post.photos {
            if !self.store.has_blob(&photo.hash).unwrap_or(false) {
                self.fetch_blob(photo.hash, preferred.clone(), None);
            }
        }
    }

    /// Starts (or joins) fetching `hash`; `reply` is answered when it is stored or no peer
    /// could deliver it.
    pub(super) fn fetch_blob(
        &mut self,
        hash: BlobHash,
        preferred: Vec<PeerId>,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) {
        if self.store.has_blob(&hash).unwrap_or(false) {
            if let Some(r) = reply {
                let _ = r.send(Ok(()));
            }
            return;
        }
        if let Some(f) = self.fetches.get_mut(&hash) {
            f.waiters.extend(reply);
            return;
        }
        let waiter = Queued {
            preferred,
            expect: Expect::Image,
            waiters: reply.into_iter().collect(),
        };
        self.admit_fetch(hash, waiter);
    }

    /// Starts fetching the sealed chat photo `hash` of `size` bytes from its sender `from`
    /// alone (nobody else has it). How it ends goes to the chat photos' code.
    pub(super) fn fetch_sealed(&mut self, hash: BlobHash, size: u64, from: PeerId) {
        if self.fetches.contains_key(&hash) {
            return;
        }
        let waiter = Queued {
            preferred: vec![from],
            expect: Expect::Sealed(size),
            waiters: Vec::new(),
        };
        self.admit_fetch(hash, waiter);
    }

    fn admit_fetch(&mut self, hash: BlobHash, waiter: Queued) {
        match self.blob_requests.queue.admit(hash, waiter) {
            Admit::Start(w) => self.start_fetch(hash, w),
            Admit::Queued => {}
            Admit::Joined(w) => {
                if let Some(q) = self.blob_requests.queue.waiting_mut(&hash) {
                    q.waiters.extend(w.waiters);
                }
            }
            Admit::Full(w) => {
                tracing::debug!(%hash, "too many photos waiting to be fetched");
                for r in w.waiters {
                    let _ = r.send(Err(Error::PhotoUnavailable(hash.to_hex())));
                }
                if matches!(w.expect, Expect::Sealed(_)) {
                    self.sealed_unavailable(hash);
                }
            }
        }
    }

    /// Starts fetching `hash` (a place among [`MAX_ACTIVE_FETCHES`] is free).
    /// A sealed blob is asked of its sender only; an image of anyone connected.
    fn start_fetch(&mut self, hash: BlobHash, queued: Queued) {
        let Queued {
            preferred,
            expect,
            waiters,
        } = queued;
        let others = match expect {
            Expect::Image => self.connected.iter().copied().collect(),
            Expect::Sealed(_) => Vec::new(),
        };
        let mut candidates: VecDeque<PeerId> = VecDeque::new();
        for p in preferred.into_iter().chain(others) {
            if p != self.me && self.connected.contains(&p) && !candidates.contains(&p) {
                candidates.push_back(p);
            }
        }
        let Some(first) = candidates.pop_front() else {
            for w in waiters {
                let _ = w.send(Err(Error::PhotoUnavailable(hash.to_hex())));
            }
            if matches!(expect, Expect::Sealed(_)) {
                self.sealed_unavailable(hash);
            }
            return self.fetch_next(hash);
        };
        let attempt = self.new_attempt();
        self.fetches.insert(
            hash,
            Fetch {
                assembly: Assembly::expecting(hash, expect),
                candidates,
                current: first,
                attempt,
                waiters,
            },
        );
        self.request_chunks(hash);
    }

    fn new_attempt(&mut self) -> u64 {
        let n = self.blob_requests.next_attempt;
        self.blob_requests.next_attempt += 1;
        n
    }

    /// Whether `chunk` belongs to the attempt under way (of its blob).
    fn is_current(&self, chunk: &Chunk) -> bool {
        self.fetches
            .get(&chunk.hash)
            .is_some_and(|f| f.attempt == chunk.attempt)
    }

    /// Asks the current peer for the next chunks of `hash` (as many as the assembly wants in
    /// flight), each now or once one of the peer's slots is free.
    fn request_chunks(&mut self, hash: BlobHash) {
        loop {
            let Some(f) = self.fetches.get_mut(&hash) else {
                return;
            };
            let Some(offset) = f.assembly.next_request() else {
                return;
            };
            let (peer, attempt) = (f.current, f.attempt);
            let chunk = Chunk {
                hash,
                attempt,
                offset,
            };
            match self.blob_requests.slots.offer(peer, chunk) {
                Offer::Now(chunk) => self.send_chunk_request(chunk, peer),
                Offer::Queued => {}
                Offer::Full(chunk) => {
                    return self.next_candidate(&chunk, "too many fetches waiting for the peer")
                }
            }
        }
    }

    fn send_chunk_request(&mut self, chunk: Chunk, peer: PeerId) {
        let request = BlobRequest {
            hash: chunk.hash,
            offset: chunk.offset,
        };
        let id = self
            .swarm
            .behaviour_mut()
            .blob
            .send_request(&peer, encode(&request));
        self.blob_requests.in_flight.insert(id, chunk);
    }

    /// A chunk request to `peer` ended: its slot goes to the next chunk request waiting for
    /// it (those of attempts that ended are dropped).
    fn chunk_done(&mut self, peer: &PeerId) {
        while let Some(chunk) = self.blob_requests.slots.done(peer) {
            if self.is_current(&chunk) {
                return self.send_chunk_request(chunk, *peer);
            }
        }
    }

    /// `peer` disconnected: fetches waiting for it move on to their next candidate.
    pub(super) fn forget_chunk_requests(&mut self, peer: &PeerId) {
        for chunk in self.blob_requests.slots.forget(peer) {
            self.next_candidate(&chunk, "peer disconnected");
        }
    }

    /// The attempt `chunk` belongs to failed: move on to the next peer, or give up. Nothing
    /// happens if that attempt already ended (another of its chunks failed first).
    fn next_candidate(&mut self, chunk: &Chunk, why: &str) {
        let attempt = self.new_attempt();
        let Some(f) = self.fetches.get_mut(&chunk.hash) else {
            return;
        };
        if f.attempt != chunk.attempt {
            return;
        }
        let hash = chunk.hash;
        tracing::debug!(peer = %f.current, %hash, why, "blob fetch from peer failed");
        f.assembly.reset();
        f.attempt = attempt;
        match f.candidates.pop_front() {
            Some(next) => {
                f.current = next;
                self.request_chunks(hash);
            }
            None => self.finish_fetch(hash, Ending::Unavailable),
        }
    }

    pub(super) fn on_blob_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => {
                    let now = self.now();
                    if !self.serving.charge(peer, Service::Blob, now) {
                        tracing::debug!(%peer, "blob request over the peer's budget");
                        let refused = BlobResponse::Refused("rate limited".into());
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .blob
                            .send_response(channel, encode(&refused));
                        return;
                    }
                    let Ok(req) = decode::<BlobRequest>(&request, MAX_BLOB_REQUEST_BYTES) else {
                        tracing::debug!(%peer, "malformed blob request");
                        return;
                    };
                    let resp = self.serve_chunk(&req);
                    if let BlobResponse::Chunk { total_len, bytes } = &resp {
                        let served = req.offset + bytes.len() as u64;
                        self.sealed_served(peer, &req.hash, served, *total_len);
                    }
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .blob
                        .send_response(channel, encode(&resp));
                }
                Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(chunk) = self.blob_requests.in_flight.remove(&request_id) {
                        self.chunk_done(&peer);
                        self.on_chunk(chunk, &response);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(chunk) = self.blob_requests.in_flight.remove(&request_id) {
                    self.chunk_done(&peer);
                    self.next_candidate(&chunk, &error.to_string());
                }
            }
            _ => {}
        }
    }

    fn serve_chunk(&self, req: &BlobRequest) -> BlobResponse {
        match self
            .store
            .blob_chunk(&req.hash, req.offset, BLOB_CHUNK_BYTES as usize)
        {
            Ok(Some((bytes, total))) => {
                if req.offset >= total {
                    return BlobResponse::Refused("offset past the end".into());
                }
                BlobResponse::Chunk {
                    total_len: total,
                    bytes,
                }
            }
            Ok(None) => BlobResponse::NotFound,
            Err(e) => {
                tracing::error!(error = %e, "reading blob");
                BlobResponse::NotFound
            }
        }
    }

    fn on_chunk(&mut self, chunk: Chunk, bytes: &[u8]) {
        let hash = chunk.hash;
        let Some(f) = self.fetches.get_mut(&hash) else {
            return;
        };
        if f.attempt != chunk.attempt {
            return;
        }
        let step = match decode::<BlobResponse>(bytes, MAX_BLOB_RESPONSE_BYTES) {
            Ok(BlobResponse::Chunk { total_len, bytes }) => {
                f.assembly.on_chunk(chunk.offset, total_len, &bytes)
            }
            Ok(BlobResponse::NotFound) => Step::Bad("peer does not have the blob"),
            Ok(BlobResponse::Refused(_)) => Step::Bad("peer refused the request"),
            Err(_) => Step::Bad("malformed blob response"),
        };
        let expect = f.assembly.expect();
        let sealed = matches!(expect, Expect::Sealed(_));
        match step {
            Step::Continue { have } => {
                if let Expect::Sealed(total) = expect {
                    self.sealed_progress(hash, have, total);
                }
                self.request_chunks(hash)
            }
            Step::Bad(why) => self.next_candidate(&chunk, why),
            Step::Done(data) if sealed => {
                self.finish_fetch(hash, Ending::Stored);
                self.sealed_fetched(hash, &data);
            }
            Step::Done(data) => {
                let ending = match self.store.put_blob(&data) {
                    Ok(_) => Ending::Stored,
                    Err(e) => Ending::StoreFailed(e),
                };
                self.finish_fetch(hash, ending);
            }
        }
    }

    /// Ends the fetch of `hash` with `result` for everyone waiting, and lets the next
    /// queued blobs start.
    fn finish_fetch(&mut self, hash: BlobHash, ending: Ending) {
        if let Some(f) = self.fetches.remove(&hash) {
            if matches!(
                (f.assembly.expect(), &ending),
                (Expect::Sealed(_), Ending::Unavailable)
            ) {
                self.sealed_unavailable(hash);
            }
            for w in f.waiters {
                let _ = w.send(match &ending {
                    Ending::Stored => Ok(()),
                    Ending::Unavailable => Err(Error::PhotoUnavailable(hash.to_hex())),
                    Ending::StoreFailed(e) => Err(Error::Store(e.clone())),
                });
            }
        }
        self.fetch_next(hash);
    }

    /// `hash` no longer takes a place: the next waiting blob starts.
    fn fetch_next(&mut self, hash: BlobHash) {
        self.blob_requests.queue.finish(&hash);
        if let Some((next, q)) = self.blob_requests.queue.next() {
            if q.expect == Expect::Image && self.store.has_blob(&next).unwrap_or(false) {
                for w in q.waiters {
                    let _ = w.send(Ok(()));
                }
                return self.fetch_next(next);
            }
            self.start_fetch(next, q);
        }
    }
}
