//! Profiles, posts, photos, likes, comments and follows across three or more nodes on
//! loopback.

use paperplane::{Event, ProfileUpdate};
use sha2::{Digest, Sha256};

use crate::common::{eventually, png, TestNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_change_reaches_every_node_through_a_chain() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    let mut c = TestNode::start("carol").await;
    b.connect(&a).await;
    c.connect(&b).await;
    // Each node learns its neighbours' profiles on connect.
    let alice = a.node.peer_id();
    eventually("bob knows alice", || b.node.profile(Some(alice)).is_ok()).await;

    a.node
        .set_profile(ProfileUpdate {
            bio: Some("film photos 🎞️".into()),
            business: Some(Some("Photography".into())),
            ..Default::default()
        })
        .await
        .expect("set profile");
    for n in [&mut b, &mut c] {
        let p = n
            .wait_for("alice's new profile", |e| match e {
                Event::Profile { profile }
                    if profile.peer_id == alice && !profile.bio.is_empty() =>
                {
                    Some(profile.clone())
                }
                _ => None,
            })
            .await;
        assert_eq!(p.bio, "film photos 🎞️");
        assert_eq!(p.business_category.as_deref(), Some("Photography"));
        assert_eq!(
            n.node.profile(Some(alice)).expect("stored").version,
            p.version
        );
    }
    // Carol (two hops away) resolves alice by handle.
    assert_eq!(c.node.resolve("@alice").expect("resolve"), alice);
    let _ = &mut a;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_with_photo_reaches_follower_who_fetches_and_verifies_it() {
    let mut a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    b.connect(&a).await;
    let alice = a.node.peer_id();
    b.node.follow(alice).await.expect("follow");
    a.wait_for("bob's follow", |e| {
        matches!(e, Event::Follow { followee, following: true, .. } if *followee == alice)
            .then_some(())
    })
    .await;
    assert_eq!(
        a.node.followers().expect("followers")[0].peer_id,
        b.node.peer_id()
    );

    let photo = png(1, 300_000); // more than one 256 KiB chunk
    let id = a
        .node
        .post(vec![photo.clone()], "first light 🌅".into())
        .await
        .expect("post");
    let post = b
        .wait_for("alice's post", |e| match e {
            Event::Post { post } if post.id == id => Some(post.clone()),
            _ => None,
        })
        .await;
    assert_eq!(post.caption, "first light 🌅");
    let bytes = b.node.photo(post.photos[0].hash).await.expect("photo");
    assert_eq!(bytes, photo);
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        post.photos[0].hash.to_hex()
    );

    // Like and comment travel back to the author.
    b.node.like(id).await.expect("like");
    let comment = b.node.comment(id, "wow 😍".into()).await.expect("comment");
    eventually("alice sees like and comment", || {
        let p = a.node.post_view(&id).expect("post");
        p.liked_by == vec![b.node.peer_id()] && p.comments.iter().any(|c| c.id == comment)
    })
    .await;
    b.node.unlike(id).await.expect("unlike");
    b.node.delete_comment(comment).await.expect("delete");
    eventually("alice sees unlike and deletion", || {
        let p = a.node.post_view(&id).expect("post");
        p.liked_by.is_empty() && p.comments.is_empty()
    })
    .await;
    let feed = b.node.feed(10).expect("feed");
    assert_eq!(feed.len(), 1);
    assert!(feed[0].photos[0].local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiner_catches_up_through_sync_from_a_third_node() {
    let a = TestNode::start("alice").await;
    let mut b = TestNode::start("bob").await;
    b.connect(&a).await;
    let alice = a.node.peer_id();
    b.node.follow(alice).await.expect("follow");
    let mut ids = Vec::new();
    for i in 0..3u8 {
        ids.push(
            a.node
                .post(vec![png(i, 100)], format!("post {i}"))
                .await
                .expect("post"),
        );
    }
    // Bob fetches the photos in the background; dave will need them from him once alice
    // is gone, so wait until bob holds them.
    eventually("bob has alice's posts and their photos", || {
        b.node
            .feed(10)
            .map(|f| f.len() == 3 && f.iter().all(|p| p.photos.iter().all(|ph| ph.local)))
            .unwrap_or(false)
    })
    .await;
    b.node.like(ids[0]).await.expect("like");
    b.node
        .comment(ids[1], "nice".into())
        .await
        .expect("comment");

    // Alice goes away; dave joins later, knows only bob, and follows alice.
    a.node.shutdown().await.expect("shutdown");
    let mut d = TestNode::start("dave").await;
    d.connect(&b).await;
    // Dave got alice's id out of band; bob holds her records and answers for her.
    d.node.follow(alice).await.expect("follow");
    eventually("dave has alice's posts with reactions", || {
        let Ok(feed) = d.node.feed(10) else {
            return false;
        };
        feed.len() == 3
            && feed
                .iter()
                .any(|p| p.id == ids[0] && p.liked_by == vec![b.node.peer_id()])
            && feed.iter().any(|p| p.id == ids[1] && p.comments.len() == 1)
    })
    .await;
    assert_eq!(
        d.node
            .resolve("@alice")
            .expect("profile came with the sync"),
        alice
    );
    // The photos came from bob, verified.
    let feed = d.node.feed(10).expect("feed");
    let bytes = d
        .node
        .photo(feed[0].photos[0].hash)
        .await
        .expect("photo via bob");
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        feed[0].photos[0].hash.to_hex()
    );
    let _ = &mut d;
}
