//! The public handle: [`Node`], cloneable, one async method per action, and its
//! [`EventStream`]. Writes go to the actor (which owns the swarm); reads go straight to the
//! store, which is safe to share.

use std::{sync::Arc, time::Duration};

use paperplane_protocol::{BlobHash, Handle, PeerId, RecordId};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{
    actor::{self, Command},
    config::NodeConfig,
    error::{Error, IdKind, Result},
    event::Event,
    feed,
    home::Home,
    profile::{self, ProfileUpdate},
    store::Store,
    views::{FollowView, PostView, ProfileView, Status},
};

/// A running node. Cheap to clone; every clone talks to the same node.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    me: PeerId,
    home: Home,
    store: Store,
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
    done: tokio::sync::watch::Receiver<bool>,
}

/// Live events of a node. Slow consumers skip events they fell behind on (the store keeps the
/// data; the events are notifications).
pub struct EventStream {
    rx: broadcast::Receiver<Event>,
    done: tokio::sync::watch::Receiver<bool>,
}

/// How many events the broadcast channel keeps for a consumer that has not read them yet.
/// A message sent and acknowledged makes two (`MessageSent`, `MessageDelivered`), so an app
/// with up to about 2,000 messages in flight keeps up; one that falls further behind skips
/// events (the store is the truth). Each held event is a few hundred bytes.
pub const EVENT_BUFFER: usize = 4096;

/// What [`EventStream::receive`] got.
pub(crate) enum Received {
    /// The next event (boxed: an event is far larger than a count).
    Event(Box<Event>),
    /// The consumer fell behind and this many events were dropped for it.
    Missed(u64),
}

impl EventStream {
    /// The next event, or `None` once the node has stopped (after the events it emitted
    /// before stopping).
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            match self.receive().await? {
                Received::Event(e) => return Some(*e),
                Received::Missed(n) => tracing::warn!(skipped = n, "event consumer fell behind"),
            }
        }
    }

    /// The next event, or word that some were missed (so that the caller can look at the
    /// store instead), or `None` once the node has stopped.
    pub(crate) async fn receive(&mut self) -> Option<Received> {
        let received = tokio::select! {
            biased;
            r = self.rx.recv() => r,
            _ = self.done.wait_for(|d| *d) => {
                return self.rx.try_recv().ok().map(|e| Received::Event(Box::new(e)))
            }
        };
        match received {
            Ok(e) => Some(Received::Event(Box::new(e))),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Received::Missed(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// Creates the identity and first profile in `home`. Refuses if an identity exists.
pub fn init(home: &Home, handle: &str, display_name: Option<&str>) -> Result<PeerId> {
    let handle = Handle::parse(handle)?;
    if home.is_initialised() {
        return Err(crate::home::HomeError::AlreadyInitialised(home.root().to_path_buf()).into());
    }
    let seed: [u8; 32] = rand::random();
    let me = paperplane_crypto::Identity::from_seed(seed).peer_id();
    // Validated before any file is written.
    let body = profile::initial(
        me,
        handle,
        display_name.unwrap_or_default(),
        crate::clock::now_ms(),
    )?;
    let identity = home.create_identity(seed)?;
    let store = Store::open(&home.store_path())?;
    store.put_profile_if_newer(&identity.sign_record(body))?;
    store.flush_blocking()?;
    Ok(identity.peer_id())
}

impl Node {
    /// Starts the node in `config.home`: opens the store (failing if another process holds
    /// it), starts listening and dialling, and returns once the network is up.
    pub async fn start(config: NodeConfig) -> Result<Node> {
        let identity = config.home.load_identity()?;
        // Opening may wait for a lock a closing store still holds: off the async threads.
        let path = config.home.store_path();
        let cache = config.store_cache_bytes;
        let store = tokio::task::spawn_blocking(move || Store::open_with_cache(&path, cache))
            .await
            .map_err(|e| {
                crate::store::StoreError::Db(format!("opening the store failed: {e}"))
            })??;
        let me = identity.peer_id();
        if store.profile(&me)?.is_none() {
            return Err(Error::NoOwnProfile(me));
        }
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (commands, rx) = mpsc::channel(256);
        let (done_tx, done) = tokio::sync::watch::channel(false);
        actor::spawn(actor::Parts {
            config: config.clone(),
            identity,
            store: store.clone(),
            events: events.clone(),
            commands: rx,
            done: done_tx,
        })
        .await?;
        Ok(Node {
            inner: Arc::new(Inner {
                me,
                home: config.home,
                store,
                commands,
                events,
                done,
            }),
        })
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn commands(&self) -> &mpsc::Sender<Command> {
        &self.inner.commands
    }

    pub(crate) async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .commands
            .send(make(tx))
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// This node's user.
    pub fn peer_id(&self) -> PeerId {
        self.inner.me
    }

    /// The home directory.
    pub fn home(&self) -> &Home {
        &self.inner.home
    }

    /// A stream of live events.
    pub fn events(&self) -> EventStream {
        EventStream {
            rx: self.inner.events.subscribe(),
            done: self.inner.done.clone(),
        }
    }

    /// Peer id, handle, listen addresses and connected peers.
    pub async fn status(&self) -> Result<Status> {
        self.ask(Command::Status).await
    }

    /// Dials `addr` (a multiaddr, ideally ending in `/p2p/<id>`) and waits until connected.
    /// A bare peer id is looked up in the DHT (its signed address record, else the routing
    /// tables) and dialled at what is found, relayed addresses included:
    /// [`Error::PeerNotFound`] if nothing is.
    pub async fn connect(&self, addr: &str) -> Result<PeerId> {
        let addr = addr.to_owned();
        self.ask(|reply| Command::Connect { addr, reply }).await
    }

    /// Re-runs the DHT bootstrap (a walk towards our own id that fills the routing table)
    /// and answers with the number of peers in the table at its end.
    pub async fn bootstrap(&self) -> Result<usize> {
        self.ask(Command::Bootstrap).await
    }

    /// Resolves a peer reference: a peer id, or `@handle` (or a bare handle) among known
    /// profiles.
    pub fn resolve(&self, reference: &str) -> Result<PeerId> {
        profile::resolve(&self.inner.store, &self.inner.me, reference)
    }

    /// A profile: our own with `None`.
    pub fn profile(&self, peer: Option<PeerId>) -> Result<ProfileView> {
        let peer = peer.unwrap_or(self.inner.me);
        self.inner
            .store
            .profile(&peer)?
            .map(|p| ProfileView::from(&p))
            .ok_or_else(|| Error::UnknownPeer(peer.to_string()))
    }

    /// A peer's profile, fetched if this node has never met them: the peer is looked up in
    /// the DHT by its id, dialled (through a relay if need be), and asked for its profile over
    /// `/paperplane/sync/1` — which every new connection does. Waits at most `patience`.
    pub async fn find_profile(&self, peer: PeerId, patience: Duration) -> Result<ProfileView> {
        if let Ok(known) = self.profile(Some(peer)) {
            return Ok(known);
        }
        let mut events = self.events();
        let deadline = tokio::time::Instant::now() + patience;
        let id = peer.to_string();
        match tokio::time::timeout_at(deadline, self.connect(&id)).await {
            Ok(result) => {
                result?;
            }
            Err(_) => {
                return Err(Error::DialTimedOut(format!(
                    "{peer} was not reached within {} ms",
                    patience.as_millis()
                )))
            }
        }
        loop {
            if let Ok(found) = self.profile(Some(peer)) {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(Some(_)) => {}
                Ok(None) => return Err(Error::Stopped),
                Err(_) => return Err(Error::UnknownPeer(peer.to_string())),
            }
        }
    }

    /// Every profile this node knows.
    pub fn profiles(&self) -> Result<Vec<ProfileView>> {
        Ok(self
            .inner
            .store
            .profiles()?
            .iter()
            .map(ProfileView::from)
            .collect())
    }

    /// Changes the user's profile, signs and publishes the new version.
    pub async fn set_profile(&self, update: ProfileUpdate) -> Result<ProfileView> {
        self.ask(|reply| Command::SetProfile { update, reply })
            .await
    }

    /// Posts 1–10 photos (JPEG/PNG/WebP bytes) with a caption; returns the post's id.
    pub async fn post(&self, photos: Vec<Vec<u8>>, caption: String) -> Result<RecordId> {
        self.ask(|reply| Command::Post {
            photos,
            caption,
            reply,
        })
        .await
    }

    /// Follows `peer`: subscribes to their feed, tells them, and catches up on their posts.
    pub async fn follow(&self, peer: PeerId) -> Result<()> {
        self.ask(|reply| Command::Follow {
            peer,
            following: true,
            reply,
        })
        .await
    }

    /// Stops following `peer`.
    pub async fn unfollow(&self, peer: PeerId) -> Result<()> {
        self.ask(|reply| Command::Follow {
            peer,
            following: false,
            reply,
        })
        .await
    }

    /// Whom the user follows.
    pub fn following(&self) -> Result<Vec<FollowView>> {
        feed::following(&self.inner.store, &self.inner.me).map_err(Into::into)
    }

    /// Who follows the user.
    pub fn followers(&self) -> Result<Vec<FollowView>> {
        feed::followers(&self.inner.store, &self.inner.me).map_err(Into::into)
    }

    /// Own and followed authors' posts, newest first, with likes and comments.
    pub fn feed(&self, limit: usize) -> Result<Vec<PostView>> {
        feed::feed(&self.inner.store, &self.inner.me, limit).map_err(Into::into)
    }

    /// The posts of one author this node holds, newest first (see [`feed::posts_of`]).
    pub fn posts_of(&self, author: PeerId, limit: usize) -> Result<Vec<PostView>> {
        feed::posts_of(&self.inner.store, &self.inner.me, &author, limit).map_err(Into::into)
    }

    /// One post.
    pub fn post_view(&self, id: &RecordId) -> Result<PostView> {
        let post = self.inner.store.post(id)?.ok_or_else(|| Error::NoSuch {
            kind: IdKind::Post,
            id: id.to_string(),
        })?;
        feed::post_view(&self.inner.store, &post, &self.inner.me).map_err(Into::into)
    }

    /// Resolves a post id from its hex form or a unique prefix of at least 6 digits.
    pub fn resolve_post(&self, reference: &str) -> Result<RecordId> {
        profile::resolve_id(reference, IdKind::Post, |p| {
            self.inner.store.post_ids_with_prefix(p)
        })
    }

    /// Resolves a comment id from its hex form or a unique prefix of at least 6 digits.
    pub fn resolve_comment(&self, reference: &str) -> Result<RecordId> {
        profile::resolve_id(reference, IdKind::Comment, |p| {
            self.inner.store.comment_ids_with_prefix(p)
        })
    }

    /// Likes a post.
    pub async fn like(&self, post: RecordId) -> Result<()> {
        self.ask(|reply| Command::Like {
            post,
            liked: true,
            reply,
        })
        .await
    }

    /// Takes back a like.
    pub async fn unlike(&self, post: RecordId) -> Result<()> {
        self.ask(|reply| Command::Like {
            post,
            liked: false,
            reply,
        })
        .await
    }

    /// Comments on a post; returns the comment's id.
    pub async fn comment(&self, post: RecordId, text: String) -> Result<RecordId> {
        self.ask(|reply| Command::Comment { post, text, reply })
            .await
    }

    /// Deletes one of the user's own comments.
    pub async fn delete_comment(&self, comment: RecordId) -> Result<()> {
        self.ask(|reply| Command::DeleteComment { comment, reply })
            .await
    }

    /// The bytes of a photo, fetched from peers (and verified against its hash) if this node
    /// does not hold it yet.
    pub async fn photo(&self, hash: BlobHash) -> Result<Vec<u8>> {
        if let Some(bytes) = self.inner.store.blob(&hash)? {
            return Ok(bytes);
        }
        let fetch = self.ask(|reply| Command::FetchBlob { hash, reply });
        match tokio::time::timeout(Duration::from_secs(60), fetch).await {
            Ok(r) => r?,
            Err(_) => return Err(Error::PhotoUnavailable(hash.to_hex())),
        }
        self.inner
            .store
            .blob(&hash)?
            .ok_or_else(|| Error::PhotoUnavailable(hash.to_hex()))
    }

    /// Stops the node: closes connections and flushes the store. Other clones then fail
    /// with [`Error::Stopped`].
    pub async fn shutdown(&self) -> Result<()> {
        let _ = self.ask(Command::Shutdown).await;
        let mut done = self.inner.done.clone();
        let _ = done.wait_for(|d| *d).await;
        Ok(())
    }

    /// Waits until the node has stopped (after [`Node::shutdown`] from any clone).
    pub async fn stopped(&self) {
        let mut done = self.inner.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }
}
