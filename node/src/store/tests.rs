use super::*;
use paperplane_crypto::Identity;
use paperplane_protocol::{BlobHash, ImageKind, PhotoRef};

use super::chat_state::ChatItem;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(&dir.path().join("db")).expect("open");
    (dir, s)
}

fn id(n: u8) -> Identity {
    Identity::from_seed([n; 32])
}

fn profile(who: &Identity, handle: &str, version: u64) -> Signed<Profile> {
    who.sign_record(Profile {
        author: who.peer_id(),
        version,
        updated_at: version,
        handle: Handle::parse(handle).expect("handle"),
        display_name: String::new(),
        bio: String::new(),
        avatar: None,
        business: None,
        messaging: None,
    })
}

fn post(who: &Identity, seq: u64, caption: &str) -> Signed<Post> {
    who.sign_record(Post {
        author: who.peer_id(),
        seq,
        created_at: seq,
        caption: caption.into(),
        photos: vec![PhotoRef {
            hash: BlobHash([seq as u8; 32]),
            size: 1,
            kind: ImageKind::Png,
        }],
    })
}

#[test]
fn newest_profile_wins_and_the_handle_index_follows_it() {
    let (_d, s) = store();
    let a = id(1);
    assert!(s
        .put_profile_if_newer(&profile(&a, "alice", 2))
        .expect("put"));
    assert!(!s
        .put_profile_if_newer(&profile(&a, "old", 1))
        .expect("older"));
    assert!(!s
        .put_profile_if_newer(&profile(&a, "same", 2))
        .expect("equal"));
    assert!(s
        .put_profile_if_newer(&profile(&a, "alice.new", 3))
        .expect("newer"));
    let old = Handle::parse("alice").expect("h");
    let new = Handle::parse("alice.new").expect("h");
    assert!(s.peers_with_handle(&old).expect("scan").is_empty());
    assert_eq!(s.peers_with_handle(&new).expect("scan"), vec![a.peer_id()]);
    // Two people may pick the same handle: both are returned.
    let b = id(2);
    s.put_profile_if_newer(&profile(&b, "alice.new", 1))
        .expect("put");
    assert_eq!(s.peers_with_handle(&new).expect("scan").len(), 2);
    // "alice" must not match "alice.new" by prefix.
    s.put_profile_if_newer(&profile(&id(3), "alice", 1))
        .expect("put");
    assert_eq!(
        s.peers_with_handle(&old).expect("scan"),
        vec![id(3).peer_id()]
    );
}

#[test]
fn posts_insert_paginate_and_detect_equivocation() {
    let (_d, s) = store();
    let a = id(1);
    for seq in 1..=5 {
        assert_eq!(
            s.insert_post(&post(&a, seq, "p")).expect("insert"),
            PostInsert::New
        );
    }
    assert_eq!(
        s.insert_post(&post(&a, 3, "p")).expect("dup"),
        PostInsert::Duplicate
    );
    assert_eq!(
        s.insert_post(&post(&a, 3, "other")).expect("conflict"),
        PostInsert::Conflict
    );
    assert_eq!(s.latest_seq(&a.peer_id()).expect("seq"), 5);
    assert_eq!(s.latest_seq(&id(2).peer_id()).expect("seq"), 0);
    let (page, more) = s.posts_since(&a.peer_id(), 1, 2).expect("page");
    assert_eq!(
        page.iter().map(|p| p.body.seq).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert!(more);
    let (page, more) = s.posts_since(&a.peer_id(), 3, 10).expect("page");
    assert_eq!(page.len(), 2);
    assert!(!more);
    let recent = s.recent_posts(&a.peer_id(), 2).expect("recent");
    assert_eq!(
        recent.iter().map(|p| p.body.seq).collect::<Vec<_>>(),
        vec![5, 4]
    );
    let p1 = post(&a, 1, "p");
    let hex = p1.id().to_hex();
    assert_eq!(
        s.post_ids_with_prefix(&hex[..7]).expect("prefix"),
        vec![p1.id()]
    );
    assert_eq!(s.post(&p1.id()).expect("get"), Some(p1));
}

#[test]
fn an_id_prefix_that_is_not_hex_matches_nothing() {
    let (_d, s) = store();
    let p = post(&id(1), 1, "p");
    s.insert_post(&p).expect("insert");
    // "aé": an odd number of bytes whose even cut falls inside the "é".
    for prefix in ["aé", "é", "zz", "0x", "\u{FFFD}a"] {
        assert_eq!(s.post_ids_with_prefix(prefix).expect("prefix"), vec![]);
        assert_eq!(s.comment_ids_with_prefix(prefix).expect("prefix"), vec![]);
    }
    let hex = p.id().to_hex();
    assert_eq!(
        s.post_ids_with_prefix(&hex[..5]).expect("prefix"),
        vec![p.id()]
    );
}

#[test]
fn likes_and_follows_are_last_writer_wins() {
    let (_d, s) = store();
    let (a, b) = (id(1), id(2));
    let p = post(&a, 1, "p");
    let like = |liked, at| {
        b.sign_record(Like {
            author: b.peer_id(),
            post: p.id(),
            post_author: a.peer_id(),
            liked,
            at,
        })
    };
    assert!(s.put_like_if_newer(&like(true, 10)).expect("like"));
    assert!(!s.put_like_if_newer(&like(false, 9)).expect("older unlike"));
    assert!(s.put_like_if_newer(&like(false, 11)).expect("unlike"));
    assert!(!s.put_like_if_newer(&like(false, 11)).expect("replay"));
    assert!(!s.likes_of(&p.id()).expect("likes")[0].body.liked);

    let follow = |following, at| {
        b.sign_record(Follow {
            author: b.peer_id(),
            followee: a.peer_id(),
            following,
            at,
        })
    };
    assert!(s.put_follow_if_newer(&follow(true, 5)).expect("follow"));
    assert!(s.follows(&b.peer_id(), &a.peer_id()).expect("q"));
    assert_eq!(s.followers(&a.peer_id()).expect("followers").len(), 1);
    assert!(!s.put_follow_if_newer(&follow(false, 4)).expect("stale"));
    assert!(s.put_follow_if_newer(&follow(false, 6)).expect("unfollow"));
    assert!(s.followers(&a.peer_id()).expect("followers").is_empty());
    assert!(s.following(&b.peer_id()).expect("following").is_empty());
    assert_eq!(s.follow_records_of(&a.peer_id()).expect("records").len(), 1);
}

#[test]
fn a_deleted_comment_stays_deleted_even_if_it_arrives_late() {
    let (_d, s) = store();
    let (a, b, m) = (id(1), id(2), id(3));
    let p = post(&a, 1, "p");
    let comment = b.sign_record(Comment {
        author: b.peer_id(),
        post: p.id(),
        post_author: a.peer_id(),
        created_at: 1,
        text: "hi".into(),
    });
    let delete = |who: &Identity| {
        who.sign_record(CommentDelete {
            author: who.peer_id(),
            comment: comment.id(),
            post: p.id(),
            post_author: a.peer_id(),
            at: 2,
        })
    };
    // Someone else's deletion does nothing.
    assert!(s.insert_comment(&comment).expect("insert"));
    assert!(!s.insert_comment(&comment).expect("dup"));
    assert!(!s.delete_comment(&delete(&m)).expect("not author"));
    assert_eq!(s.comments_of(&p.id()).expect("comments").len(), 1);
    assert!(s.delete_comment(&delete(&b)).expect("author"));
    assert!(s.comments_of(&p.id()).expect("comments").is_empty());
    assert!(!s.insert_comment(&comment).expect("resurrect"));
    // Sync hands the deletion on with the post.
    assert_eq!(
        s.comment_deletes_of(&p.id()).expect("deletes"),
        vec![delete(&b)]
    );
    assert!(s
        .comment_deletes_of(&post(&a, 2, "other").id())
        .expect("deletes")
        .is_empty());

    // Deletion first, comment later (out of order delivery).
    let (_d2, s2) = store();
    assert!(!s2.delete_comment(&delete(&b)).expect("early delete"));
    assert!(!s2.insert_comment(&comment).expect("late comment"));
    assert!(s2.comment(&comment.id()).expect("get").is_none());
}

#[test]
fn data_survives_reopen_and_a_second_open_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let a = id(1);
    {
        let s = Store::open(&path).expect("open");
        s.put_profile_if_newer(&profile(&a, "alice", 1))
            .expect("put");
        s.insert_post(&post(&a, 1, "kept")).expect("post");
        let h = s.put_blob(b"\x89PNG\r\n\x1a\nbytes").expect("blob");
        assert!(s.has_blob(&h).expect("has"));
        assert!(matches!(Store::open(&path), Err(StoreError::Locked(_))));
        s.flush_blocking().expect("flush");
    }
    let s = Store::open(&path).expect("reopen");
    assert_eq!(
        s.profile(&a.peer_id())
            .expect("get")
            .map(|p| p.body.version),
        Some(1)
    );
    assert_eq!(s.latest_seq(&a.peer_id()).expect("seq"), 1);
}

#[test]
fn settling_the_outbox_decides_each_messages_state() {
    use messages::{DeliveryState, StoredMessage};
    use paperplane_protocol::{MessageBody, MessageId};
    let (_d, s) = store();
    let bob = id(2).peer_id();
    let conv = paperplane_crypto::Conversation::new(bob);
    let outgoing = |n: u8| StoredMessage {
        id: MessageId([n; 16]),
        peer: bob,
        outgoing: true,
        sent_at: u64::from(n),
        stored_at: u64::from(n),
        body: MessageBody::Text(format!("message {n}")),
        state: DeliveryState::Pending,
    };
    let rows: Vec<_> = (1..=3)
        .map(|n| (ChatItem::Shown(outgoing(n)), vec![n; 40]))
        .collect();
    let last = s
        .queue_outgoing(&id(1).peer_id(), &bob, &conv, &rows)
        .expect("queue")
        .0
        .expect("rows written");
    assert_eq!(
        s.outbox_peers().expect("peers"),
        vec![(bob, last.clone())],
        "the peer with its last row"
    );
    let queued = s.outbox_for(&bob, None, &last, 10).expect("outbox");
    assert_eq!(queued.len(), 3);
    assert_eq!(
        s.outbox_for(&bob, None, &queued[1].0, 10)
            .expect("outbox")
            .len(),
        2,
        "nothing past the durable mark"
    );
    // The outbox is in the order the messages were sent.
    let ids: Vec<_> = queued.iter().map(|(_, e)| e.message).collect();
    assert_eq!(ids, (1..=3).map(|n| MessageId([n; 16])).collect::<Vec<_>>());
    s.settle(&[
        (queued[0].0.clone(), DeliveryState::Delivered),
        (queued[1].0.clone(), DeliveryState::Failed("refused".into())),
    ])
    .expect("settle");
    let state = |n: u8| {
        s.message(&MessageId([n; 16]))
            .expect("read")
            .expect("stored")
            .state
    };
    assert_eq!(state(1), DeliveryState::Delivered);
    assert_eq!(state(2), DeliveryState::Failed("refused".into()));
    assert_eq!(state(3), DeliveryState::Pending);
    // The chat history resolves the same states, and only the pending row is left.
    let history: Vec<_> = s
        .messages(&bob, None, 10)
        .expect("history")
        .into_iter()
        .map(|m| m.state)
        .collect();
    assert_eq!(history, vec![state(1), state(2), state(3)]);
    assert_eq!(
        s.first_message(&bob).expect("first").map(|m| m.state),
        Some(state(1))
    );
    let left = s
        .outbox_for(&bob, Some(&queued[0].0), &last, 10)
        .expect("outbox");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].1.message, MessageId([3; 16]));
}

#[test]
fn message_ids_are_unique_per_sender_not_across_senders() {
    use messages::{DeliveryState, Folder, Received, StoredMessage};
    use paperplane_protocol::{MessageBody, MessageId};
    let (_d, s) = store();
    let (alice, mallory) = (id(1).peer_id(), id(3).peer_id());
    let incoming = |from: PeerId, text: &str| StoredMessage {
        id: MessageId([7; 16]),
        peer: from,
        outgoing: false,
        sent_at: 10,
        stored_at: 10,
        body: MessageBody::Text(text.into()),
        state: DeliveryState::Received,
    };
    let accept = |m: &StoredMessage| {
        let conv = paperplane_crypto::Conversation::new(m.peer);
        let items = [ChatItem::Shown(m.clone())];
        s.accept_incoming(&id(1).peer_id(), &m.peer, &conv, &items, Folder::Requests)
            .expect("accept")
    };
    // Mallory learned the id alice will use and sends it first: alice's message is still new.
    assert!(matches!(
        accept(&incoming(mallory, "first!"))[..],
        [Received::New { .. }]
    ));
    assert!(matches!(
        accept(&incoming(alice, "hello"))[..],
        [Received::New { .. }]
    ));
    // Alice's retry is a duplicate.
    assert_eq!(accept(&incoming(alice, "hello")), vec![Received::Duplicate]);
    assert!(s
        .has_message_with(&alice, &MessageId([7; 16]))
        .expect("has"));
    let texts = |p: &PeerId| -> Vec<String> {
        s.messages(p, None, 10)
            .expect("messages")
            .iter()
            .map(|m| m.body.text().to_owned())
            .collect()
    };
    assert_eq!(texts(&alice), ["hello"]);
    assert_eq!(texts(&mallory), ["first!"]);
    // Deleting mallory's chat leaves alice's message and its index entry, and takes
    // mallory's sessions with it.
    s.delete_chat(&mallory, Some(&paperplane_crypto::ReplayCache::new()))
        .expect("delete");
    assert!(s.conversation(&mallory).expect("read").is_none());
    assert!(s.conversation(&alice).expect("read").is_some());
    assert!(s
        .has_message_with(&alice, &MessageId([7; 16]))
        .expect("has"));
    assert!(!s
        .has_message_with(&mallory, &MessageId([7; 16]))
        .expect("has"));
}

#[test]
fn an_index_of_the_first_layout_is_rewritten_at_open() {
    use messages::{DeliveryState, Folder, StoredMessage};
    use paperplane_protocol::{MessageBody, MessageId};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let alice = id(1).peer_id();
    {
        let s = Store::open(&path).expect("open");
        let m = StoredMessage {
            id: MessageId([5; 16]),
            peer: alice,
            outgoing: false,
            sent_at: 10,
            stored_at: 10,
            body: MessageBody::Text("old".into()),
            state: DeliveryState::Received,
        };
        let conv = paperplane_crypto::Conversation::new(alice);
        s.accept_incoming(
            &id(9).peer_id(),
            &alice,
            &conv,
            &[ChatItem::Shown(m)],
            Folder::Inbox,
        )
        .expect("accept");
        // Turn the entry into the first layout: the id alone.
        let (k, v) = s.message_index.iter().next().expect("entry").expect("read");
        s.message_index.remove(&k).expect("remove");
        s.message_index.insert(&k[..16], v).expect("insert");
        s.flush_blocking().expect("flush");
    }
    let s = Store::open(&path).expect("reopen");
    assert!(s
        .has_message_with(&alice, &MessageId([5; 16]))
        .expect("has"));
    assert_eq!(
        s.message(&MessageId([5; 16]))
            .expect("read")
            .map(|m| m.body.text().to_owned()),
        Some("old".to_owned())
    );
    assert!(s
        .message_index
        .iter()
        .keys()
        .all(|k| k.expect("key").len() == 16 + 38));
}

#[test]
fn profiles_of_unrelated_peers_are_a_bounded_cache() {
    let (_d, s) = store();
    let who: Vec<Identity> = (10..16).map(id).collect();
    let put = |i: usize| {
        s.put_profile_if_newer(&profile(&who[i], &format!("stranger{i}"), 1))
            .expect("put");
    };
    let known = who[1].peer_id();
    let relevant = |p: &PeerId| Ok(*p == known);
    let mut removed = Vec::new();
    for (i, w) in who.iter().enumerate().take(5) {
        put(i);
        removed.extend(
            s.cache_other_profile(&w.peer_id(), 3, relevant)
                .expect("cache"),
        );
    }
    // 0 went first; 1 became someone the user knows, so it stays (and leaves the cache).
    assert_eq!(removed, vec![who[0].peer_id()]);
    assert!(s.profile(&who[0].peer_id()).expect("read").is_none());
    assert!(s
        .peers_with_handle(&Handle::parse("stranger0").expect("handle"))
        .expect("handles")
        .is_empty());
    assert!(s.profile(&known).expect("read").is_some());
    // A newer arrival of 2 makes it the youngest: 3 goes before it.
    s.cache_other_profile(&who[2].peer_id(), 3, relevant)
        .expect("cache");
    put(5);
    let removed = s
        .cache_other_profile(&who[5].peer_id(), 3, relevant)
        .expect("cache");
    assert_eq!(removed, vec![who[3].peer_id()]);
    for i in [2, 4, 5] {
        assert!(s.profile(&who[i].peer_id()).expect("read").is_some(), "{i}");
    }
}

#[test]
fn changes_that_arrive_before_their_message_apply_when_it_does() {
    use chat_state::{ControlOutcome, ControlRow};
    use messages::{DeliveryState, Folder, Received, StoredMessage};
    use paperplane_protocol::{MessageBody, MessageId};
    let (_d, s) = store();
    let (me, bob) = (id(1).peer_id(), id(2).peer_id());
    let conv = paperplane_crypto::Conversation::new(bob);
    let target = MessageId([1; 16]);
    let change = |n: u8, sent_at: u64, body: MessageBody| {
        ChatItem::Control(ControlRow {
            id: MessageId([n; 16]),
            peer: bob,
            outgoing: false,
            sent_at,
            body,
        })
    };
    let edit = |text: &str| MessageBody::Edit {
        target,
        text: text.into(),
    };
    let react = |emoji: Option<&str>| MessageBody::Reaction {
        target,
        emoji: emoji.map(str::to_owned),
    };
    // Bob sent: the message (at 10), a fire (20), an edit (30), the fire's removal (40), a
    // second edit (50), a heart (60). They arrive newest first, one request each, the
    // message last.
    let sent = [
        change(2, 20, react(Some("🔥"))),
        change(3, 30, edit("first edit")),
        change(4, 40, react(None)),
        change(5, 50, edit("second edit")),
        change(6, 60, react(Some("❤️"))),
    ];
    for item in sent.iter().rev() {
        let out = s
            .accept_incoming(&me, &bob, &conv, std::slice::from_ref(item), Folder::Inbox)
            .expect("accept");
        assert_eq!(out, vec![Received::Change(ControlOutcome::Held)]);
    }
    assert_eq!(s.chat_meta(&bob).expect("meta").held, 5);
    // A retry of a held change is a duplicate.
    assert_eq!(
        s.accept_incoming(&me, &bob, &conv, &sent[..1], Folder::Inbox)
            .expect("accept"),
        vec![Received::Duplicate]
    );
    let message = StoredMessage {
        id: target,
        peer: bob,
        outgoing: false,
        sent_at: 10,
        stored_at: 100,
        body: MessageBody::Text("original".into()),
        state: DeliveryState::Received,
    };
    let out = s
        .accept_incoming(&me, &bob, &conv, &[ChatItem::Shown(message)], Folder::Inbox)
        .expect("accept");
    let [Received::New { released, .. }] = &out[..] else {
        panic!("{out:?}");
    };
    // Applied oldest first, each one newer than the last: all five take effect.
    assert_eq!(released.len(), 5, "{released:?}");
    let (m, marks) = s
        .message_with_marks(&bob, &target)
        .expect("read")
        .expect("stored");
    assert_eq!(m.body.text(), "original", "the text as sent stays");
    assert_eq!(
        marks.edit.as_ref().map(|e| (e.text.as_str(), e.at)),
        Some(("second edit", 50))
    );
    assert_eq!(
        crate::chat_rules::reaction_counts(&marks),
        vec![("❤️".to_owned(), vec![bob])]
    );
    assert_eq!(s.chat_meta(&bob).expect("meta").held, 0);
    // An older change arriving after the message (a retry from an earlier session, say)
    // does not undo a newer one.
    let out = s
        .accept_incoming(
            &me,
            &bob,
            &conv,
            &[change(7, 35, edit("stale edit"))],
            Folder::Inbox,
        )
        .expect("accept");
    assert!(
        matches!(&out[..], [Received::Change(ControlOutcome::Ignored(_))]),
        "{out:?}"
    );
    // An unsend that arrives before its message wipes it on arrival.
    let gone = MessageId([9; 16]);
    let unsend = ChatItem::Control(ControlRow {
        id: MessageId([10; 16]),
        peer: bob,
        outgoing: false,
        sent_at: 80,
        body: MessageBody::Unsend { target: gone },
    });
    let shown = ChatItem::Shown(StoredMessage {
        id: gone,
        peer: bob,
        outgoing: false,
        sent_at: 70,
        stored_at: 100,
        body: MessageBody::Text("regret".into()),
        state: DeliveryState::Received,
    });
    // Both in one request, the unsend first.
    let out = s
        .accept_incoming(&me, &bob, &conv, &[unsend, shown], Folder::Inbox)
        .expect("accept");
    assert!(
        matches!(&out[..], [Received::Change(ControlOutcome::Held), Received::New { released, .. }] if released.len() == 1),
        "{out:?}"
    );
    let (m, marks) = s
        .message_with_marks(&bob, &gone)
        .expect("read")
        .expect("stored");
    assert_eq!(m.body.text(), "");
    assert_eq!(marks.unsent_at, Some(80));
}
