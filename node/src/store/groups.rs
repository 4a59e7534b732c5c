//! Group chats in the store. The actor (the only writer) reads what it needs, decides, and
//! writes every change of one step — roster, keys, messages, outbox rows, the session of a
//! 1:1 update — as one [`GroupBatch`] in one transaction.
//!
//! | tree | key → value |
//! |---|---|
//! | `group_records` | group → [`GroupRecord`] (roster, folder, status) |
//! | `group_rosters` | group ‖ roster id → (roster, valid): the rosters known, at most [`MAX_ROSTERS_KEPT`] |
//! | `group_chats` | group → [`GroupChat`] (activity, unread, newest message) |
//! | `group_my_keys` | group → [`MyKey`] (our sender key; secret) |
//! | `group_chains` | group ‖ member ‖ key id → [`ChainRow`] (a member's chain; secret) |
//! | `group_messages` | group ‖ sent_at ‖ author ‖ id → `StoredMessage` (`peer` is the author) |
//! | `group_index` | group ‖ author ‖ id → messages key (empty for a change): dedup per (sender, id) |
//! | `group_by_id` | group ‖ id → messages key (empty for a change): an id names one thing in a group, whoever sent it |
//! | `group_marks` | messages key → `MessageMarks` |
//! | `group_seen` | group ‖ member → (our messages seen up to, when) |
//! | `group_held` | group ‖ sender ‖ key id ‖ id → [`HeldEnvelope`] (arrived before its key) |
//! | `group_held_changes` | group ‖ target id ‖ author ‖ id → [`HeldChange`] (a change before its message) |
//! | `group_sent` | outbox key → (id, sent_at, body) of a 1:1 group update, to seal it again |
//! | `group_failed` | outbox key of a group message row → why it failed for that member |
//! | `group_updates_seen` | peer ‖ id → when: 1:1 group updates already applied |
//! | `group_outgoing` | sequence → (member, update): our updates that adopting a roster called for, written with the adoption and sealed once the 1:1 session that brought the roster is stored |

use paperplane_crypto::{encode_secret, ReceiverChain, SenderKey};
use paperplane_protocol::{
    encode, Epoch, GroupEnvelope, GroupId, MessageBody, MessageId, PeerId, Roster, Signed,
};
use serde::{Deserialize, Serialize};
use sled::{transaction::ConflictableTransactionError, Transactional};

use super::{
    keys::{peer_key, PEER_KEY_LEN},
    messages::{dec, message_key, tx_result, OutboxEntry, OutboxKey, StoredMessage},
    Result, Store, StoreError,
};
use crate::{chat_rules::MessageMarks, delivery::Folder};

/// Most group envelopes held for keys that have not arrived, per group.
pub const MAX_HELD_PER_GROUP: u32 = 1_024;

/// Where the user stands in a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    /// A member.
    Member,
    /// Left the group.
    Left,
    /// Removed by an admin.
    Removed,
}

/// A group as this node holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// The roster the group is at (the fork choice of the rosters known).
    pub roster: Signed<Roster>,
    /// The last roster the user made, made again on top of the roster chosen if a concurrent
    /// change left it off the chosen branch.
    pub mine: Option<paperplane_protocol::RecordId>,
    /// Inbox, or requests when added by someone the user does not follow.
    pub folder: Folder,
    /// Member, left or removed.
    pub status: GroupStatus,
}

impl GroupRecord {
    /// The group's id.
    pub fn id(&self) -> GroupId {
        self.roster.body.group
    }
}

/// A group chat's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupChat {
    /// Time of the newest message (Unix ms).
    pub last_activity: u64,
    /// Messages received since the chat was last opened.
    pub unread: u32,
    /// The newest message, by its author and id.
    pub last_message: Option<(PeerId, MessageId)>,
    /// Envelopes held for keys not yet here.
    pub held: u32,
    /// The newest receipt we sent (the newest message seen).
    pub last_receipt: Option<MessageId>,
    /// Changes held for messages that have not arrived.
    pub held_changes: u32,
}

/// Our sender key in a group.
#[derive(Clone, Serialize, Deserialize)]
pub struct MyKey {
    /// Its id (random).
    pub key_id: u64,
    /// The epoch it seals in.
    pub epoch: Epoch,
    /// The chain and signing key.
    pub key: SenderKey,
    /// When it was made (Unix ms).
    pub created_at: u64,
    /// Messages sealed with it.
    pub sent: u32,
}

/// A member's chain as we keep it.
#[derive(Clone, Serialize, Deserialize)]
pub struct ChainRow {
    /// The epoch it seals in.
    pub epoch: Epoch,
    /// The chain.
    pub chain: ReceiverChain,
    /// When it is erased: set once it is replaced (a newer key from its member, a new
    /// epoch, the member removed), so messages still in flight can be read.
    pub retire_at: Option<u64>,
}

/// A group envelope that arrived before its sender's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldEnvelope {
    /// The message id the outer envelope named.
    pub id: MessageId,
    /// The envelope.
    pub envelope: GroupEnvelope,
    /// When it arrived.
    pub held_at: u64,
}

/// A reaction, edit, unsend or receipt that arrived before the message it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldChange {
    /// Who made it.
    pub author: PeerId,
    /// Its id.
    pub id: MessageId,
    /// Its author's clock.
    pub sent_at: u64,
    /// The change.
    pub body: MessageBody,
}

/// One of our group updates waiting to be sealed: to whom, and what.
pub type Outgoing = (PeerId, paperplane_protocol::GroupUpdate);

/// Most rosters kept per group (valid ones and ones waiting for their parent).
pub const MAX_ROSTERS_KEPT: usize = 64;

/// Most changes held for messages that have not arrived, per group.
pub const MAX_HELD_CHANGES_PER_GROUP: u32 = 1_024;

/// The group trees.
#[derive(Clone)]
pub(crate) struct GroupTrees {
    records: sled::Tree,
    rosters: sled::Tree,
    chats: sled::Tree,
    my_keys: sled::Tree,
    chains: sled::Tree,
    messages: sled::Tree,
    index: sled::Tree,
    by_id: sled::Tree,
    marks: sled::Tree,
    seen: sled::Tree,
    held: sled::Tree,
    held_changes: sled::Tree,
    sent: sled::Tree,
    failed: sled::Tree,
    updates_seen: sled::Tree,
    outgoing: sled::Tree,
}

impl GroupTrees {
    pub(crate) fn open(db: &sled::Db) -> sled::Result<Self> {
        let t = |name: &str| db.open_tree(name);
        Ok(Self {
            records: t("group_records")?,
            rosters: t("group_rosters")?,
            chats: t("group_chats")?,
            my_keys: t("group_my_keys")?,
            chains: t("group_chains")?,
            messages: t("group_messages")?,
            index: t("group_index")?,
            by_id: t("group_by_id")?,
            marks: t("group_marks")?,
            seen: t("group_seen")?,
            held: t("group_held")?,
            held_changes: t("group_held_changes")?,
            sent: t("group_sent")?,
            failed: t("group_failed")?,
            updates_seen: t("group_updates_seen")?,
            outgoing: t("group_outgoing")?,
        })
    }

    /// The trees a settle touches besides `outbox` and `messages`.
    pub(crate) fn failed_tree(&self) -> &sled::Tree {
        &self.failed
    }
}

/// Which tree a [`GroupBatch`] operation writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum GTree {
    /// `group_records`.
    Records,
    /// `group_chats`.
    Chats,
    /// `group_my_keys`.
    MyKeys,
    /// `group_chains`.
    Chains,
    /// `group_messages`.
    Messages,
    /// `group_index`.
    Index,
    /// `group_marks`.
    Marks,
    /// `group_seen`.
    Seen,
    /// `group_held`.
    Held,
    /// `group_held_changes`.
    HeldChanges,
    /// `group_sent`.
    Sent,
    /// `group_failed`.
    Failed,
    /// `group_updates_seen`.
    UpdatesSeen,
    /// `group_rosters`.
    Rosters,
    /// `group_outgoing`.
    Outgoing,
    /// `group_by_id`.
    ById,
    /// `outbox`.
    Outbox,
    /// `conversations`.
    Conversations,
}

/// Writes of one step, committed together by [`Store::commit_group_batch`].
#[derive(Default)]
pub struct GroupBatch {
    ops: Vec<Op>,
}

/// One write: the tree, the key, and the value (`None` removes).
type Op = (GTree, Vec<u8>, Option<zeroize::Zeroizing<Vec<u8>>>);

impl GroupBatch {
    /// Puts `value` at `key`.
    pub fn put(&mut self, tree: GTree, key: Vec<u8>, value: Vec<u8>) {
        self.ops
            .push((tree, key, Some(zeroize::Zeroizing::new(value))));
    }

    /// Puts secret state (wiped after the commit).
    pub fn put_secret(&mut self, tree: GTree, key: Vec<u8>, value: zeroize::Zeroizing<Vec<u8>>) {
        self.ops.push((tree, key, Some(value)));
    }

    /// Removes `key`.
    pub fn remove(&mut self, tree: GTree, key: Vec<u8>) {
        self.ops.push((tree, key, None));
    }

    /// Whether nothing is written.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Puts a group record.
    pub fn record(&mut self, record: &GroupRecord) {
        self.put(GTree::Records, record.id().0.to_vec(), encode(record));
    }

    /// Puts a roster known for the group, valid (authorised by a valid parent, or the
    /// first) or waiting for its parent.
    pub fn roster(&mut self, roster: &Signed<Roster>, valid: bool) {
        let key = [&roster.body.group.0[..], &roster.id().0].concat();
        self.put(GTree::Rosters, key, encode(&(roster, valid)));
    }

    /// Forgets a roster known for the group.
    pub fn forget_roster(&mut self, roster: &Signed<Roster>) {
        let key = [&roster.body.group.0[..], &roster.id().0].concat();
        self.remove(GTree::Rosters, key);
    }

    /// Puts a group chat's summary.
    pub fn chat(&mut self, group: &GroupId, chat: &GroupChat) {
        self.put(GTree::Chats, group.0.to_vec(), encode(chat));
    }

    /// Puts our sender key.
    pub fn my_key(&mut self, group: &GroupId, key: &MyKey) {
        self.put_secret(GTree::MyKeys, group.0.to_vec(), encode_secret(key));
    }

    /// Puts a member's chain.
    pub fn chain(&mut self, group: &GroupId, member: &PeerId, key_id: u64, row: &ChainRow) {
        self.put_secret(
            GTree::Chains,
            chain_key(group, member, key_id),
            encode_secret(row),
        );
    }

    /// Puts an outbox row.
    pub fn outbox(&mut self, key: &OutboxKey, entry: &OutboxEntry) {
        self.put(GTree::Outbox, key.as_bytes().to_vec(), encode(entry));
    }
}

/// `group ‖ member ‖ key id`.
pub fn chain_key(group: &GroupId, member: &PeerId, key_id: u64) -> Vec<u8> {
    [&group.0[..], &peer_key(member), &key_id.to_be_bytes()].concat()
}

/// `group ‖ sent_at ‖ author ‖ id`: a group chat sorts by the senders' clocks.
pub fn group_message_key(
    group: &GroupId,
    sent_at: u64,
    author: &PeerId,
    id: &MessageId,
) -> Vec<u8> {
    [
        &group.0[..],
        &sent_at.to_be_bytes(),
        &peer_key(author),
        &id.0,
    ]
    .concat()
}

/// `group ‖ author ‖ id`.
pub fn group_index_key(group: &GroupId, author: &PeerId, id: &MessageId) -> Vec<u8> {
    [&group.0[..], &peer_key(author), &id.0].concat()
}

/// `group ‖ id`.
pub fn by_id_key(group: &GroupId, id: &MessageId) -> Vec<u8> {
    [&group.0[..], &id.0].concat()
}

/// `group ‖ member`.
pub fn seen_key(group: &GroupId, member: &PeerId) -> Vec<u8> {
    [&group.0[..], &peer_key(member)].concat()
}

/// `group ‖ sender ‖ key id ‖ id`.
pub fn held_key(group: &GroupId, sender: &PeerId, key_id: u64, id: &MessageId) -> Vec<u8> {
    [&chain_key(group, sender, key_id)[..], &id.0].concat()
}

/// `group ‖ target ‖ author ‖ id`.
pub fn held_change_key(
    group: &GroupId,
    target: &MessageId,
    author: &PeerId,
    id: &MessageId,
) -> Vec<u8> {
    [&group.0[..], &target.0, &peer_key(author), &id.0].concat()
}

/// `peer ‖ id`.
pub fn update_seen_key(peer: &PeerId, id: &MessageId) -> Vec<u8> {
    [&peer_key(peer)[..], &id.0].concat()
}

/// The outbox key of a row to `member` carrying a message sent at `sent_at`.
pub fn row_key(member: &PeerId, sent_at: u64, id: &MessageId) -> OutboxKey {
    OutboxKey::from_bytes(message_key(member, sent_at, id))
}

fn get<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
    key: &[u8],
) -> Result<Option<T>> {
    tree.get(key)?.map(|v| dec(name, &v)).transpose()
}

impl Store {
    /// Commits `batch` in one transaction.
    pub fn commit_group_batch(&self, batch: &GroupBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let g = &self.groups;
        let trees: [&sled::Tree; 18] = [
            &g.records,
            &g.chats,
            &g.my_keys,
            &g.chains,
            &g.messages,
            &g.index,
            &g.marks,
            &g.seen,
            &g.held,
            &g.held_changes,
            &g.sent,
            &g.failed,
            &g.updates_seen,
            &g.rosters,
            &g.outgoing,
            &g.by_id,
            &self.outbox,
            &self.conversations,
        ];
        tx_result(trees[..].transaction(|t| {
            for (tree, key, value) in &batch.ops {
                let tree = &t[*tree as usize];
                match value {
                    Some(v) => {
                        tree.insert(key.as_slice(), v.as_slice())?;
                    }
                    None => {
                        tree.remove(key.as_slice())?;
                    }
                }
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(())
        }))
    }

    /// A group as held.
    pub fn group(&self, group: &GroupId) -> Result<Option<GroupRecord>> {
        get(&self.groups.records, "group_records", &group.0)
    }

    /// Every group held, with its chat summary.
    pub fn groups(&self) -> Result<Vec<(GroupRecord, GroupChat)>> {
        let mut out = Vec::new();
        for item in self.groups.records.iter() {
            let (k, v) = item?;
            let record: GroupRecord = dec("group_records", &v)?;
            let chat = get(&self.groups.chats, "group_chats", &k)?.unwrap_or_default();
            out.push((record, chat));
        }
        Ok(out)
    }

    /// The rosters known for `group`, each with whether it is valid.
    pub fn group_rosters(&self, group: &GroupId) -> Result<Vec<(Signed<Roster>, bool)>> {
        self.groups
            .rosters
            .scan_prefix(group.0)
            .values()
            .map(|v| dec("group_rosters", &v?))
            .collect()
    }

    /// A group chat's summary.
    pub fn group_chat(&self, group: &GroupId) -> Result<GroupChat> {
        Ok(get(&self.groups.chats, "group_chats", &group.0)?.unwrap_or_default())
    }

    /// Our sender key in `group`.
    pub fn my_group_key(&self, group: &GroupId) -> Result<Option<MyKey>> {
        get(&self.groups.my_keys, "group_my_keys", &group.0)
    }

    /// A member's chain.
    pub fn group_chain(
        &self,
        group: &GroupId,
        member: &PeerId,
        key_id: u64,
    ) -> Result<Option<ChainRow>> {
        get(
            &self.groups.chains,
            "group_chains",
            &chain_key(group, member, key_id),
        )
    }

    /// Every chain of `group`, with its member and key id.
    pub fn group_chains(&self, group: &GroupId) -> Result<Vec<(PeerId, u64, ChainRow)>> {
        let mut out = Vec::new();
        for item in self.groups.chains.scan_prefix(group.0) {
            let (k, v) = item?;
            let Some((peer, key_id)) = split_chain_key(&k) else {
                continue;
            };
            out.push((peer, key_id, dec("group_chains", &v)?));
        }
        Ok(out)
    }

    /// The chains of `member` in `group`, with their key ids.
    pub fn group_chains_of(
        &self,
        group: &GroupId,
        member: &PeerId,
    ) -> Result<Vec<(PeerId, u64, ChainRow)>> {
        let prefix = [&group.0[..], &peer_key(member)].concat();
        let mut out = Vec::new();
        for item in self.groups.chains.scan_prefix(prefix) {
            let (k, v) = item?;
            let Some((peer, key_id)) = split_chain_key(&k) else {
                continue;
            };
            out.push((peer, key_id, dec("group_chains", &v)?));
        }
        Ok(out)
    }

    /// Whether a message or change `id` from `author` is stored in `group` (or held).
    pub fn has_group_item(&self, group: &GroupId, author: &PeerId, id: &MessageId) -> Result<bool> {
        Ok(self
            .groups
            .index
            .contains_key(group_index_key(group, author, id))?)
    }

    /// Whether an envelope is held.
    pub fn is_held(&self, key: &[u8]) -> Result<bool> {
        Ok(self.groups.held.contains_key(key)?)
    }

    /// The envelopes held for `sender`'s key `key_id` in `group`, with their keys.
    pub fn held_for(
        &self,
        group: &GroupId,
        sender: &PeerId,
        key_id: u64,
    ) -> Result<Vec<(Vec<u8>, HeldEnvelope)>> {
        self.groups
            .held
            .scan_prefix(chain_key(group, sender, key_id))
            .map(|item| {
                let (k, v) = item?;
                Ok((k.to_vec(), dec("group_held", &v)?))
            })
            .collect()
    }

    /// Every envelope held in `group`, with its key.
    pub fn held_in(&self, group: &GroupId) -> Result<Vec<(Vec<u8>, HeldEnvelope)>> {
        self.groups
            .held
            .scan_prefix(group.0)
            .map(|item| {
                let (k, v) = item?;
                Ok((k.to_vec(), dec("group_held", &v)?))
            })
            .collect()
    }

    /// The changes held for message `target` of `group`, with their keys.
    pub fn held_changes_for(
        &self,
        group: &GroupId,
        target: &MessageId,
    ) -> Result<Vec<(Vec<u8>, HeldChange)>> {
        self.groups
            .held_changes
            .scan_prefix([&group.0[..], &target.0].concat())
            .map(|item| {
                let (k, v) = item?;
                Ok((k.to_vec(), dec("group_held_changes", &v)?))
            })
            .collect()
    }

    /// The group message stored under `author` and `id`, with its key and marks.
    pub fn group_message(
        &self,
        group: &GroupId,
        author: &PeerId,
        id: &MessageId,
    ) -> Result<Option<(Vec<u8>, StoredMessage, MessageMarks)>> {
        let Some(key) = self.groups.index.get(group_index_key(group, author, id))? else {
            return Ok(None);
        };
        let Some(m) = get::<StoredMessage>(&self.groups.messages, "group_messages", &key)? else {
            return Ok(None);
        };
        let marks = get(&self.groups.marks, "group_marks", &key)?.unwrap_or_default();
        Ok(Some((key.to_vec(), m, marks)))
    }

    /// The group message with id `id` (whoever sent it: an id names one thing in a group).
    pub fn group_message_by_id(
        &self,
        group: &GroupId,
        id: &MessageId,
    ) -> Result<Option<(Vec<u8>, StoredMessage, MessageMarks)>> {
        let Some(key) = self.groups.by_id.get(by_id_key(group, id))? else {
            return Ok(None);
        };
        let Some(m) = get::<StoredMessage>(&self.groups.messages, "group_messages", &key)? else {
            return Ok(None);
        };
        let marks = get(&self.groups.marks, "group_marks", &key)?.unwrap_or_default();
        Ok(Some((key.to_vec(), m, marks)))
    }

    /// Whether id `id` is taken in `group` (by a message or a change, from anyone).
    pub fn group_id_taken(&self, group: &GroupId, id: &MessageId) -> Result<bool> {
        Ok(self.groups.by_id.contains_key(by_id_key(group, id))?)
    }

    /// The newest `limit` messages of `group` (oldest first), each with its key and marks.
    pub fn group_messages(
        &self,
        group: &GroupId,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, StoredMessage, MessageMarks)>> {
        self.group_messages_before(group, None, limit)
    }

    /// Up to `limit` messages of `group` older than message `before` (or the newest),
    /// oldest first, each with its key and marks; none if `before` is not in the group.
    pub fn group_messages_before(
        &self,
        group: &GroupId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, StoredMessage, MessageMarks)>> {
        let rows = match before {
            None => self.groups.messages.scan_prefix(group.0),
            Some(id) => match self.groups.by_id.get(by_id_key(group, id))? {
                Some(end) => self.groups.messages.range(group.0.to_vec()..end.to_vec()),
                None => return Ok(Vec::new()),
            },
        };
        let mut out = Vec::new();
        for item in rows.rev().take(limit) {
            let (k, v) = item?;
            let m: StoredMessage = dec("group_messages", &v)?;
            let marks = get(&self.groups.marks, "group_marks", &k)?.unwrap_or_default();
            out.push((k.to_vec(), m, marks));
        }
        out.reverse();
        Ok(out)
    }

    /// How far each member has seen our messages in `group`: (member, up to our sent_at, when).
    pub fn group_seen(&self, group: &GroupId) -> Result<Vec<(PeerId, u64, u64)>> {
        let mut out = Vec::new();
        for item in self.groups.seen.scan_prefix(group.0) {
            let (k, v) = item?;
            let Ok(peer) = PeerId::from_bytes(&k[16..]) else {
                continue;
            };
            let (up_to, at): (u64, u64) = dec("group_seen", &v)?;
            out.push((peer, up_to, at));
        }
        Ok(out)
    }

    /// Whether the row to `member` of our group message is still unsettled, and why it
    /// failed if it did.
    pub fn group_row_state(
        &self,
        member: &PeerId,
        sent_at: u64,
        id: &MessageId,
    ) -> Result<(bool, Option<String>)> {
        let key = row_key(member, sent_at, id);
        let pending = self.outbox.contains_key(key.as_bytes())?;
        let failed = get(&self.groups.failed, "group_failed", key.as_bytes())?;
        Ok((pending, failed))
    }

    /// The (id, sent_at, body) of a 1:1 group update at outbox `key`, to seal it again.
    pub(crate) fn group_update_at(
        &self,
        key: &[u8],
    ) -> Result<Option<(MessageId, u64, MessageBody)>> {
        get(&self.groups.sent, "group_sent", key)
    }

    /// Our group updates waiting to be sealed, in order, with their keys.
    pub fn group_outgoing(&self) -> Result<Vec<(Vec<u8>, Outgoing)>> {
        self.groups
            .outgoing
            .iter()
            .map(|item| {
                let (k, v) = item?;
                Ok((k.to_vec(), dec("group_outgoing", &v)?))
            })
            .collect()
    }

    /// The key after the last waiting group update.
    pub fn next_outgoing_key(&self) -> Result<u64> {
        Ok(match self.groups.outgoing.last()? {
            Some((k, _)) => k
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .unwrap_or(u64::MAX - 1)
                .saturating_add(1),
            None => 0,
        })
    }

    /// Forgets the bodies of 1:1 group updates whose outbox rows are settled.
    pub fn prune_group_sent(&self) -> Result<()> {
        let mut batch = sled::Batch::default();
        for key in self.groups.sent.iter().keys() {
            let key = key?;
            if !self.outbox.contains_key(&key)? {
                batch.remove(key);
            }
        }
        self.groups.sent.apply_batch(batch)?;
        Ok(())
    }

    /// Forgets the marks of updates applied before `before` (Unix ms).
    pub fn prune_updates_seen(&self, before: u64) -> Result<()> {
        let mut batch = sled::Batch::default();
        for item in self.groups.updates_seen.iter() {
            let (k, v) = item?;
            let at = v.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            if at < before {
                batch.remove(k);
            }
        }
        self.groups.updates_seen.apply_batch(batch)?;
        Ok(())
    }

    /// Whether a 1:1 group update `id` from `peer` was applied already.
    pub fn group_update_seen(&self, peer: &PeerId, id: &MessageId) -> Result<bool> {
        Ok(self
            .groups
            .updates_seen
            .contains_key(update_seen_key(peer, id))?)
    }

    /// Deletes everything of `group`: record, chat, keys, messages and what waits for them
    /// (our outbox rows carrying its messages stay and settle as usual).
    pub fn delete_group(&self, group: &GroupId) -> Result<()> {
        let g = &self.groups;
        let mut batch = GroupBatch::default();
        for (tree, which) in [
            (&g.records, GTree::Records),
            (&g.rosters, GTree::Rosters),
            (&g.chats, GTree::Chats),
            (&g.my_keys, GTree::MyKeys),
            (&g.chains, GTree::Chains),
            (&g.index, GTree::Index),
            (&g.by_id, GTree::ById),
            (&g.seen, GTree::Seen),
            (&g.held, GTree::Held),
            (&g.held_changes, GTree::HeldChanges),
        ] {
            for key in tree.scan_prefix(group.0).keys() {
                batch.remove(which, key?.to_vec());
            }
        }
        for key in g.messages.scan_prefix(group.0).keys() {
            let key = key?.to_vec();
            batch.remove(GTree::Marks, key.clone());
            batch.remove(GTree::Messages, key);
        }
        self.commit_group_batch(&batch)
    }

    /// Every group this node holds (the sweep goes through them).
    pub fn group_ids(&self) -> Result<Vec<GroupId>> {
        let mut out = Vec::new();
        for k in self.groups.records.iter().keys() {
            let k = k?;
            let id: [u8; 16] = k.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                tree: "group_records",
                reason: format!("a key of {} bytes", k.len()),
            })?;
            out.push(GroupId(id));
        }
        Ok(out)
    }

    /// Bytes the group trees and the outbox take on disk, roughly (sled's own count).
    pub fn group_bytes(&self) -> u64 {
        let g = &self.groups;
        [
            &g.messages,
            &g.index,
            &g.chains,
            &g.my_keys,
            &g.chats,
            &g.records,
        ]
        .iter()
        .map(|t| {
            t.iter()
                .map(|r| r.map_or(0, |(k, v)| (k.len() + v.len()) as u64))
                .sum::<u64>()
        })
        .sum()
    }
}

fn split_chain_key(k: &[u8]) -> Option<(PeerId, u64)> {
    let peer = PeerId::from_bytes(k.get(16..16 + PEER_KEY_LEN)?).ok()?;
    let id = u64::from_be_bytes(
        k.get(16 + PEER_KEY_LEN..16 + PEER_KEY_LEN + 8)?
            .try_into()
            .ok()?,
    );
    Some((peer, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_group_key_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        store.groups.records.insert([0u8], vec![]).expect("insert");
        assert!(matches!(store.group_ids(), Err(StoreError::Corrupt { .. })));
    }
}
