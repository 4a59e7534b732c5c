//! Bad input to a group, from a member with a real session (its node stopped, its keys used
//! by hand) and from outsiders: rosters signed by a non-admin, stale and replayed rosters,
//! messages from non-members, forged sender signatures, keys for an epoch that is not the
//! group's, and a message that arrives before its key (held, then opened). Each is
//! refused with nothing about the group changed.

use libp2p::Multiaddr;
use paperplane::{
    protocol::{
        encode, DirectMessage, DmRejection, DmRequest, DmResult, Epoch, GroupEnvelope, GroupId,
        GroupKey, GroupUpdate, MessageBody, MessageId, Roster, RosterChange, SealedEnvelope,
        Signed,
    },
    store::{groups::GroupRecord, Store},
    Home, PeerId,
};
use paperplane_crypto::{encode_secret, Conversation, Identity, MessagingIdentity, SenderKey};

use crate::{
    common::{eventually, send_raw_dm, TestNode},
    groups::{circle, wait_group_text},
};

/// A member (or outsider) whose node is stopped, speaking to one node by hand.
struct Hand {
    identity: Identity,
    conv: Conversation,
    to: PeerId,
    addr: Multiaddr,
    clock: u64,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

impl Hand {
    fn new(
        identity: Identity,
        messaging: &MessagingIdentity,
        to: &TestNode,
        to_home_keys: &paperplane::protocol::MessagingKeys,
        addr: Multiaddr,
    ) -> Self {
        let conv = Conversation::new(to.node.peer_id())
            .start(&mut rand::rng(), messaging, to_home_keys, now())
            .expect("handshake");
        Self {
            identity,
            conv,
            to: to.node.peer_id(),
            addr,
            clock: now(),
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock = self.clock.max(now()) + 1;
        self.clock
    }

    /// A 1:1 message carrying `update`.
    fn update(&mut self, update: GroupUpdate) -> SealedEnvelope {
        let message = DirectMessage {
            id: MessageId(rand::random()),
            sent_at: self.tick(),
            body: MessageBody::GroupUpdate(Box::new(update)),
        };
        let envelope = self
            .conv
            .encrypt_in_place(&mut rand::rng(), &message.to_plaintext())
            .expect("seal");
        SealedEnvelope {
            recipient: self.to,
            id: message.id,
            payload: envelope.to_bytes(),
        }
    }

    /// A group message with `text`, sealed with `key` (id `key_id`); `signer` replaces the
    /// signature with one by another key if given.
    fn group_message(
        &mut self,
        group: GroupId,
        key: &mut SenderKey,
        key_id: u64,
        text: &str,
        signer: Option<&mut SenderKey>,
    ) -> SealedEnvelope {
        let id = MessageId(rand::random());
        self.group_body(
            group,
            key,
            key_id,
            id,
            MessageBody::Text(text.into()),
            signer,
        )
    }

    /// A group message with `body` and id `id`.
    fn group_body(
        &mut self,
        group: GroupId,
        key: &mut SenderKey,
        key_id: u64,
        id: MessageId,
        body: MessageBody,
        signer: Option<&mut SenderKey>,
    ) -> SealedEnvelope {
        let message = DirectMessage {
            id,
            sent_at: self.tick(),
            body,
        };
        let ad =
            GroupEnvelope::associated_data(&group, &self.identity.peer_id(), key_id, &message.id);
        let mut sealed = key
            .seal(&mut rand::rng(), &ad, &message.to_plaintext())
            .expect("seal");
        if let Some(other) = signer {
            // The same bytes, signed by a key the group does not know.
            let forged = other
                .seal(&mut rand::rng(), &ad, &message.to_plaintext())
                .expect("seal");
            sealed.signature = forged.signature;
        }
        SealedEnvelope {
            recipient: self.to,
            id: message.id,
            payload: GroupEnvelope {
                group,
                key_id,
                sealed: encode(&sealed),
            }
            .to_payload(),
        }
    }

    async fn send(&self, envelopes: Vec<SealedEnvelope>) -> Vec<DmResult> {
        send_raw_dm(
            &self.identity,
            self.addr.clone(),
            self.to,
            &DmRequest { envelopes },
        )
        .await
        .results
    }
}

fn share(key: &SenderKey, epoch: Epoch, key_id: u64) -> GroupKey {
    GroupKey {
        epoch,
        key_id,
        share: encode_secret(&key.share()).to_vec(),
    }
}

fn record_in(home: &std::path::Path, group: &GroupId) -> GroupRecord {
    let store = Store::open(&Home::new(home).store_path()).expect("store");
    store.group(group).expect("read").expect("the group")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rosters_keys_and_messages_change_nothing() {
    let mut nodes = circle(&["ana", "ben", "mal"]).await;
    let peers: Vec<PeerId> = nodes.iter().map(|n| n.node.peer_id()).collect();
    let (ana, ben, mal) = (peers[0], peers[1], peers[2]);
    let group = nodes[0]
        .node
        .create_group("watched", vec![ben, mal])
        .await
        .expect("create")
        .id;
    for n in &nodes[1..] {
        let (nn, g) = (n.node.clone(), group);
        eventually("the group arrives", || {
            nn.group(&g).is_ok_and(|v| v.members.len() == 3)
        })
        .await;
    }
    // One change, so there is an older roster to replay.
    nodes[0]
        .node
        .rename_group(&group, "watched closely")
        .await
        .expect("rename");
    for n in &nodes[1..] {
        let (nn, g) = (n.node.clone(), group);
        eventually("the rename arrives", || {
            nn.group(&g).is_ok_and(|v| v.version == 1)
        })
        .await;
    }
    nodes[0]
        .node
        .send_group_text(&group, "first")
        .await
        .expect("send");
    wait_group_text(&nodes[1], &group, "first").await;
    wait_group_text(&nodes[2], &group, "first").await;

    // Mal's node stops; Mal goes on by hand with his identity and messaging key.
    let mal_home = nodes.remove(2).stop().await;
    let home = Home::new(mal_home.path());
    let identity = home.load_identity().expect("identity");
    let messaging =
        MessagingIdentity::from_secret_bytes(&identity, *home.messaging_secret().expect("secret"));
    let held = record_in(mal_home.path(), &group);
    let ben_addr: Multiaddr = nodes[1].addr().await.parse().expect("addr");
    let ben_keys = {
        let store = Store::open(&Home::new(mal_home.path()).store_path()).expect("store");
        store
            .profile(&ben)
            .expect("read")
            .expect("ben")
            .body
            .messaging
            .expect("keys")
    };
    let mut hand = Hand::new(
        identity.clone(),
        &messaging,
        &nodes[1],
        &ben_keys,
        ben_addr.clone(),
    );
    let before = nodes[1].node.group(&group).expect("group");
    let chat_before = nodes[1].node.group_chat(&group, 100).expect("chat").len();
    let roster = held.roster.body.clone();

    // 1. A roster signed by a member who is not an admin: Mal removes Ana and makes himself admin.
    let mut coup = Roster {
        version: roster.version + 1,
        parent: Some(held.roster.id()),
        epoch: Epoch {
            number: roster.epoch.number + 1,
            nonce: [7; 8],
        },
        author: mal,
        changed_at: now(),
        change: RosterChange::Remove(ana),
        members: roster
            .members
            .iter()
            .filter(|m| m.peer != ana)
            .map(|m| paperplane::protocol::Member {
                peer: m.peer,
                admin: true,
            })
            .collect(),
        ..roster.clone()
    };
    coup.members = Roster::canonical_members(coup.members);
    let coup = identity.sign_record(coup);
    // 2. A stale roster (the first version, validly signed by Ana) and the current one again.
    let stale = {
        let store = Store::open(&Home::new(mal_home.path()).store_path()).expect("store");
        store
            .group_rosters(&group)
            .expect("rosters")
            .into_iter()
            .map(|(r, _)| r)
            .find(|r| r.body.version == 0)
            .expect("the roster before the rename")
    };
    assert_eq!(stale.body.version, 0);
    // 3. A forged signature on a roster made to look like Ana's.
    let mut forged_roster = held.roster.clone();
    forged_roster.body.version += 5;
    forged_roster.body.name = "pwned".into();
    forged_roster.body.change = RosterChange::Rename("pwned".into());
    let forged_roster = Signed {
        body: forged_roster.body,
        signature: vec![0; 64],
    };
    let bad = vec![
        hand_update(&mut hand, group, Some(coup), None),
        hand_update(&mut hand, group, Some(stale), None),
        hand_update(&mut hand, group, Some(held.roster.clone()), None),
        hand_update(&mut hand, group, Some(forged_roster), None),
    ];
    let results = hand.send(bad).await;
    assert!(
        results.iter().all(|r| *r == DmResult::Stored),
        "acknowledged, ignored: {results:?}"
    );
    let after = nodes[1].node.group(&group).expect("group");
    assert_eq!(
        (after.version, after.epoch, &after.members, &after.name),
        (before.version, before.epoch, &before.members, &before.name)
    );

    // 4. A key for an epoch the group is not in (an old one, and the current number with
    //    another nonce): refused, so a message sealed with it stays unread.
    let mut stale_key = SenderKey::generate(&mut rand::rng());
    let wrong = Epoch {
        number: roster.epoch.number,
        nonce: [0xAB; 8],
    };
    let u = hand_update(&mut hand, group, None, Some(share(&stale_key, wrong, 77)));
    assert_eq!(hand.send(vec![u]).await, vec![DmResult::Stored]);
    let m = hand.group_message(group, &mut stale_key, 77, "under a wrong epoch", None);
    assert_eq!(
        hand.send(vec![m]).await,
        vec![DmResult::Stored],
        "held: its key never came"
    );

    // 5. A message before its key is held, then opened when the key comes.
    let epoch = roster.epoch;
    let mut key = SenderKey::generate(&mut rand::rng());
    let from_start = share(&key, epoch, 5);
    let early = hand.group_message(group, &mut key, 5, "early bird", None);
    assert_eq!(hand.send(vec![early]).await, vec![DmResult::Stored]);
    assert!(!nodes[1]
        .node
        .group_chat(&group, 100)
        .expect("read")
        .iter()
        .any(|m| m.text == "early bird"));
    let u = hand_update(&mut hand, group, None, Some(from_start));
    assert_eq!(hand.send(vec![u]).await, vec![DmResult::Stored]);
    wait_group_text(&nodes[1], &group, "early bird").await;

    // 6. A forged sender signature: the right chain, another signing key.
    let mut other = SenderKey::generate(&mut rand::rng());
    let forged = hand.group_message(group, &mut key, 5, "forged", Some(&mut other));
    assert_eq!(
        hand.send(vec![forged]).await,
        vec![DmResult::Rejected(DmRejection::Malformed)]
    );
    // The chain did not move: the next honest message still opens.
    let honest = hand.group_message(group, &mut key, 5, "honest", None);
    assert_eq!(hand.send(vec![honest]).await, vec![DmResult::Stored]);
    wait_group_text(&nodes[1], &group, "honest").await;

    // A message under the id of someone else's message is refused: the id names Ana's.
    let first_id = nodes[1]
        .node
        .group_chat(&group, 100)
        .expect("chat")
        .into_iter()
        .find(|m| m.text == "first")
        .expect("ana's first")
        .id;
    let stolen = hand.group_body(
        group,
        &mut key,
        5,
        first_id,
        MessageBody::Text("stolen".into()),
        None,
    );
    assert_eq!(
        hand.send(vec![stolen]).await,
        vec![DmResult::Rejected(DmRejection::Malformed)]
    );

    // A reaction that arrives before its message waits for it.
    let later = MessageId(rand::random());
    let fire = hand.group_body(
        group,
        &mut key,
        5,
        MessageId(rand::random()),
        MessageBody::Reaction {
            target: later,
            emoji: Some("🔥".into()),
        },
        None,
    );
    let text = hand.group_body(
        group,
        &mut key,
        5,
        later,
        MessageBody::Text("reacted to first".into()),
        None,
    );
    assert_eq!(hand.send(vec![fire]).await, vec![DmResult::Stored]);
    assert_eq!(hand.send(vec![text]).await, vec![DmResult::Stored]);
    let shown = wait_group_text(&nodes[1], &group, "reacted to first").await;
    assert_eq!(
        shown.reactions.first().map(|r| r.emoji.as_str()),
        Some("🔥")
    );

    // 7. A message from someone outside the group.
    let outsider = Identity::from_seed(rand::random());
    let outsider_messaging = MessagingIdentity::generate(&outsider, &mut rand::rng());
    let mut stranger = Hand::new(
        outsider,
        &outsider_messaging,
        &nodes[1],
        &ben_keys,
        ben_addr,
    );
    let mut skey = SenderKey::generate(&mut rand::rng());
    let u = hand_update(&mut stranger, group, None, Some(share(&skey, epoch, 9)));
    let m = stranger.group_message(group, &mut skey, 9, "let me in", None);
    let r = stranger.send(vec![u, m]).await;
    assert_eq!(r[1], DmResult::Rejected(DmRejection::NotAMember), "{r:?}");

    let after = nodes[1].node.group(&group).expect("group");
    assert_eq!(
        (after.version, after.epoch, &after.members),
        (before.version, before.epoch, &before.members)
    );
    let texts: Vec<String> = nodes[1]
        .node
        .group_chat(&group, 100)
        .expect("read")
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts.len(), chat_before + 3, "{texts:?}");
    for bad in ["forged", "let me in", "under a wrong epoch", "stolen"] {
        assert!(
            !texts.iter().any(|t| t == bad),
            "{bad} must not show: {texts:?}"
        );
    }
}

fn hand_update(
    hand: &mut Hand,
    group: GroupId,
    roster: Option<Signed<Roster>>,
    key: Option<GroupKey>,
) -> SealedEnvelope {
    hand.update(GroupUpdate { group, roster, key })
}

/// A signed roster of a new group by `author` naming `members` (the author its admin).
fn new_roster(author: &Identity, name: &str, members: &[PeerId]) -> Signed<Roster> {
    let mut list: Vec<paperplane::protocol::Member> = members
        .iter()
        .map(|&peer| paperplane::protocol::Member { peer, admin: false })
        .collect();
    list.push(paperplane::protocol::Member {
        peer: author.peer_id(),
        admin: true,
    });
    author.sign_record(Roster {
        group: GroupId(rand::random()),
        version: 0,
        parent: None,
        epoch: Epoch {
            number: 0,
            nonce: rand::random(),
        },
        name: name.into(),
        members: Roster::canonical_members(list),
        author: author.peer_id(),
        changed_at: now(),
        change: RosterChange::Create,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_fill_the_requests_with_groups() {
    let ben = TestNode::start("ben").await;
    let me = ben.node.peer_id();
    let home = ben.stop().await;
    let keys = crate::common::messaging_keys(home.path(), &me);
    let ben = TestNode::start_in(home).await;
    let addr: Multiaddr = ben.addr().await.parse().expect("addr");
    // Four strangers make 26 groups each naming Ben: 104 in all.
    let mut last_batch = Vec::new();
    for s in 0..4 {
        let identity = Identity::from_seed(rand::random());
        let messaging = MessagingIdentity::generate(&identity, &mut rand::rng());
        let mut hand = Hand::new(identity.clone(), &messaging, &ben, &keys, addr.clone());
        let mut envelopes = Vec::new();
        for i in 0..26 {
            let roster = new_roster(&identity, &format!("spam {s}-{i}"), &[me]);
            let group = roster.body.group;
            if s == 3 {
                last_batch.push(group);
            }
            envelopes.push(hand_update(&mut hand, group, Some(roster), None));
        }
        let results = hand.send(envelopes).await;
        assert!(
            results.iter().all(|r| *r == DmResult::Stored),
            "{results:?}"
        );
    }
    let requests = ben.node.requests().expect("requests");
    let groups = requests.iter().filter(|c| c.group.is_some()).count();
    assert_eq!(groups, 100, "at most 100 groups wait in requests");
    // The longest-quiet went: the newest are all there (each stranger's request came
    // milliseconds after the one before).
    for g in &last_batch {
        assert!(ben.node.group(g).is_ok(), "a newest request was dropped");
    }
}
