//! `/paperplane/sync/1`: answering catch-up requests from the store, and asking peers for the
//! records of authors we follow when we connect to them or start following.

use libp2p::request_response::{self, Message};
use paperplane_protocol::{
    decode, encode,
    limits::{MAX_SYNC_POSTS, MAX_SYNC_REACTIONS, MAX_SYNC_REQUEST_BYTES, MAX_SYNC_RESPONSE_BYTES},
    FeedMessage, PeerId, SyncRequest, SyncResponse,
};

use super::Actor;
use crate::{ingest::Outcome, store::StoreError};

/// Most followed authors asked about on one new connection.
const MAX_AUTHORS_PER_CONNECT: usize = 32;
/// Most other peers asked when starting to follow someone.
const MAX_PEERS_PER_FOLLOW: usize = 4;

/// An outstanding sync request.
pub(super) struct Pending {
    peer: PeerId,
    author: PeerId,
}

impl Actor {
    fn request_sync(&mut self, peer: PeerId, author: PeerId, since_seq: u64, limit: u32) {
        let req = SyncRequest {
            author,
            since_seq,
            limit,
        };
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, encode(&req));
        self.syncs.insert(id, Pending { peer, author });
    }

    fn request_posts(&mut self, peer: PeerId, author: PeerId) {
        match self.store.latest_seq(&author) {
            Ok(since) => self.request_sync(peer, author, since, MAX_SYNC_POSTS),
            Err(e) => tracing::error!(error = %e, "reading latest sequence"),
        }
    }

    /// On a new connection: the peer's profile (and posts, if we follow them), and whatever
    /// the peer holds of the other authors we follow.
    pub(super) fn sync_on_connect(&mut self, peer: PeerId) {
        if self.followees.contains(&peer) {
            self.request_posts(peer, peer);
        } else {
            self.request_sync(peer, peer, u64::MAX, 0);
        }
        // Set order: each new peer is asked about a different few of many authors.
        let others: Vec<PeerId> = self
            .followees
            .iter()
            .filter(|a| **a != peer)
            .take(MAX_AUTHORS_PER_CONNECT)
            .copied()
            .collect();
        for author in others {
            self.request_posts(peer, author);
        }
    }

    /// After following `author`: ask them (if connected) and a few other peers.
    pub(super) fn sync_after_follow(&mut self, author: PeerId) {
        let mut peers: Vec<PeerId> = self.connected.iter().copied().collect();
        peers.sort_by_key(|p| *p != author);
        for peer in peers.into_iter().take(MAX_PEERS_PER_FOLLOW + 1) {
            self.request_posts(peer, author);
        }
    }

    pub(super) fn on_sync_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => {
                    let response = match decode::<SyncRequest>(&request, MAX_SYNC_REQUEST_BYTES) {
                        Ok(req) => self.answer_sync(&req),
                        Err(e) => {
                            tracing::debug!(%peer, error = %e, "malformed sync request");
                            return; // dropping the channel tells the peer it failed
                        }
                    };
                    match response {
                        Ok(bytes) => {
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .sync
                                .send_response(channel, bytes);
                        }
                        Err(e) => tracing::error!(error = %e, "answering sync"),
                    }
                }
                Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(p) = self.syncs.remove(&request_id) {
                        self.on_sync_response(p, &response);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some(p) = self.syncs.remove(&request_id) {
                    tracing::debug!(peer = %p.peer, author = %p.author, %error, "sync failed");
                }
            }
            _ => {}
        }
    }

    /// Builds the response from the store, halving the number of posts until it fits.
    fn answer_sync(&self, req: &SyncRequest) -> Result<Vec<u8>, StoreError> {
        let mut limit = req.limit.min(MAX_SYNC_POSTS) as usize;
        let mut truncated = false;
        loop {
            let (posts, more) = if limit == 0 {
                (Vec::new(), false)
            } else {
                self.store.posts_since(&req.author, req.since_seq, limit)?
            };
            let mut reactions = Vec::new();
            for p in &posts {
                let id = p.id();
                reactions.extend(self.store.likes_of(&id)?.into_iter().map(FeedMessage::Like));
                reactions.extend(
                    self.store
                        .comments_of(&id)?
                        .into_iter()
                        .map(FeedMessage::Comment),
                );
                reactions.extend(
                    self.store
                        .comment_deletes_of(&id)?
                        .into_iter()
                        .map(FeedMessage::CommentDelete),
                );
            }
            if req.limit > 0 {
                reactions.extend(
                    self.store
                        .follow_records_of(&req.author)?
                        .into_iter()
                        .map(FeedMessage::Follow),
                );
            }
            reactions.truncate(MAX_SYNC_REACTIONS);
            let n = posts.len();
            let bytes = encode(&SyncResponse {
                profile: self.store.profile(&req.author)?,
                posts,
                reactions,
                more: more || truncated,
            });
            if bytes.len() <= MAX_SYNC_RESPONSE_BYTES || n <= 1 {
                return Ok(bytes);
            }
            limit = n / 2;
            truncated = true;
        }
    }

    fn on_sync_response(&mut self, pending: Pending, bytes: &[u8]) {
        let Pending { peer, author } = pending;
        let resp = match decode::<SyncResponse>(bytes, MAX_SYNC_RESPONSE_BYTES) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "malformed sync response");
                return;
            }
        };
        let mut rejected = 0usize;
        let mut last_seq = None;
        if let Some(p) = resp.profile.filter(|p| p.body.author == author) {
            self.apply(self.ingest().profile(&p), &mut rejected);
        }
        for post in resp.posts {
            last_seq = Some(post.body.seq);
            let msg = FeedMessage::Post(post);
            let outcome = self.ingest().feed(&msg, Some(&author));
            if let (Ok(Outcome::Accepted(_)), FeedMessage::Post(p)) = (&outcome, &msg) {
                self.fetch_photos(&p.body, &[peer]);
            }
            self.apply(outcome, &mut rejected);
        }
        for r in resp.reactions {
            let outcome = self.ingest().feed(&r, Some(&author));
            self.apply(outcome, &mut rejected);
        }
        if rejected > 0 {
            self.rejected += rejected as u64;
            tracing::debug!(%peer, %author, rejected, "sync response carried invalid records");
        }
        if let (true, Some(seq)) = (resp.more, last_seq) {
            self.request_sync(peer, author, seq, MAX_SYNC_POSTS);
        }
    }

    fn apply(&self, outcome: Result<Outcome, StoreError>, rejected: &mut usize) {
        match outcome {
            Ok(Outcome::Accepted(ev)) => self.emit(*ev),
            Ok(Outcome::Ignored) => {}
            Ok(Outcome::Rejected(_)) => *rejected += 1,
            Err(e) => tracing::error!(error = %e, "store failure while ingesting sync"),
        }
    }
}
