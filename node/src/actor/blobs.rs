//! `/paperplane/blob/1`: serving chunks from the store, and fetching a blob chunk by chunk
//! from one peer after another until one delivers bytes matching the hash.

use std::collections::VecDeque;

use libp2p::request_response::{self, Message};
use paperplane_protocol::{
    decode, encode,
    limits::{BLOB_CHUNK_BYTES, MAX_BLOB_REQUEST_BYTES, MAX_BLOB_RESPONSE_BYTES},
    BlobHash, BlobRequest, BlobResponse, PeerId, Post,
};
use tokio::sync::oneshot;

use super::{
    blob_fetch::{Assembly, Step},
    Actor,
};
use crate::error::{Error, Result};

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
        let mut candidates: VecDeque<PeerId> = VecDeque::new();
        for p in preferred.into_iter().chain(self.connected.iter().copied()) {
            if p != self.me && self.connected.contains(&p) && !candidates.contains(&p) {
                candidates.push_back(p);
            }
        }
        let Some(first) = candidates.pop_front() else {
            if let Some(r) = reply {
                let _ = r.send(Err(Error::PhotoUnavailable(hash.to_hex())));
            }
            return;
        };
        self.fetches.insert(
            hash,
            Fetch {
                assembly: Assembly::new(hash),
                candidates,
                current: first,
                waiters: reply.into_iter().collect(),
            },
        );
        self.request_chunk(hash, first, 0);
    }

    fn request_chunk(&mut self, hash: BlobHash, peer: PeerId, offset: u64) {
        let id = self
            .swarm
            .behaviour_mut()
            .blob
            .send_request(&peer, encode(&BlobRequest { hash, offset }));
        self.blob_requests.insert(id, hash);
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
                self.request_chunk(hash, next, 0);
            }
            None => {
                if let Some(f) = self.fetches.remove(&hash) {
                    for w in f.waiters {
                        let _ = w.send(Err(Error::PhotoUnavailable(hash.to_hex())));
                    }
                }
            }
        }
    }

    pub(super) fn on_blob_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => {
                    let Ok(req) = decode::<BlobRequest>(&request, MAX_BLOB_REQUEST_BYTES) else {
                        tracing::debug!(%peer, "malformed blob request");
                        return;
                    };
                    let resp = self.serve_chunk(&req);
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
                    if let Some(hash) = self.blob_requests.remove(&request_id) {
                        self.on_chunk(hash, peer, &response);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some(hash) = self.blob_requests.remove(&request_id) {
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
        match step {
            Step::Continue { offset } => self.request_chunk(hash, peer, offset),
            Step::Bad(why) => self.next_candidate(hash, why),
            Step::Done(data) => {
                let result = self.store.put_blob(&data).map(|_| ());
                if let Some(f) = self.fetches.remove(&hash) {
                    for w in f.waiters {
                        let _ = w.send(match &result {
                            Ok(()) => Ok(()),
                            Err(e) => Err(Error::Store(e.clone())),
                        });
                    }
                }
            }
        }
    }
}
