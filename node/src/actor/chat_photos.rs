//! Photos in chats, the actor's part. Sending: the photo is checked like a post's, sealed
//! under a fresh key, kept (sealed, as a public blob, and decrypted, apart) and its message
//! queued like any other. Receiving: once a photo message is stored, its sealed blob is
//! fetched from the sender alone (see `blobs`), revealed and checked
//! ([`crate::chat_photo::reveal`]), and only the decrypted photo is kept. A sender that is
//! offline is asked again when it connects, and dialled now and then; photos still to
//! fetch survive a restart (the `chat_photos` tree).

use std::collections::HashMap;

use libp2p::swarm::dial_opts::DialOpts;
use paperplane_crypto::seal_attachment;
use paperplane_protocol::{BlobHash, ChatPhoto, MessageBody, MessageId, PeerId, PhotoRef};
use tokio::sync::oneshot;

use super::{command::Queued, dm::Outgoing, Actor};
use crate::{
    anti_entropy::{Backoff, Schedule},
    chat_photo::{plausible, reveal},
    error::SendError,
    event::Event,
    store::{chat_photos::PhotoFetch, messages::StoredMessage},
};

/// First wait before asking an unresponsive sender again (ms); it doubles up to
/// [`RETRY_MOST_MS`].
const RETRY_FIRST_MS: u64 = 2_000;
/// Longest wait between two attempts while a sender stays away (ms).
const RETRY_MOST_MS: u64 = 300_000;
/// Senders dialled in one tick.
const MAX_DIALS_PER_TICK: usize = 4;
/// Sent photos remembered (since start) to report their recipients' progress.
const MAX_REMEMBERED_SENT: usize = 1024;
/// Newest messages of a chat searched for the message of a sent photo.
const SENT_SEARCH_DEPTH: usize = 64;

/// A received photo still to fetch.
struct Receiving {
    peer: PeerId,
    id: MessageId,
    photo: ChatPhoto,
}

/// The actor's chat-photo state.
pub(super) struct ChatPhotos {
    /// Received photos still to fetch, by the hash of their sealed blob.
    receiving: HashMap<BlobHash, Receiving>,
    /// When to ask each sender with photos still to fetch again.
    retry: Schedule,
    /// Sealed photos sent since start: the recipient, and the message once looked up.
    sent: HashMap<BlobHash, (PeerId, Option<MessageId>)>,
}

impl Default for ChatPhotos {
    fn default() -> Self {
        Self {
            receiving: HashMap::new(),
            retry: Schedule::new(Backoff {
                first: RETRY_FIRST_MS,
                most: RETRY_MOST_MS,
            }),
            sent: HashMap::new(),
        }
    }
}

impl Actor {
    /// Checks, seals and keeps a photo, then queues its message to `peer`. The sealed blob is
    /// written before the message, so the flush that makes the message durable (and lets it
    /// leave) covers it. A message refused at once takes its blobs back with it.
    pub(super) fn send_photo(
        &mut self,
        peer: PeerId,
        bytes: Vec<u8>,
        caption: String,
        reply: oneshot::Sender<Result<Queued, SendError>>,
    ) {
        let photo = match PhotoRef::for_bytes(&bytes) {
            Ok(p) => p,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        if peer == self.me {
            let _ = reply.send(Err(SendError::ToSelf));
            return;
        }
        let (key, sealed) = seal_attachment(&mut rand::rng(), &bytes);
        let blob = BlobHash::of(&sealed);
        let kept_before = self.store.has_chat_photo(&photo.hash);
        let stored = kept_before.and_then(|had| {
            self.store.put_blob(&sealed)?;
            self.store.put_chat_photo(&bytes)?;
            Ok(had)
        });
        let kept_before = match stored {
            Ok(had) => had,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let body = MessageBody::Photo {
            photo: ChatPhoto {
                blob,
                blob_size: sealed.len() as u64,
                photo,
                key: key.to_bytes(),
            },
            text: caption,
        };
        let (tx, mut answer) = oneshot::channel();
        self.send_messages(vec![Outgoing {
            peer,
            body,
            reply: tx,
        }]);
        match answer.try_recv() {
            // Refused at once (blocked, no keys, caption too long, …): nothing is kept.
            Ok(Err(e)) => {
                let _ = self.store.remove_blob(&blob);
                if !kept_before {
                    let _ = self.store.remove_chat_photo(&photo.hash);
                }
                let _ = reply.send(Err(e));
            }
            Ok(Ok(queued)) => {
                let _ = reply.send(Ok(queued));
            }
            // Queued: the answer comes after the flush.
            Err(_) => {
                self.remember_sent(blob, peer);
                tokio::spawn(async move {
                    let _ = reply.send(answer.await.unwrap_or(Err(SendError::Stopped)));
                });
            }
        }
    }

    fn remember_sent(&mut self, blob: BlobHash, peer: PeerId) {
        if self.chat_photos.sent.len() >= MAX_REMEMBERED_SENT {
            self.chat_photos.sent.clear();
        }
        self.chat_photos.sent.insert(blob, (peer, None));
    }

    /// A message was stored: if it carries a photo, fetching it starts (or, if the message
    /// describes an impossible photo, it is marked failed at once).
    pub(super) fn chat_photo_received(&mut self, message: &StoredMessage) {
        let MessageBody::Photo { photo, .. } = &message.body else {
            return;
        };
        let (peer, id) = (message.peer, message.id);
        if !plausible(photo) {
            let why = "the message describes an impossible photo (size)".to_owned();
            if let Err(e) = self
                .store
                .set_photo_fetch(&peer, &id, &PhotoFetch::Failed(why))
            {
                tracing::error!(error = %e, "recording a chat photo");
            }
            return;
        }
        if let Err(e) = self
            .store
            .set_photo_fetch(&peer, &id, &PhotoFetch::Fetching)
        {
            tracing::error!(error = %e, "recording a chat photo");
            return;
        }
        self.fetch_chat_photo(Receiving {
            peer,
            id,
            photo: photo.clone(),
        });
    }

    fn fetch_chat_photo(&mut self, r: Receiving) {
        let (blob, size, peer) = (r.photo.blob, r.photo.blob_size, r.peer);
        self.chat_photos.receiving.insert(blob, r);
        let now = self.now();
        self.chat_photos.retry.track(peer, now);
        if self.connected.contains(&peer) {
            self.fetch_sealed(blob, size, peer);
        }
    }

    /// At start: the photos still to fetch are fetched as soon as their senders connect; the
    /// senders are dialled.
    pub(super) fn resume_chat_photos(&mut self) -> crate::error::Result<()> {
        for (peer, id) in self.store.photos_to_fetch()? {
            match self.store.message(&id)? {
                Some(StoredMessage {
                    body: MessageBody::Photo { photo, .. },
                    peer: p,
                    ..
                }) if p == peer => {
                    self.fetch_chat_photo(Receiving { peer, id, photo });
                }
                // The message is gone (its chat was deleted).
                _ => self.store.forget_photo_fetch(&peer, &id)?,
            }
        }
        let senders: Vec<PeerId> = self.senders_waited_for();
        for peer in senders {
            self.dial_sender(peer);
        }
        Ok(())
    }

    fn senders_waited_for(&self) -> Vec<PeerId> {
        let mut peers: Vec<PeerId> = self
            .chat_photos
            .receiving
            .values()
            .map(|r| r.peer)
            .collect();
        peers.sort();
        peers.dedup();
        peers
    }

    fn dial_sender(&mut self, peer: PeerId) {
        if !self.connected.contains(&peer) {
            let opts = DialOpts::peer_id(peer).allocate_new_port().build();
            let _ = self.swarm.dial(opts);
        }
    }

    /// `peer` connected: the photos it sent that are still to fetch are asked for now.
    pub(super) fn chat_photos_connected(&mut self, peer: PeerId) {
        let now = self.now();
        self.chat_photos.retry.news(&peer, now);
        self.fetch_photos_of(peer);
    }

    fn fetch_photos_of(&mut self, peer: PeerId) {
        let wanted: Vec<(BlobHash, u64)> = self
            .chat_photos
            .receiving
            .iter()
            .filter(|(_, r)| r.peer == peer)
            .map(|(b, r)| (*b, r.photo.blob_size))
            .collect();
        for (blob, size) in wanted {
            self.fetch_sealed(blob, size, peer);
        }
    }

    /// On each tick: senders due are asked again (if connected) or dialled.
    pub(super) fn retry_chat_photos(&mut self) {
        let now = self.now();
        for peer in self.chat_photos.retry.due(now, MAX_DIALS_PER_TICK) {
            if !self.chat_photos.receiving.values().any(|r| r.peer == peer) {
                self.chat_photos.retry.untrack(&peer);
            } else if self.connected.contains(&peer) {
                self.fetch_photos_of(peer);
            } else {
                self.dial_sender(peer);
            }
        }
    }

    /// Part of a sealed photo arrived.
    pub(super) fn sealed_progress(&mut self, blob: BlobHash, bytes: u64, total: u64) {
        if let Some(r) = self.chat_photos.receiving.get(&blob) {
            self.emit(Event::ChatPhotoProgress {
                id: r.id,
                peer: r.peer,
                bytes,
                total,
            });
        }
    }

    /// A sealed photo arrived whole (its hash checked): revealed, checked, and kept
    /// decrypted; or discarded and marked failed.
    pub(super) fn sealed_fetched(&mut self, blob: BlobHash, sealed: &[u8]) {
        let Some(r) = self.chat_photos.receiving.remove(&blob) else {
            return;
        };
        let total = sealed.len() as u64;
        self.emit(Event::ChatPhotoProgress {
            id: r.id,
            peer: r.peer,
            bytes: total,
            total,
        });
        let outcome = match reveal(&r.photo, sealed) {
            Ok(bytes) => self
                .store
                .put_chat_photo(&bytes)
                .and_then(|_| {
                    self.store
                        .set_photo_fetch(&r.peer, &r.id, &PhotoFetch::Ready)
                })
                .map(|()| Event::ChatPhotoReady {
                    id: r.id,
                    peer: r.peer,
                }),
            Err(fault) => {
                tracing::info!(peer = %r.peer, id = %r.id, %fault, "chat photo discarded");
                let reason = fault.to_string();
                self.store
                    .set_photo_fetch(&r.peer, &r.id, &PhotoFetch::Failed(reason.clone()))
                    .map(|()| Event::ChatPhotoFailed {
                        id: r.id,
                        peer: r.peer,
                        reason,
                    })
            }
        };
        match outcome {
            Ok(event) => self.emit(event),
            Err(e) => {
                // Kept to fetch again (after a restart at the latest).
                tracing::error!(error = %e, "storing a chat photo");
            }
        }
    }

    /// No attempt delivered the sealed photo (the sender is away, or lost it): it stays to
    /// fetch, and the sender is asked again later.
    pub(super) fn sealed_unavailable(&mut self, blob: BlobHash) {
        if let Some(r) = self.chat_photos.receiving.get(&blob) {
            tracing::debug!(peer = %r.peer, id = %r.id, "chat photo not available yet");
        }
    }

    /// This node served `peer` a chunk of `blob`, up to `served` of `total` bytes: if it is
    /// a photo we sent them, their progress is announced.
    pub(super) fn sealed_served(&mut self, peer: PeerId, blob: &BlobHash, served: u64, total: u64) {
        let Some((to, id)) = self.chat_photos.sent.get(blob).copied() else {
            return;
        };
        if to != peer {
            return;
        }
        let id = match id {
            Some(id) => id,
            None => {
                let found = self.sent_message_of(&peer, blob);
                let Some(id) = found else {
                    return;
                };
                self.chat_photos.sent.insert(*blob, (peer, Some(id)));
                id
            }
        };
        self.emit(Event::ChatPhotoProgress {
            id,
            peer,
            bytes: served,
            total,
        });
    }

    /// Our recent message to `peer` whose photo is sealed as `blob`.
    fn sent_message_of(&self, peer: &PeerId, blob: &BlobHash) -> Option<MessageId> {
        let messages = self.store.messages(peer, None, SENT_SEARCH_DEPTH).ok()?;
        messages.iter().rev().find_map(|m| match &m.body {
            MessageBody::Photo { photo, .. } if m.outgoing && photo.blob == *blob => Some(m.id),
            _ => None,
        })
    }
}
