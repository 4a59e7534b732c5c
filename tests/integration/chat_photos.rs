//! Photos in chats between nodes on loopback: both ends see the photo, an offline recipient
//! gets it later, a photo still to fetch survives restarts of both ends, bytes that do not
//! match the message are discarded and the message marked, and bad photos are refused at
//! the sender.

use std::time::Duration;

use paperplane::{
    chat_photo::ChatPhotoState,
    protocol::{BlobHash, ChatPhoto, MessageBody, PhotoRef, ValidationError},
    store::Store,
    Error, Event, Home, MessageId, MessageView, PeerId, SendError, Wait,
};
use tempfile::TempDir;

use crate::common::{png, TestNode};

const SETTLE: Wait = Wait::Up(Duration::from_secs(10));

async fn wait_ready(n: &mut TestNode, id: MessageId) {
    n.wait_for("the photo to be ready", |e| match e {
        Event::ChatPhotoReady { id: r, .. } if *r == id => Some(()),
        Event::ChatPhotoFailed { id: f, reason, .. } if *f == id => {
            panic!("the photo failed: {reason}")
        }
        _ => None,
    })
    .await;
}

async fn wait_failed(n: &mut TestNode, id: MessageId) -> String {
    n.wait_for("the photo to fail", |e| match e {
        Event::ChatPhotoFailed { id: f, reason, .. } if *f == id => Some(reason.clone()),
        Event::ChatPhotoReady { id: r, .. } if *r == id => panic!("a bad photo was accepted"),
        _ => None,
    })
    .await
}

fn photo_state(view: &MessageView) -> ChatPhotoState {
    view.photo.as_ref().expect("a photo message").state
}

/// The sealed blob of our message `id` in the stopped node whose home is `home`: its hash
/// and bytes.
fn sealed_blob(home: &TempDir, id: &MessageId) -> (BlobHash, Vec<u8>) {
    let store = Store::open(&Home::new(home.path()).store_path()).expect("store");
    let Some(MessageBody::Photo { photo, .. }) = store.message(id).expect("read").map(|m| m.body)
    else {
        panic!("not a photo message");
    };
    let bytes = store.blob(&photo.blob).expect("read").expect("kept");
    (photo.blob, bytes)
}

fn with_store(home: &TempDir, change: impl FnOnce(&Store)) {
    let store = Store::open(&Home::new(home.path()).store_path()).expect("store");
    change(&store);
    store.flush_blocking().expect("flush");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_goes_through_and_both_ends_see_it() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    // Several chunks' worth.
    let photo = png(7, 700_000);
    let sent = a
        .node
        .send_photo(bob, photo.clone(), "the sea 🌊", SETTLE)
        .await
        .expect("send");
    assert_eq!(sent.state, "delivered");
    assert_eq!(sent.text, "the sea 🌊");
    let ours = sent.photo.as_ref().expect("a photo");
    assert_eq!(ours.hash, BlobHash::of(&photo));
    assert_eq!(
        (ours.size, ours.mime.as_str()),
        (photo.len() as u64, "image/png")
    );
    assert_eq!((ours.state, ours.local), (ChatPhotoState::Ready, true));

    wait_ready(&mut b, sent.id).await;
    let (bytes, mime) = b.node.chat_photo(&sent.id).expect("bytes");
    assert_eq!((bytes, mime), (photo.clone(), "image/png"));
    let theirs = b.node.message(&sent.id).expect("stored");
    assert_eq!(theirs.text, "the sea 🌊");
    let view = theirs.photo.as_ref().expect("a photo");
    assert_eq!((view.state, view.local), (ChatPhotoState::Ready, true));
    assert_eq!(view.hash, ours.hash);
    // The sender saw the recipient fetch it, to the last byte.
    a.wait_for("the sender's progress", |e| match e {
        Event::ChatPhotoProgress {
            id,
            peer,
            bytes,
            total,
        } if *id == sent.id && *peer == bob && bytes == total => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(a.node.chat_photo(&sent.id).expect("own copy").0, photo);
    let chat = b.node.chat(alice, None, 10).await.expect("chat");
    assert_eq!(photo_state(&chat[0]), ChatPhotoState::Ready);
    // Neither node serves the decrypted photo to whoever names its hash.
    assert!(matches!(
        b.node.photo(BlobHash::of(&photo)).await,
        Err(Error::PhotoUnavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_waits_for_an_offline_recipient() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let bob = b.node.peer_id();
    let b_home = b.stop().await;
    let photo = png(3, 300_000);
    let sent = a
        .node
        .send_photo(bob, photo.clone(), "", Wait::Queued)
        .await
        .expect("queued");
    assert_eq!(sent.state, "pending");

    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    let got = b
        .wait_for("the photo message", |e| match e {
            Event::Message { message, .. } if message.id == sent.id => Some(message.clone()),
            _ => None,
        })
        .await;
    assert_eq!(photo_state(&got), ChatPhotoState::Fetching);
    wait_ready(&mut b, sent.id).await;
    assert_eq!(b.node.chat_photo(&sent.id).expect("bytes").0, photo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_still_to_fetch_survives_restarts_of_both_ends() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let b_home = b.stop().await;
    let photo = png(9, 600_000);
    let sent = a
        .node
        .send_photo(bob, photo.clone(), "later", Wait::Queued)
        .await
        .expect("queued");
    // The sender loses the sealed photo for a while (as if it were away when asked).
    let a_home = a.stop().await;
    let (blob, sealed) = sealed_blob(&a_home, &sent.id);
    with_store(&a_home, |s| s.remove_blob(&blob).expect("remove"));

    let mut a = TestNode::start_in(a_home).await;
    let mut b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    b.wait_for("the photo message", |e| match e {
        Event::Message { message, .. } if message.id == sent.id => Some(()),
        _ => None,
    })
    .await;
    let waiting = b.node.message(&sent.id).expect("stored");
    assert_eq!(photo_state(&waiting), ChatPhotoState::Fetching);
    assert!(matches!(
        b.node.chat_photo(&sent.id),
        Err(Error::ChatPhotoNotReady { .. })
    ));

    // Both restart; the sender has the photo again.
    let b_home = b.stop().await;
    let a_home = a.stop().await;
    with_store(&a_home, |s| {
        s.put_blob(&sealed).expect("put");
    });
    a = TestNode::start_in(a_home).await;
    b = TestNode::start_in(b_home).await;
    b.connect(&a).await;
    wait_ready(&mut b, sent.id).await;
    assert_eq!(b.node.chat_photo(&sent.id).expect("bytes").0, photo);
    assert_eq!(
        photo_state(&a.node.messages(bob, None, 5).expect("chat")[0]),
        ChatPhotoState::Ready
    );
    // Still ready after another restart.
    let b_home = b.stop().await;
    let b = TestNode::start_in(b_home).await;
    let view = &b.node.messages(alice, None, 5).expect("chat")[0];
    assert_eq!(photo_state(view), ChatPhotoState::Ready);
}

/// Seals `sealed_photo` under a fresh key into the stopped sender's blobs and returns the
/// description of a photo message for it, which `tweak` may falsify.
fn planted(home: &TempDir, sealed_photo: &[u8], described: &[u8]) -> ChatPhoto {
    let (key, sealed) = paperplane_crypto::seal_attachment(&mut rand::rng(), sealed_photo);
    with_store(home, |s| {
        s.put_blob(&sealed).expect("put");
    });
    ChatPhoto {
        blob: BlobHash::of(&sealed),
        blob_size: sealed.len() as u64,
        photo: PhotoRef::for_bytes(described).expect("an image"),
        key: key.to_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photo_bytes_that_do_not_match_the_message_are_discarded() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (alice, bob) = (a.node.peer_id(), b.node.peer_id());
    let a_home = a.stop().await;
    let (shown, other) = (png(1, 2000), png(2, 2000));
    // A message that describes another photo than the one sealed.
    let lying = planted(&a_home, &other, &shown);
    // A message whose key does not open the sealed bytes.
    let mut wrong_key = planted(&a_home, &shown, &shown);
    wrong_key.key[0] ^= 1;
    let mut a = TestNode::start_in(a_home).await;
    a.connect(&b).await;

    let mut ids = Vec::new();
    for (photo, why) in [(lying, "match the message"), (wrong_key, "decrypt")] {
        let body = MessageBody::Photo {
            photo,
            text: "look".into(),
        };
        let sent = a.node.send_body(bob, body, SETTLE).await.expect("send");
        assert_eq!(sent.state, "delivered");
        let reason = wait_failed(&mut b, sent.id).await;
        assert!(reason.contains(why), "{reason}");
        let view = b.node.message(&sent.id).expect("kept");
        let photo = view.photo.as_ref().expect("a photo");
        assert_eq!(photo.state, ChatPhotoState::Failed);
        assert_eq!(photo.error.as_deref(), Some(reason.as_str()));
        assert!(!photo.local);
        assert!(matches!(
            b.node.chat_photo(&sent.id),
            Err(Error::ChatPhotoNotReady {
                state: "failed",
                ..
            })
        ));
        ids.push(sent.id);
    }
    // Nothing was kept, and the marks survive a restart.
    let b_home = b.stop().await;
    with_store(&b_home, |s| {
        for bytes in [&shown, &other] {
            assert!(!s.has_chat_photo(&BlobHash::of(bytes)).expect("read"));
            assert!(!s.has_blob(&BlobHash::of(bytes)).expect("read"));
        }
    });
    let b = TestNode::start_in(b_home).await;
    for m in b.node.messages(alice, None, 10).expect("chat") {
        assert!(ids.contains(&m.id));
        assert_eq!(photo_state(&m), ChatPhotoState::Failed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_photos_are_refused_at_the_sender() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let bob: PeerId = b.node.peer_id();
    let send = |bytes: Vec<u8>, to: PeerId| {
        let node = a.node.clone();
        async move { node.send_photo(to, bytes, "", Wait::Queued).await }
    };
    assert_eq!(
        send(b"GIF89a not ours".to_vec(), bob)
            .await
            .expect_err("refused"),
        SendError::Invalid(ValidationError::NotAnImage)
    );
    let huge = png(1, 8 * 1024 * 1024);
    assert!(matches!(
        send(huge, bob).await.expect_err("refused"),
        SendError::Invalid(ValidationError::PhotoTooLarge { .. })
    ));
    assert_eq!(
        send(png(1, 100), a.node.peer_id())
            .await
            .expect_err("refused"),
        SendError::ToSelf
    );
    a.node.block(bob).await.expect("block");
    assert_eq!(
        send(png(1, 100), bob).await.expect_err("refused"),
        SendError::Blocked
    );
    assert_eq!(a.node.outbox_len(), 0);
    assert!(a.node.messages(bob, None, 10).expect("chat").is_empty());
}

/// Serves `n` on a loopback API port and returns a client for it (the server stops with the
/// test's runtime).
async fn api_client(n: &TestNode) -> paperplane_cli::client::Client {
    let home = Home::new(n.dir.path());
    let server = paperplane::api::Server::bind(n.node.clone(), "127.0.0.1:0")
        .await
        .expect("bind");
    home.write_api_addr(&server.local_addr().to_string())
        .expect("addr");
    tokio::spawn(server.run(std::future::pending()));
    paperplane_cli::client::Client::for_home(&home).expect("client")
}

fn api_status(e: &paperplane_cli::client::ClientError) -> u16 {
    match e {
        paperplane_cli::client::ClientError::Api { status, .. } => *status,
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_sends_a_photo_and_serves_it_once_decrypted() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    a.meet(&mut b).await;
    let (ca, cb) = (api_client(&a).await, api_client(&b).await);
    let photo = png(5, 50_000);
    let sent = ca
        .send_chat_photo("@bob", &photo, "from the API", Some(10_000))
        .await
        .expect("send");
    assert_eq!(sent.state, "delivered");
    let id = sent.id.to_hex();
    wait_ready(&mut b, sent.id).await;
    let (bytes, mime) = cb.chat_photo(&id).await.expect("photo");
    assert_eq!((bytes, mime.as_str()), (photo.clone(), "image/png"));
    assert_eq!(ca.chat_photo(&id).await.expect("own").0, photo);
    let got = cb.message(&id).await.expect("message");
    assert_eq!(got.photo.expect("photo").state, ChatPhotoState::Ready);

    // Refusals: not an image, a text message, no such message, a malformed id.
    let e = ca
        .send_chat_photo("@bob", b"plain text", "", None)
        .await
        .expect_err("not an image");
    assert_eq!(api_status(&e), 400);
    let text = ca.send_message("@bob", "hi", Some(0)).await.expect("send");
    let e = ca
        .chat_photo(&text.id.to_hex())
        .await
        .expect_err("no photo");
    assert_eq!(api_status(&e), 404);
    let e = ca
        .chat_photo(&"ab".repeat(16))
        .await
        .expect_err("no message");
    assert_eq!(api_status(&e), 404);
    assert_eq!(
        api_status(&ca.chat_photo("xyz").await.expect_err("bad")),
        400
    );
}
