//! `/paperplane/sync/1`: answering catch-up requests from the store (within each peer's
//! budget), and asking peers for the records of authors we follow when we connect to them or
//! start following, page by page as `sync_rules` allows; and anti-entropy: asking now and then
//! whether a peer holds newer posts of a followed author, as `anti_entropy` schedules it.

use std::collections::HashMap;

use libp2p::request_response::{self, Message, OutboundRequestId};
use paperplane_protocol::{
    decode, encode,
    limits::{MAX_SYNC_POSTS, MAX_SYNC_REACTIONS, MAX_SYNC_REQUEST_BYTES, MAX_SYNC_RESPONSE_BYTES},
    FeedMessage, PeerId, SyncRequest, SyncResponse,
};

use super::{
    slots::{Offer, Slots},
    Actor,
};
use crate::{
    anti_entropy::MAX_AUTHORS_PER_ROUND,
    ingest::Outcome,
    net::MAX_REQUESTS_IN_FLIGHT,
    serving::Service,
    store::StoreError,
    sync_rules::{self, Asked},
};

/// Most followed authors asked about on one new connection.
const MAX_AUTHORS_PER_CONNECT: usize = 32;
/// Most other peers asked when starting to follow someone.
const MAX_PEERS_PER_FOLLOW: usize = 4;
/// Most peers asked whether they hold newer posts of an author who is not connected (the
/// author, when connected, is the only one asked).
const MAX_PEERS_PER_QUESTION: usize = 3;
/// Most connected peers looked up (do they follow the author?) to choose those asked.
const MAX_PEERS_CONSIDERED: usize = 32;
/// Most sync requests waiting for a slot per peer: a connection's first requests and a next
/// page for each of them.
const MAX_WAITING_SYNCS: usize = 2 * (MAX_AUTHORS_PER_CONNECT + 1);

/// A sync request, sent or waiting to be.
pub(super) struct Pending {
    peer: PeerId,
    author: PeerId,
    asked: Asked,
}

/// The node's own sync requests: those in flight, and those waiting for one of the few slots
/// each peer has.
pub(super) struct Requests {
    in_flight: HashMap<OutboundRequestId, Pending>,
    slots: Slots<Pending>,
}

impl Default for Requests {
    fn default() -> Self {
        Self {
            in_flight: HashMap::new(),
            slots: Slots::new(MAX_REQUESTS_IN_FLIGHT, MAX_WAITING_SYNCS),
        }
    }
}

impl Actor {
    /// Sends `pending` now if `peer` has a free slot, else queues it.
    fn request_sync(&mut self, pending: Pending) {
        match self.syncs.slots.offer(pending.peer, pending) {
            Offer::Now(p) => self.send_sync(p),
            Offer::Queued => {}
            Offer::Full(p) => {
                tracing::debug!(peer = %p.peer, author = %p.author, "too many sync requests waiting");
            }
        }
    }

    fn send_sync(&mut self, pending: Pending) {
        let req = SyncRequest {
            author: pending.author,
            since_seq: pending.asked.since_seq,
            limit: pending.asked.limit,
        };
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&pending.peer, encode(&req));
        self.syncs.in_flight.insert(id, pending);
    }

    /// A request to `peer` ended: its slot goes to the next one waiting.
    fn sync_done(&mut self, peer: &PeerId) {
        if let Some(next) = self.syncs.slots.done(peer) {
            self.send_sync(next);
        }
    }

    /// `peer` disconnected: requests waiting for it are dropped (the next connection asks
    /// again).
    pub(super) fn forget_syncs(&mut self, peer: &PeerId) {
        let dropped = self.syncs.slots.forget(peer).len();
        if dropped > 0 {
            tracing::debug!(%peer, dropped, "sync requests dropped with the connection");
        }
    }

    fn request_profile(&mut self, peer: PeerId) {
        self.request_sync(Pending {
            peer,
            author: peer,
            asked: Asked::first(u64::MAX, 0),
        });
    }

    fn request_posts(&mut self, peer: PeerId, author: PeerId) {
        match self.store.latest_seq(&author) {
            Ok(since) => self.request_sync(Pending {
                peer,
                author,
                asked: Asked::first(since, MAX_SYNC_POSTS),
            }),
            Err(e) => tracing::error!(error = %e, "reading latest sequence"),
        }
    }

    /// On a new connection: the peer's profile (and posts, if we follow them), and whatever
    /// the peer holds of the other authors we follow.
    pub(super) fn sync_on_connect(&mut self, peer: PeerId) {
        if self.followees.contains(&peer) {
            self.request_posts(peer, peer);
        } else {
            self.request_profile(peer);
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

    /// Anti-entropy, on every tick: for each followed author due, asks the author (if
    /// connected) or a few peers (those known to follow the author first) whether they hold
    /// posts above the newest the node has. An answer that says so starts a catch-up.
    pub(super) fn ask_about_due_authors(&mut self) {
        if self.connected.is_empty() {
            return;
        }
        let now = self.now();
        for author in self.catch_up.due(now, MAX_AUTHORS_PER_ROUND) {
            let newest = match self.store.latest_seq(&author) {
                Ok(seq) => seq,
                Err(e) => {
                    tracing::error!(error = %e, "reading latest sequence");
                    continue;
                }
            };
            for peer in self.peers_to_ask_about(&author) {
                self.request_sync(Pending {
                    peer,
                    author,
                    asked: Asked::newer_than(newest),
                });
            }
        }
    }

    /// The author if connected; else up to [`MAX_PEERS_PER_QUESTION`] connected peers, those
    /// known to follow the author first (among [`MAX_PEERS_CONSIDERED`]).
    fn peers_to_ask_about(&self, author: &PeerId) -> Vec<PeerId> {
        if self.connected.contains(author) {
            return vec![*author];
        }
        let mut peers: Vec<(bool, PeerId)> = self
            .connected
            .iter()
            .take(MAX_PEERS_CONSIDERED)
            .map(|p| {
                let follows = self.store.follows(p, author).unwrap_or(false);
                (!follows, *p)
            })
            .collect();
        peers.sort();
        peers
            .into_iter()
            .take(MAX_PEERS_PER_QUESTION)
            .map(|(_, p)| p)
            .collect()
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
                    let now = self.now();
                    if !self.serving.charge(peer, Service::Sync, now) {
                        // Over its budget: an empty answer, which the requester takes as
                        // "nothing here", without reading the store.
                        tracing::debug!(%peer, "sync request over the peer's budget");
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .sync
                            .send_response(channel, encode(&SyncResponse::default()));
                        return;
                    }
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
                    if let Some(p) = self.syncs.in_flight.remove(&request_id) {
                        self.sync_done(&p.peer);
                        self.on_sync_response(p, &response);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some(p) = self.syncs.in_flight.remove(&request_id) {
                    self.sync_done(&p.peer);
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
                // A question: whether there is anything above `since_seq` (see `sync_rules`).
                (
                    Vec::new(),
                    self.store.latest_seq(&req.author)? > req.since_seq,
                )
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
        let Pending {
            peer,
            author,
            asked,
        } = pending;
        let resp = match decode::<SyncResponse>(bytes, MAX_SYNC_RESPONSE_BYTES) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "malformed sync response");
                return;
            }
        };
        let seqs: Vec<u64> = resp.posts.iter().map(|p| p.body.seq).collect();
        if let Err(violation) = sync_rules::check(&asked, &seqs, resp.reactions.len()) {
            // Refused whole, before a single signature is checked, and not followed further.
            self.rejected += 1;
            tracing::debug!(%peer, %author, %violation, "sync response refused");
            return;
        }
        let mut rejected = 0usize;
        if let Some(p) = resp.profile.filter(|p| p.body.author == author) {
            self.apply(self.ingest().profile(&p), &mut rejected);
        }
        // The highest sequence number of this page that the node now holds.
        let mut stored_up_to = None;
        for post in resp.posts {
            let (seq, id) = (post.body.seq, post.id());
            let msg = FeedMessage::Post(post);
            let outcome = self.ingest().feed(&msg, Some(&author));
            let stored = match &outcome {
                Ok(Outcome::Accepted(_)) => {
                    if let FeedMessage::Post(p) = &msg {
                        self.fetch_photos(&p.body, &[peer]);
                    }
                    true
                }
                // Held already, or of no interest (then not stored).
                Ok(Outcome::Ignored) => self.store.post(&id).is_ok_and(|p| p.is_some()),
                _ => false,
            };
            if stored {
                stored_up_to = Some(seq);
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
        if sync_rules::answer_says_newer(&asked, resp.more) {
            tracing::debug!(%peer, %author, "a peer holds posts gossip did not bring");
            let now = self.now();
            self.catch_up.news(&author, now);
            self.request_posts(peer, author);
            return;
        }
        match sync_rules::next_page(&asked, resp.more, stored_up_to) {
            Some(asked) => self.request_sync(Pending {
                peer,
                author,
                asked,
            }),
            None => tracing::debug!(%peer, %author, page = asked.page, "sync paging stops"),
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
