//! `/paperplane/blob/1`: serving chunks from the store (within each peer's budget), and
//! fetching a blob chunk by chunk from one peer after another until one delivers bytes
//! matching the hash, with a few chunk requests in flight per peer.

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

/// Most fetches waiting for a slot per peer (each fetch waits with at most one chunk).
const MAX_WAITING_CHUNKS: usize = 1024;
/// Blobs assembled at once. Each holds up to a whole photo (8 MiB) in memory until it is
/// complete, so this bounds fetching to 32 MiB however many posts arrive at once.
const MAX_ACTIVE_FETCHES: usize = 4;
/// Blobs waiting for one of the [`MAX_ACTIVE_FETCHES`] places (a hash and a few peers each);
/// beyond it a fetch is refused, and the photo is fetched when someone asks for it.
const MAX_QUEUED_FETCHES: usize = 4096;

/// The node's own chunk requests: which blob each one in flight is for, the fetches
/// waiting for one of the few slots each peer has, and the blobs waiting for their turn.
pub(super) struct Requests {
    in_flight: HashMap<OutboundRequestId, BlobHash>,
    slots: Slots<BlobHash>,
    queue: FetchQueue<Queued>,
}

impl Default for Requests {
    fn default() -> Self {
        Self {
            in_flight: HashMap::new(),
            slots: Slots::new(MAX_REQUESTS_IN_FLIGHT, MAX_WAITING_CHUNKS),
            queue: FetchQueue::new(MAX_ACTIVE_FETCHES, MAX_QUEUED_FETCHES),
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
        self.fetches.insert(
            hash,
            Fetch {
                assembly: Assembly::expecting(hash, expect),
                candidates,
                current: first,
                waiters,
            },
        );
        self.request_chunk(hash, first);
    }

    /// Asks `peer` for the next chunk of `hash` now, or once one of its slots is free.
    fn request_chunk(&mut self, hash: BlobHash, peer: PeerId) {
        match self.blob_requests.slots.offer(peer, hash) {
            Offer::Now(hash) => self.send_chunk_request(hash, peer),
            Offer::Queued => {}
            Offer::Full(hash) => self.next_candidate(hash, "too many fetches waiting for the peer"),
        }
    }

    fn send_chunk_request(&mut self, hash: BlobHash, peer: PeerId) {
        let Some(offset) = self.fetches.get(&hash).map(|f| f.assembly.offset()) else {
            return self.chunk_done(&peer);
        };
        let id = self
            .swarm
            .behaviour_mut()
            .blob
            .send_request(&peer, encode(&BlobRequest { hash, offset }));
        self.blob_requests.in_flight.insert(id, hash);
    }

    /// A chunk request to `peer` ended: its slot goes to the next fetch waiting for it.
    fn chunk_done(&mut self, peer: &PeerId) {
        while let Some(hash) = self.blob_requests.slots.done(peer) {
            if self.fetches.get(&hash).is_some_and(|f| f.current == *peer) {
                return self.send_chunk_request(hash, *peer);
            }
        }
    }

    /// `peer` disconnected: fetches waiting for it move on to their next candidate.
    pub(super) fn forget_chunk_requests(&mut self, peer: &PeerId) {
        for hash in self.blob_requests.slots.forget(peer) {
            self.next_candidate(hash, "peer disconnected");
        }
    }

    /// The current peer failed: move on to the next one, or give up.
    fn next_candidate(&mut self, hash: BlobHash, why: &str) {
        let Some(f) = self.fetches.get_mut(&hash) else {
            return;
        };
        tracing::debug!(peer = %f.current, %hash, why, "blob fetch from peer failed");
        f.assembly.reset();
        match f.candidates.pop_front() {
            Some(next) => {
                f.current = next;
                self.request_chunk(hash, next);
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
                    if let Some(hash) = self.blob_requests.in_flight.remove(&request_id) {
                        self.chunk_done(&peer);
                        self.on_chunk(hash, peer, &response);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(hash) = self.blob_requests.in_flight.remove(&request_id) {
                    self.chunk_done(&peer);
                    self.next_candidate(hash, &error.to_string());
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

    fn on_chunk(&mut self, hash: BlobHash, peer: PeerId, bytes: &[u8]) {
        let Some(f) = self.fetches.get_mut(&hash) else {
            return;
        };
        if f.current != peer {
            return;
        }
        let step = match decode::<BlobResponse>(bytes, MAX_BLOB_RESPONSE_BYTES) {
            Ok(BlobResponse::Chunk { total_len, bytes }) => f.assembly.on_chunk(total_len, &bytes),
            Ok(BlobResponse::NotFound) => Step::Bad("peer does not have the blob"),
            Ok(BlobResponse::Refused(_)) => Step::Bad("peer refused the request"),
            Err(_) => Step::Bad("malformed blob response"),
        };
        let expect = f.assembly.expect();
        let sealed = matches!(expect, Expect::Sealed(_));
        match step {
            Step::Continue { offset } => {
                if let Expect::Sealed(total) = expect {
                    self.sealed_progress(hash, offset, total);
                }
                self.request_chunk(hash, peer)
            }
            Step::Bad(why) => self.next_candidate(hash, why),
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
