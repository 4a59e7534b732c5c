//! Peers that abuse `/paperplane/sync/1` and `/paperplane/blob/1`: a responder that always
//! has "more" (the same posts, endless new ones, more than asked for), a requester that asks
//! for chunks or sync pages in a tight loop, and one that holds streams open without reading.
//! The node stops paging, refuses beyond each peer's budget and bounds the open streams, while
//! an honest catch-up of many authors from one peer still completes.

use std::{io, time::Duration};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, StreamExt};
use libp2p::{
    noise,
    request_response::{self, OutboundFailure, ProtocolSupport},
    swarm::{NetworkBehaviour, SwarmEvent},
    tcp, yamux, Multiaddr, StreamProtocol, Swarm, SwarmBuilder,
};
use paperplane::{
    net::{self, BLOB_PROTOCOL, MAX_BLOB_STREAMS},
    protocol::{
        decode, encode,
        limits::{
            MAX_BLOB_REQUEST_BYTES, MAX_BLOB_RESPONSE_BYTES, MAX_SYNC_POSTS,
            MAX_SYNC_REQUEST_BYTES, MAX_SYNC_RESPONSE_BYTES,
        },
        BlobHash, BlobRequest, BlobResponse, PeerId, PhotoRef, Post, Signed, SyncRequest,
        SyncResponse,
    },
    serving::{BLOB_CHUNKS_PER_MINUTE, SYNC_RESPONSES_PER_MINUTE},
    sync_rules::MAX_SYNC_PAGES,
    Clock, Event, Home, Node, NodeConfig,
};
use paperplane_crypto::Identity;
use tokio::sync::mpsc;

use crate::common::{eventually, png, TestNode};

/// How long a node that has stopped paging must stay silent. It would send a next page at once
/// (in the same step that handles the response), so this is a generous margin; the assertions
/// hold whatever it is ("at most N requests ever").
const QUIET: Duration = Duration::from_millis(1_500);

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// A bare swarm for `identity` (TCP, Noise, Yamux) with `behaviour`.
fn bare_swarm<B: NetworkBehaviour>(identity: &Identity, behaviour: B) -> Swarm<B> {
    SwarmBuilder::with_existing_identity(identity.libp2p_keypair())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| behaviour)
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// A post by `author` with sequence number `seq`.
fn post(author: &Identity, seq: u64) -> Signed<Post> {
    author.sign_record(Post {
        author: author.peer_id(),
        seq,
        created_at: now(),
        caption: format!("post {seq}"),
        photos: vec![PhotoRef::for_bytes(&png(1, 50)).expect("photo")],
    })
}

/// Runs mallory as a sync responder that dials `addr` and answers every request with
/// `answer`; each request she gets is reported on the returned channel.
fn spawn_sync_responder(
    mallory: &Identity,
    addr: Multiaddr,
    mut answer: impl FnMut(&SyncRequest) -> SyncResponse + Send + 'static,
) -> mpsc::UnboundedReceiver<SyncRequest> {
    let mut swarm = bare_swarm(mallory, net::sync_behaviour(ProtocolSupport::Full));
    swarm.dial(addr).expect("dial");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            if let SwarmEvent::Behaviour(request_response::Event::Message {
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            }) = swarm.select_next_some().await
            {
                let req: SyncRequest =
                    decode(&request, MAX_SYNC_REQUEST_BYTES).expect("sync request");
                let resp = answer(&req);
                let _ = swarm.behaviour_mut().send_response(channel, encode(&resp));
                if tx.send(req).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Counts the requests that arrive until none has for [`QUIET`], or until there are more
/// than `most` (then the node did not stop).
async fn requests_until_quiet(rx: &mut mpsc::UnboundedReceiver<SyncRequest>, most: usize) -> usize {
    let mut n = 0;
    while n <= most {
        match tokio::time::timeout(QUIET, rx.recv()).await {
            Ok(Some(_)) => n += 1,
            Ok(None) | Err(_) => break,
        }
    }
    n
}

/// Waits until the node has refused `n` records in all.
async fn rejected(a: &TestNode, n: u64) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while a.node.status().await.expect("status").rejected_records < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("rejection counted in time");
}

/// Alice follows a fresh mallory (identity `seed`), who then connects to her and answers her
/// sync requests with `answer`.
async fn alice_follows_mallory(
    seed: u8,
    answer: impl FnMut(&SyncRequest) -> SyncResponse + Send + 'static,
) -> (TestNode, Identity, mpsc::UnboundedReceiver<SyncRequest>) {
    let a = TestNode::start("alice").await;
    let mallory = Identity::from_seed([seed; 32]);
    a.node.follow(mallory.peer_id()).await.expect("follow");
    let addr = a.addr().await.parse().expect("addr");
    let rx = spawn_sync_responder(&mallory, addr, answer);
    (a, mallory, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_repeating_the_same_posts_with_more_is_asked_once_more_then_refused() {
    let mallory = Identity::from_seed([91; 32]);
    let posts: Vec<Signed<Post>> = (1..=3).map(|seq| post(&mallory, seq)).collect();
    let (mut a, _, mut requests) = alice_follows_mallory(91, move |_| SyncResponse {
        profile: None,
        posts: posts.clone(),
        reactions: Vec::new(),
        more: true,
    })
    .await;

    // The first answer is new to alice: stored, and the next page is asked for after it.
    a.wait_for("mallory's third post", |e| {
        matches!(e, Event::Post { post } if post.seq == 3).then_some(())
    })
    .await;
    // The second carries posts at or below what was asked: refused whole, and the end.
    rejected(&a, 1).await;
    let asked = requests_until_quiet(&mut requests, 2).await;
    assert_eq!(asked, 2, "the first page and one more, never again");
    assert_eq!(a.node.feed(10).expect("feed").len(), 3);
    assert_eq!(a.node.status().await.expect("status").rejected_records, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_with_endless_new_posts_is_asked_for_at_most_the_page_cap() {
    let author = Identity::from_seed([92; 32]);
    // Each page is one new, validly signed post after the one asked for.
    let (mut a, mallory, mut requests) = alice_follows_mallory(92, move |req| SyncResponse {
        profile: None,
        posts: vec![post(&author, req.since_seq + 1)],
        reactions: Vec::new(),
        more: true,
    })
    .await;
    let last = u64::from(MAX_SYNC_PAGES);
    a.wait_for("the post of the last page", |e| {
        matches!(e, Event::Post { post } if post.seq == last).then_some(())
    })
    .await;
    let asked = requests_until_quiet(&mut requests, MAX_SYNC_PAGES as usize).await;
    assert_eq!(
        asked, MAX_SYNC_PAGES as usize,
        "one catch-up, at most the cap"
    );
    let stored = a.node.feed(1_000).expect("feed");
    assert_eq!(stored.len(), MAX_SYNC_PAGES as usize);
    assert!(stored.iter().all(|p| p.author == mallory.peer_id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_with_more_posts_than_asked_for_is_refused_unread() {
    let mallory = Identity::from_seed([93; 32]);
    let too_many: Vec<Signed<Post>> = (1..=u64::from(MAX_SYNC_POSTS) + 1)
        .map(|seq| post(&mallory, seq))
        .collect();
    let (a, _, mut requests) = alice_follows_mallory(93, move |_| SyncResponse {
        profile: None,
        posts: too_many.clone(),
        reactions: Vec::new(),
        more: true,
    })
    .await;
    rejected(&a, 1).await;
    let asked = requests_until_quiet(&mut requests, 1).await;
    assert_eq!(asked, 1, "its `more` is not followed");
    assert!(
        a.node.feed(10).expect("feed").is_empty(),
        "none of it stored"
    );
    assert_eq!(a.node.status().await.expect("status").rejected_records, 1);
}

/// Starts a node whose clock stands still at `at`, so a rate window never ends mid-test.
async fn start_frozen(handle: &str, at: u64) -> TestNode {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = Home::new(dir.path());
    paperplane::init(&home, handle, Some(handle)).expect("init");
    let config = NodeConfig {
        clock: Clock::from_fn(move || at),
        ..NodeConfig::loopback(home)
    };
    let node = Node::start(config).await.expect("start");
    let events = node.events();
    TestNode { node, events, dir }
}

/// Sends `requests` one after another from a bare peer to `to` at `addr` over `behaviour`
/// and returns the responses in order.
async fn ask_in_a_loop(
    identity: &Identity,
    behaviour: request_response::Behaviour<net::FrameCodec>,
    to: PeerId,
    addr: Multiaddr,
    requests: Vec<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let mut swarm = bare_swarm(identity, behaviour);
    swarm.add_peer_address(to, addr);
    let mut responses = Vec::new();
    for request in requests {
        swarm.behaviour_mut().send_request(&to, request);
        let response = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::Behaviour(request_response::Event::Message {
                        message: request_response::Message::Response { response, .. },
                        ..
                    }) => return response,
                    SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                        error,
                        ..
                    }) => panic!("request failed: {error}"),
                    _ => {}
                }
            }
        })
        .await
        .expect("answered in time");
        responses.push(response);
    }
    responses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_chunks_beyond_a_peers_budget_are_refused() {
    let b = start_frozen("bob", now()).await;
    let photo = png(5, 1_000);
    let hash = BlobHash::of(&photo);
    b.node
        .post(vec![photo.clone()], "one photo".into())
        .await
        .expect("post");
    let bob = b.node.peer_id();
    let addr: Multiaddr = b.addr().await.parse().expect("addr");

    let eve = Identity::from_seed([94; 32]);
    let budget = BLOB_CHUNKS_PER_MINUTE as usize;
    let request = encode(&BlobRequest { hash, offset: 0 });
    let responses = ask_in_a_loop(
        &eve,
        net::blob_behaviour(ProtocolSupport::Outbound),
        bob,
        addr,
        vec![request; budget + 5],
    )
    .await;
    let answers: Vec<BlobResponse> = responses
        .iter()
        .map(|r| decode(r, MAX_BLOB_RESPONSE_BYTES).expect("blob response"))
        .collect();
    let chunk = BlobResponse::Chunk {
        total_len: photo.len() as u64,
        bytes: photo.clone(),
    };
    assert!(
        answers[..budget].iter().all(|r| *r == chunk),
        "served up to the budget"
    );
    assert!(
        answers[budget..]
            .iter()
            .all(|r| *r == BlobResponse::Refused("rate limited".into())),
        "refused beyond it"
    );

    // Another peer has its own budget.
    let mut a = TestNode::start("alice").await;
    a.connect(&b).await;
    assert_eq!(a.node.photo(hash).await.expect("alice's fetch"), photo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_requests_beyond_a_peers_budget_get_empty_answers() {
    let b = start_frozen("bob", now()).await;
    let bob = b.node.peer_id();
    let addr: Multiaddr = b.addr().await.parse().expect("addr");
    let eve = Identity::from_seed([95; 32]);
    let budget = SYNC_RESPONSES_PER_MINUTE as usize;
    let request = encode(&SyncRequest {
        author: bob,
        since_seq: 0,
        limit: MAX_SYNC_POSTS,
    });
    let responses = ask_in_a_loop(
        &eve,
        net::sync_behaviour(ProtocolSupport::Outbound),
        bob,
        addr,
        vec![request; budget + 3],
    )
    .await;
    let answers: Vec<SyncResponse> = responses
        .iter()
        .map(|r| decode(r, MAX_SYNC_RESPONSE_BYTES).expect("sync response"))
        .collect();
    assert!(
        answers[..budget]
            .iter()
            .all(|r| r.profile.as_ref().is_some_and(|p| p.body.author == bob)),
        "bob's profile up to the budget"
    );
    assert!(
        answers[budget..]
            .iter()
            .all(|r| *r == SyncResponse::default()),
        "nothing beyond it"
    );
}

/// A blob requester that reads the first bytes of each answer and then nothing more, so the
/// node's answer (a full chunk, more than the stream's flow-control window) stays unsent.
#[derive(Clone, Default)]
struct Stalling;

impl request_response::Codec for Stalling {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(io::Error::other("this peer serves nothing"))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut len = [0u8; 4];
        io.read_exact(&mut len).await?;
        futures::future::pending().await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        net::codec::write_frame(io, &req, MAX_BLOB_REQUEST_BYTES).await?;
        futures::AsyncWriteExt::close(io).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(io::Error::other("this peer serves nothing"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_holding_blob_streams_open_gets_no_more_than_the_stream_limit() {
    let b = TestNode::start("bob").await;
    // A photo larger than a chunk: every answer is a full chunk.
    let photo = png(6, 300_000);
    let hash = BlobHash::of(&photo);
    b.node.post(vec![photo], "big".into()).await.expect("post");
    let bob = b.node.peer_id();
    let addr: Multiaddr = b.addr().await.parse().expect("addr");

    let eve = Identity::from_seed([96; 32]);
    let behaviour = request_response::Behaviour::with_codec(
        Stalling,
        [(BLOB_PROTOCOL, ProtocolSupport::Outbound)],
        request_response::Config::default().with_request_timeout(Duration::from_secs(60)),
    );
    let mut swarm = bare_swarm(&eve, behaviour);
    swarm.add_peer_address(bob, addr);
    let extra = 4;
    for _ in 0..MAX_BLOB_STREAMS + extra {
        swarm
            .behaviour_mut()
            .send_request(&bob, encode(&BlobRequest { hash, offset: 0 }));
    }
    // Bob holds as many streams as the limit, each waiting for eve to read its answer, and
    // refuses every stream beyond it at once.
    let refused = tokio::time::timeout(Duration::from_secs(8), async move {
        let mut refused = 0;
        while refused < extra {
            if let SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                error, ..
            }) = swarm.select_next_some().await
            {
                assert!(
                    !matches!(error, OutboundFailure::Timeout),
                    "only refusals, not timeouts"
                );
                refused += 1;
            }
        }
        refused
    })
    .await
    .expect("the streams beyond the limit were refused");
    assert_eq!(refused, extra);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_of_many_authors_and_their_photos_from_one_peer_completes() {
    // Bob holds a post with a photo by each of 24 authors; alice follows them all and
    // catches up from bob alone, well beyond the few requests in flight a peer gets.
    let authors: Vec<Identity> = (0..24)
        .map(|n| Identity::from_seed([100 + n; 32]))
        .collect();
    let b = TestNode::start("bob").await;
    let b_home = b.stop().await;
    {
        let store =
            paperplane::store::Store::open(&Home::new(b_home.path()).store_path()).expect("store");
        for (n, author) in authors.iter().enumerate() {
            let photo = png(n as u8, 2_000);
            store.put_blob(&photo).expect("blob");
            let post = author.sign_record(Post {
                author: author.peer_id(),
                seq: 1,
                created_at: now(),
                caption: format!("by author {n}"),
                photos: vec![PhotoRef::for_bytes(&photo).expect("photo")],
            });
            store.insert_post(&post).expect("post");
        }
    }
    let b = TestNode::start_in(b_home).await;
    let mut a = TestNode::start("alice").await;
    for author in &authors {
        a.node.follow(author.peer_id()).await.expect("follow");
    }
    a.connect(&b).await;
    let node = a.node.clone();
    eventually("every author's post and photo", || {
        node.feed(100).is_ok_and(|feed| {
            feed.len() == authors.len() && feed.iter().all(|p| p.photos.iter().all(|ph| ph.local))
        })
    })
    .await;
    assert_eq!(a.node.status().await.expect("status").rejected_records, 0);
}
