//! Group chats between nodes on loopback: creating a group, messages and every change to
//! them reaching every member, membership changes and their keys, requests, and what a
//! member that was removed or joined late can read.

use paperplane::{
    protocol::{decode, GroupEnvelope},
    store::Store,
    Folder, GroupId, Home, MessageView, PeerId,
};
use paperplane_crypto::GroupCiphertext;

use crate::common::{eventually, TestNode};

/// `n` nodes that all know each other (each pair connected, keys exchanged); everyone
/// follows the first.
pub(crate) async fn circle(handles: &[&str]) -> Vec<TestNode> {
    let mut nodes = Vec::new();
    for h in handles {
        nodes.push(TestNode::start(h).await);
    }
    for i in 0..nodes.len() {
        for j in i + 1..nodes.len() {
            let (left, right) = nodes.split_at_mut(j);
            left[i].meet(&mut right[0]).await;
        }
    }
    let first = nodes[0].node.peer_id();
    for n in &nodes[1..] {
        n.node.follow(first).await.expect("follow");
    }
    nodes
}

/// Waits until `node` stores a group message with `text` in `group`.
pub(crate) async fn wait_group_text(node: &TestNode, group: &GroupId, text: &str) -> MessageView {
    let n = node.node.clone();
    let g = *group;
    let t = text.to_owned();
    eventually(&format!("{t:?} arrives"), || {
        n.group_chat(&g, 100)
            .is_ok_and(|m| m.iter().any(|m| m.text == t))
    })
    .await;
    n.group_chat(&g, 100)
        .expect("chat")
        .into_iter()
        .find(|m| m.text == text)
        .expect("found")
}

async fn wait_group(
    node: &TestNode,
    group: &GroupId,
    what: &str,
    check: impl Fn(&paperplane::GroupView) -> bool,
) {
    let n = node.node.clone();
    let g = *group;
    eventually(what, || n.group(&g).is_ok_and(|v| check(&v))).await;
}

fn ids(nodes: &[TestNode]) -> Vec<PeerId> {
    nodes.iter().map(|n| n.node.peer_id()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_chat_reaches_every_member_and_every_member_can_answer() {
    let mut nodes = circle(&["ana", "ben", "cleo"]).await;
    let peers = ids(&nodes);
    let group = nodes[0]
        .node
        .create_group("climbing", peers[1..].to_vec())
        .await
        .expect("create");
    assert_eq!(group.members.len(), 3);
    for n in &nodes[1..] {
        wait_group(n, &group.id, "the group arrives", |g| g.members.len() == 3).await;
    }
    let sent = nodes[0]
        .node
        .send_group_text(&group.id, "hi all 🧗")
        .await
        .expect("send");
    assert_eq!(sent.group, Some(group.id));
    for n in &nodes[1..] {
        let got = wait_group_text(n, &group.id, "hi all 🧗").await;
        assert_eq!(got.from, peers[0]);
        assert_eq!(got.id, sent.id);
    }
    // Ben answers: Ana and Cleo get it (Ben's key travels first).
    let answer = nodes[1]
        .node
        .send_group_text(&group.id, "on my way")
        .await
        .expect("send");
    for i in [0, 2] {
        let got = wait_group_text(&nodes[i], &group.id, "on my way").await;
        assert_eq!(got.from, peers[1]);
        assert_eq!(got.id, answer.id);
    }
    // Cleo likes Ana's message; everyone sees the heart.
    nodes[2]
        .node
        .react_in_group(&group.id, &sent.id, Some("❤️"))
        .await
        .expect("react");
    for n in &nodes {
        let (nn, g, id) = (n.node.clone(), group.id, sent.id);
        eventually("the heart shows", || {
            nn.group_message(&g, &id)
                .ok()
                .flatten()
                .is_some_and(|m| m.reactions.iter().any(|r| r.emoji == "❤️"))
        })
        .await;
    }
    // Ana's message is delivered to both, then seen by both once they open the chat.
    let (na, g, id) = (nodes[0].node.clone(), group.id, sent.id);
    eventually("delivered to everyone", || {
        na.group_message(&g, &id)
            .ok()
            .flatten()
            .is_some_and(|m| m.state != "pending")
    })
    .await;
    for n in &nodes[1..] {
        n.node.open_group_chat(&group.id, 50).await.expect("open");
    }
    eventually("seen by both", || {
        na.group_message(&g, &id)
            .ok()
            .flatten()
            .is_some_and(|m| m.seen_by.len() == 2 && m.state == "seen")
    })
    .await;
    let _ = &mut nodes;
}

/// The sealed group envelopes `sender`'s stopped node still has queued for `member`.
fn queued_group_envelopes(
    home: &std::path::Path,
    member: &PeerId,
) -> Vec<(paperplane::MessageId, GroupEnvelope)> {
    let store = Store::open(&Home::new(home).store_path()).expect("store");
    store
        .outbox_all(member)
        .expect("outbox")
        .into_iter()
        .filter(|(_, e)| GroupEnvelope::is_group_payload(&e.payload))
        .map(|(_, e)| {
            (
                e.message,
                GroupEnvelope::from_payload(&e.payload).expect("envelope"),
            )
        })
        .collect()
}

/// Tries every chain `reader`'s stopped node holds in `group` on `envelope` from `sender`.
fn try_open(
    home: &std::path::Path,
    group: &GroupId,
    sender: &PeerId,
    id: &paperplane::MessageId,
    envelope: &GroupEnvelope,
) -> Result<Vec<u8>, String> {
    let store = Store::open(&Home::new(home).store_path()).expect("store");
    let sealed: GroupCiphertext = decode(&envelope.sealed, 1 << 20).expect("sealed");
    let ad = GroupEnvelope::associated_data(group, sender, envelope.key_id, id);
    let chains = store.group_chains(group).expect("chains");
    let mut last = String::from("no chain of that sender's key");
    for (peer, key_id, mut row) in chains {
        if peer != *sender {
            continue;
        }
        match row.chain.open(&ad, &sealed) {
            Ok(p) => return Ok(p),
            Err(e) => last = format!("key {key_id}: {e}"),
        }
    }
    Err(last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_cannot_read_what_follows_and_a_joiner_cannot_read_what_came_before() {
    let mut nodes = circle(&["ana", "ben", "cleo", "dina"]).await;
    let peers = ids(&nodes);
    let (ana, ben, cleo, dina) = (peers[0], peers[1], peers[2], peers[3]);
    let group = nodes[0]
        .node
        .create_group("book club", vec![ben, cleo])
        .await
        .expect("create")
        .id;
    for n in &nodes[1..3] {
        wait_group(n, &group, "the group arrives", |g| g.members.len() == 3).await;
    }
    nodes[0]
        .node
        .send_group_text(&group, "before")
        .await
        .expect("send");
    for n in &nodes[1..3] {
        wait_group_text(n, &group, "before").await;
    }
    // Cleo is removed: a new epoch; Ana and Ben move on to new keys.
    let removed = nodes[0]
        .node
        .remove_from_group(&group, cleo)
        .await
        .expect("remove");
    assert_eq!(removed.epoch, 1);
    wait_group(&nodes[2], &group, "cleo learns she was removed", |g| {
        g.status == paperplane::store::groups::GroupStatus::Removed
    })
    .await;
    wait_group(&nodes[1], &group, "ben adopts the removal", |g| {
        g.epoch == 1 && g.members.len() == 2
    })
    .await;
    assert!(
        nodes[2]
            .node
            .send_group_text(&group, "still here?")
            .await
            .is_err(),
        "a removed member cannot send"
    );
    // Ben is offline: what Ana sends him next stays in her outbox, to look at.
    let ben_node = nodes.remove(1);
    let ben_home = ben_node.stop().await;
    nodes[0]
        .node
        .send_group_text(&group, "after the removal")
        .await
        .expect("send");
    // Dina joins, then gets the next message but not the one before.
    nodes[0]
        .node
        .add_to_group(&group, vec![dina])
        .await
        .expect("add");
    wait_group(&nodes[2], &group, "dina joins", |g| g.members.len() == 3).await;
    nodes[0]
        .node
        .send_group_text(&group, "welcome dina")
        .await
        .expect("send");
    wait_group_text(&nodes[2], &group, "welcome dina").await;
    let dina_chat: Vec<String> = nodes[2]
        .node
        .group_chat(&group, 100)
        .expect("read")
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(
        !dina_chat
            .iter()
            .any(|t| t == "before" || t == "after the removal"),
        "{dina_chat:?}"
    );

    let cleo_node = nodes.remove(1);
    let cleo_home = cleo_node.stop().await;
    let dina_node = nodes.remove(1);
    let dina_home = dina_node.stop().await;
    let ana_home = nodes.remove(0).stop().await;
    let queued = queued_group_envelopes(ana_home.path(), &ben);
    assert_eq!(queued.len(), 2, "the two messages Ben has not had yet");
    let (after_id, after) = &queued[0];
    // Cleo holds nothing that opens it.
    assert!(try_open(cleo_home.path(), &group, &ana, after_id, after).is_err());
    // Dina holds Ana's chain from where it was handed to her: not before.
    let err =
        try_open(dina_home.path(), &group, &ana, after_id, after).expect_err("dina cannot read it");
    assert!(
        err.contains("already used") || err.contains("no chain"),
        "{err}"
    );
    // Ben, who was a member all along, opens both.
    for (id, envelope) in &queued {
        try_open(ben_home.path(), &group, &ana, id, envelope).expect("ben reads it");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_renaming_and_admins_reach_everyone() {
    let nodes = circle(&["ana", "ben", "cleo"]).await;
    let peers = ids(&nodes);
    let group = nodes[0]
        .node
        .create_group("trip", peers[1..].to_vec())
        .await
        .expect("create")
        .id;
    for n in &nodes[1..] {
        wait_group(n, &group, "the group arrives", |g| g.members.len() == 3).await;
    }
    // Ben is not an admin yet.
    let err = nodes[1]
        .node
        .rename_group(&group, "ben's trip")
        .await
        .expect_err("not an admin");
    assert!(err.to_string().contains("admin"), "{err}");
    nodes[0]
        .node
        .make_group_admin(&group, peers[1])
        .await
        .expect("admin");
    wait_group(&nodes[1], &group, "ben is an admin", |g| {
        g.members.iter().any(|m| m.peer == peers[1] && m.admin)
    })
    .await;
    nodes[1]
        .node
        .rename_group(&group, "summer trip")
        .await
        .expect("rename");
    for n in &nodes {
        wait_group(n, &group, "the new name", |g| g.name == "summer trip").await;
    }
    nodes[2].node.leave_group(&group).await.expect("leave");
    for n in &nodes[..2] {
        wait_group(n, &group, "cleo left", |g| {
            g.members.len() == 2 && g.epoch == 1
        })
        .await;
    }
    let cleo_view = nodes[2].node.group(&group).expect("group");
    assert_eq!(
        cleo_view.status,
        paperplane::store::groups::GroupStatus::Left
    );
    // The two who stay still talk, on new keys.
    nodes[1]
        .node
        .send_group_text(&group, "just us")
        .await
        .expect("send");
    wait_group_text(&nodes[0], &group, "just us").await;
    assert!(
        !nodes[2]
            .node
            .inbox()
            .expect("read")
            .iter()
            .any(|c| c.group.is_some()),
        "a group left is not in the inbox"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_roster_changes_by_two_admins_converge_everywhere() {
    let nodes = circle(&["ana", "ben", "cleo", "dina", "eli"]).await;
    let peers = ids(&nodes);
    let group = nodes[0]
        .node
        .create_group("five", peers[1..4].to_vec())
        .await
        .expect("create")
        .id;
    for n in &nodes[1..4] {
        wait_group(n, &group, "the group arrives", |g| g.members.len() == 4).await;
    }
    nodes[0]
        .node
        .make_group_admin(&group, peers[1])
        .await
        .expect("admin");
    wait_group(&nodes[1], &group, "ben is an admin", |g| g.version == 1).await;
    // At the same moment: Ana adds Eli, Ben removes Dina.
    let (a, b) = tokio::join!(
        nodes[0].node.add_to_group(&group, vec![peers[4]]),
        nodes[1].node.remove_from_group(&group, peers[3]),
    );
    a.expect("add");
    b.expect("remove");
    // Everyone who stays ends on the same roster, with both changes, in the same epoch.
    let stay = [0usize, 1, 2, 4];
    for &i in &stay {
        wait_group(&nodes[i], &group, "both changes everywhere", |g| {
            g.members.iter().any(|m| m.peer == peers[4])
                && !g.members.iter().any(|m| m.peer == peers[3])
                && g.members.len() == 4
        })
        .await;
    }
    let views: Vec<_> = stay
        .iter()
        .map(|&i| nodes[i].node.group(&group).expect("read"))
        .collect();
    for v in &views[1..] {
        assert_eq!(
            (v.version, v.epoch, &v.members),
            (views[0].version, views[0].epoch, &views[0].members)
        );
    }
    // And every one of them can read every other.
    for &i in &stay {
        let text = format!("from {i}");
        nodes[i]
            .node
            .send_group_text(&group, text.clone())
            .await
            .expect("send");
        for &j in &stay {
            if j != i {
                wait_group_text(&nodes[j], &group, &text).await;
            }
        }
    }
    wait_group(&nodes[3], &group, "dina learns she was removed", |g| {
        g.status == paperplane::store::groups::GroupStatus::Removed
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_offline_during_a_removal_catches_up() {
    let mut nodes = circle(&["ana", "ben", "cleo"]).await;
    let peers = ids(&nodes);
    let group = nodes[0]
        .node
        .create_group("late", peers[1..].to_vec())
        .await
        .expect("create")
        .id;
    for n in &nodes[1..] {
        wait_group(n, &group, "the group arrives", |g| g.members.len() == 3).await;
    }
    nodes[1]
        .node
        .send_group_text(&group, "ben was here")
        .await
        .expect("send");
    wait_group_text(&nodes[0], &group, "ben was here").await;
    let ben = nodes.remove(1);
    let home = ben.stop().await;
    nodes[0]
        .node
        .remove_from_group(&group, peers[2])
        .await
        .expect("remove");
    nodes[0]
        .node
        .send_group_text(&group, "while you were away")
        .await
        .expect("send");
    let mut ben = TestNode::start_in(home).await;
    ben.connect(&nodes[0]).await;
    wait_group_text(&ben, &group, "while you were away").await;
    let view = ben.node.group(&group).expect("group");
    assert_eq!((view.epoch, view.members.len()), (1, 2));
    // Ben's next message reaches Ana on his new key.
    ben.node
        .send_group_text(&group, "back")
        .await
        .expect("send");
    wait_group_text(&nodes[0], &group, "back").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn being_added_by_someone_not_followed_puts_the_group_in_requests() {
    let nodes = circle(&["ana", "ben"]).await;
    let peers = ids(&nodes);
    // Ben follows Ana (circle), Ana does not follow Ben: Ben's group is a request for Ana.
    let group = nodes[1]
        .node
        .create_group("ben's group", vec![peers[0]])
        .await
        .expect("create")
        .id;
    let (na, g) = (nodes[0].node.clone(), group);
    eventually("a request", || {
        na.requests().is_ok_and(|r| {
            r.iter()
                .any(|c| c.group.as_ref().is_some_and(|x| x.id == g))
        })
    })
    .await;
    assert!(!na.inbox().expect("read").iter().any(|c| c.group.is_some()));
    assert_eq!(na.group(&group).expect("read").folder, Folder::Requests);
    // The stranger's messages come in; Ana's node made no key for the group yet.
    nodes[1]
        .node
        .send_group_text(&group, "hello from ben")
        .await
        .expect("send");
    wait_group_text(&nodes[0], &group, "hello from ben").await;
    nodes[0].node.accept_group(&group).await.expect("accept");
    // Her first message makes her key and hands it over first.
    nodes[0]
        .node
        .send_group_text(&group, "hi ben")
        .await
        .expect("send");
    wait_group_text(&nodes[1], &group, "hi ben").await;
    assert!(na
        .inbox()
        .expect("read")
        .iter()
        .any(|c| c.group.as_ref().is_some_and(|x| x.id == g)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chat_feature_works_in_a_group() {
    let mut nodes = circle(&["ana", "ben", "cleo"]).await;
    let peers = ids(&nodes);
    let group = nodes[0]
        .node
        .create_group("features", peers[1..].to_vec())
        .await
        .expect("create")
        .id;
    for n in &nodes[1..] {
        wait_group(n, &group, "the group arrives", |g| g.members.len() == 3).await;
    }
    let first = nodes[0]
        .node
        .send_group_text(&group, "typo heer")
        .await
        .expect("send");
    for n in &nodes[1..] {
        wait_group_text(n, &group, "typo heer").await;
    }
    // Edit, reply, share, photo, unsend.
    nodes[0]
        .node
        .edit_in_group(&group, &first.id, "typo here")
        .await
        .expect("edit");
    for n in &nodes[1..] {
        wait_group_text(n, &group, "typo here").await;
    }
    let reply = nodes[1]
        .node
        .reply_in_group(&group, &first.id, "seen it")
        .await
        .expect("reply");
    let got = wait_group_text(&nodes[2], &group, "seen it").await;
    assert_eq!(got.reply_to.as_ref().map(|q| q.id), Some(first.id));
    assert_eq!(got.id, reply.id);
    let post = nodes[0]
        .node
        .post(vec![crate::common::png(3, 300)], "summit".into())
        .await
        .expect("post");
    nodes[0]
        .node
        .share_to_group(&group, &post, "look")
        .await
        .expect("share");
    let shared = wait_group_text(&nodes[1], &group, "look").await;
    assert!(shared.shared_post.as_ref().is_some_and(|p| p.verified));
    let photo = nodes[2]
        .node
        .send_photo_to_group(&group, crate::common::png(9, 4000), "the view")
        .await
        .expect("photo");
    for i in [0, 1] {
        let (n, id) = (nodes[i].node.clone(), photo.id);
        eventually("the photo is fetched and opened", || {
            n.group_message(&group, &id)
                .ok()
                .flatten()
                .and_then(|m| m.photo)
                .is_some_and(|p| p.state == paperplane::chat_photo::ChatPhotoState::Ready)
        })
        .await;
    }
    nodes[0]
        .node
        .unsend_in_group(&group, &first.id)
        .await
        .expect("unsend");
    for n in &nodes[1..] {
        let (nn, id) = (n.node.clone(), first.id);
        eventually("unsent everywhere", || {
            nn.group_message(&group, &id)
                .ok()
                .flatten()
                .is_some_and(|m| m.kind == paperplane::MessageKind::Unsent && m.text.is_empty())
        })
        .await;
    }
    // Only the author may edit: Ben's edit of Ana's message is refused at once.
    assert!(nodes[1]
        .node
        .edit_in_group(&group, &photo.id, "mine now")
        .await
        .is_err());
    // Typing shows on the others.
    assert!(nodes[1]
        .node
        .typing_in_group(&group, true)
        .await
        .expect("typing"));
    let ben = peers[1];
    nodes[0]
        .wait_for("ben typing", |e| match e {
            paperplane::Event::GroupTyping {
                group: g,
                peer,
                active: true,
                ..
            } if *g == group && *peer == ben => Some(()),
            _ => None,
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_to_a_member_not_connected_yet_go_out_once_they_connect() {
    // Ana knows Ben and Dina; Ben has never met Dina.
    let mut ana = TestNode::start("ana").await;
    let mut ben = TestNode::start("ben").await;
    let mut dina = TestNode::start("dina").await;
    ana.meet(&mut ben).await;
    ana.meet(&mut dina).await;
    let (a, b, d) = (ana.node.peer_id(), ben.node.peer_id(), dina.node.peer_id());
    ben.node.follow(a).await.expect("follow");
    dina.node.follow(a).await.expect("follow");
    let group = ana
        .node
        .create_group("intro", vec![b, d])
        .await
        .expect("create")
        .id;
    for n in [&ben, &dina] {
        wait_group(n, &group, "the group arrives", |g| g.members.len() == 3).await;
    }
    // Ben's key to Dina waits in his outbox (or for her keys); once they meet it goes.
    ben.meet(&mut dina).await;
    ben.node
        .send_group_text(&group, "hi dina")
        .await
        .expect("send");
    wait_group_text(&dina, &group, "hi dina").await;
    wait_group_text(&ana, &group, "hi dina").await;
}
