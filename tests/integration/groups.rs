//! Group chats between nodes on loopback: creating a group, messages and every change to
//! them reaching every member, membership changes and their keys, requests, and what a
//! member that was removed or joined late can read.

use std::time::Duration;

use paperplane::{protocol::MessageBody, Event, GroupId, MessageView, PeerId};

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
    let _ = nodes[0].wait_for("anything", |_e: &Event| Some(())).await;
    let _ = MessageBody::Text(String::new());
    let _ = Duration::ZERO;
    let _ = &mut nodes;
}
