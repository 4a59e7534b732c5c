//! What happens to messages after they are sent: reactions, edits, unsends and read
//! receipts (the [`crate::chat_rules`]), stored beside the messages.
//!
//! - `controls`: every change sent or received, keyed like a message (peer, time, id) and
//!   indexed by id in `message_index` like one, so that a retry is recognised as a
//!   duplicate and ours can be sealed again;
//! - `marks`: a message's [`MessageMarks`], keyed like the message;
//! - `held_controls`: changes that arrived before their message (peer ‖ target id → the
//!   changes), applied when it arrives, at most [`MAX_HELD_PER_CHAT`] per chat;
//! - `chat_meta`: per chat, how far the other person has seen, the receipts switch and the
//!   newest receipt sent;
//! - `settings`: the user's global switches.
//!
//! Changes are written in the same transaction as the session that decrypted them (or
//! sealed them), like messages.

use paperplane_protocol::{MessageBody, MessageId, PeerId};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{keys::peer_key, Result, Store, StoreError};
use crate::{
    chat_rules::{self, Effect, MessageMarks, Refusal},
    store::messages::StoredMessage,
};

/// Most changes held for messages that have not arrived, per chat; beyond it, new ones are
/// acknowledged and dropped.
pub const MAX_HELD_PER_CHAT: u32 = 1_024;

/// A change (reaction, unsend, edit, read receipt) sent or received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlRow {
    /// Its own message id.
    pub id: MessageId,
    /// The other person in the chat.
    pub peer: PeerId,
    /// Whether we sent it.
    pub outgoing: bool,
    /// The sender's clock (Unix ms).
    pub sent_at: u64,
    /// What it does.
    pub body: MessageBody,
}

/// Per-chat state beside the [`super::messages::Chat`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMeta {
    /// Our messages sent at or before this time (our clock) are seen by the other person.
    pub seen_up_to: u64,
    /// When they saw them (their clock, Unix ms).
    pub seen_at: u64,
    /// Whether we send read receipts and typing in this chat (`None`: the global setting).
    pub receipts: Option<bool>,
    /// The newest of their messages our last read receipt named.
    pub last_receipt: Option<MessageId>,
    /// Changes held for messages that have not arrived.
    pub held: u32,
}

/// One item of a chat written in a transaction: a message that shows, or a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatItem {
    /// A message that shows in the chat.
    Shown(StoredMessage),
    /// A change to one.
    Control(ControlRow),
}

impl ChatItem {
    /// The item's message id.
    pub fn id(&self) -> MessageId {
        match self {
            Self::Shown(m) => m.id,
            Self::Control(c) => c.id,
        }
    }

    /// The sender's timestamp.
    pub fn sent_at(&self) -> u64 {
        match self {
            Self::Shown(m) => m.sent_at,
            Self::Control(c) => c.sent_at,
        }
    }

    /// The body.
    pub fn body(&self) -> &MessageBody {
        match self {
            Self::Shown(m) => &m.body,
            Self::Control(c) => &c.body,
        }
    }
}

/// A change applied to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The message changed.
    pub target: MessageId,
    /// Who changed it.
    pub by: PeerId,
    /// What it did.
    pub effect: Effect,
    /// The change's time (its sender's clock).
    pub at: u64,
}

/// What writing a change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlOutcome {
    /// Applied to its message.
    Applied(Applied),
    /// Its message has not arrived; kept until it does.
    Held,
    /// Our own read receipt, recorded (nothing to show).
    Recorded,
    /// Refused by the rules, or dropped (too many held); why.
    Ignored(String),
}

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<StoreError>>;

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

fn dec<T: serde::de::DeserializeOwned>(tree: &'static str, v: &[u8]) -> TxResult<T> {
    paperplane_protocol::decode(v, paperplane_protocol::limits::MAX_FRAME_BYTES).map_err(|e| {
        abort(StoreError::Corrupt {
            tree,
            reason: e.to_string(),
        })
    })
}

fn held_key(peer: &PeerId, target: &MessageId) -> Vec<u8> {
    [&peer_key(peer)[..], &target.0].concat()
}

/// The trees a transaction over chat items writes, besides the session and the chat.
pub(crate) struct ChatTx<'a> {
    pub(crate) messages: &'a TransactionalTree,
    pub(crate) index: &'a TransactionalTree,
    pub(crate) controls: &'a TransactionalTree,
    pub(crate) marks: &'a TransactionalTree,
    pub(crate) held: &'a TransactionalTree,
    pub(crate) meta: &'a TransactionalTree,
}

impl ChatTx<'_> {
    fn meta(&self, peer: &PeerId) -> TxResult<ChatMeta> {
        match self.meta.get(peer_key(peer))? {
            Some(v) => dec("chat_meta", &v),
            None => Ok(ChatMeta::default()),
        }
    }

    fn put_meta(&self, peer: &PeerId, meta: &ChatMeta) -> TxResult<()> {
        self.meta
            .insert(peer_key(peer), paperplane_protocol::encode(meta))?;
        Ok(())
    }

    /// Writes change `row` (keyed `key`, already checked new) and applies it, or holds it
    /// for its message.
    pub(crate) fn write_control(
        &self,
        me: &PeerId,
        key: &[u8],
        index_key: Vec<u8>,
        row: &ControlRow,
    ) -> TxResult<ControlOutcome> {
        self.controls
            .insert(key, paperplane_protocol::encode(row))?;
        self.index.insert(index_key, key)?;
        let Some(target) = row.body.target().copied() else {
            return Ok(ControlOutcome::Ignored("not a change".into()));
        };
        let target_index = [&target.0[..], &peer_key(&row.peer)[..]].concat();
        match self.index.get(target_index)? {
            Some(target_key) if self.messages.get(&target_key)?.is_some() => {
                self.apply(me, &target_key, row)
            }
            Some(_) => Ok(ControlOutcome::Ignored(
                "a change names another change".into(),
            )),
            None => {
                let mut meta = self.meta(&row.peer)?;
                if meta.held >= MAX_HELD_PER_CHAT {
                    return Ok(ControlOutcome::Ignored(
                        "too many changes waiting for their messages".into(),
                    ));
                }
                let hkey = held_key(&row.peer, &target);
                let mut held: Vec<ControlRow> = match self.held.get(&hkey)? {
                    Some(v) => dec("held_controls", &v)?,
                    None => Vec::new(),
                };
                held.push(row.clone());
                self.held.insert(hkey, paperplane_protocol::encode(&held))?;
                meta.held += 1;
                self.put_meta(&row.peer, &meta)?;
                Ok(ControlOutcome::Held)
            }
        }
    }

    /// Applies the changes held for the message just written at `key`.
    pub(crate) fn release_held(
        &self,
        me: &PeerId,
        peer: &PeerId,
        id: &MessageId,
        key: &[u8],
    ) -> TxResult<Vec<Applied>> {
        let hkey = held_key(peer, id);
        let Some(v) = self.held.remove(hkey)? else {
            return Ok(Vec::new());
        };
        let mut held: Vec<ControlRow> = dec("held_controls", &v)?;
        held.sort_by_key(|r| r.sent_at);
        let mut meta = self.meta(peer)?;
        meta.held = meta.held.saturating_sub(held.len() as u32);
        self.put_meta(peer, &meta)?;
        let mut out = Vec::new();
        for row in &held {
            if let ControlOutcome::Applied(a) = self.apply(me, key, row)? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Applies `row` to the message at `target_key`.
    fn apply(&self, me: &PeerId, target_key: &[u8], row: &ControlRow) -> TxResult<ControlOutcome> {
        let Some(v) = self.messages.get(target_key)? else {
            return Ok(ControlOutcome::Ignored("no such message".into()));
        };
        let mut target: StoredMessage = dec("messages", &v)?;
        let mut marks: MessageMarks = match self.marks.get(target_key)? {
            Some(v) => dec("marks", &v)?,
            None => MessageMarks::default(),
        };
        let actor = if row.outgoing { *me } else { row.peer };
        let effect = chat_rules::apply(&target, &mut marks, me, &actor, &row.body, row.sent_at);
        match &effect {
            Effect::Nothing(why) => return Ok(ControlOutcome::Ignored(why.to_string())),
            Effect::Seen { .. } if row.outgoing => {
                let mut meta = self.meta(&row.peer)?;
                meta.last_receipt = Some(target.id);
                self.put_meta(&row.peer, &meta)?;
                return Ok(ControlOutcome::Recorded);
            }
            Effect::Seen { up_to } => {
                let mut meta = self.meta(&row.peer)?;
                if *up_to <= meta.seen_up_to && meta.seen_at != 0 {
                    return Ok(ControlOutcome::Ignored(Refusal::Superseded.to_string()));
                }
                meta.seen_up_to = (*up_to).max(meta.seen_up_to);
                meta.seen_at = row.sent_at.max(meta.seen_at);
                self.put_meta(&row.peer, &meta)?;
            }
            Effect::Unsent => {
                // The text goes for everyone: only the row's place in the chat stays.
                target.body = MessageBody::Text(String::new());
                self.messages
                    .insert(target_key, paperplane_protocol::encode(&target))?;
                self.marks
                    .insert(target_key, paperplane_protocol::encode(&marks))?;
            }
            Effect::Reacted(_) | Effect::Edited(_) => {
                self.marks
                    .insert(target_key, paperplane_protocol::encode(&marks))?;
            }
        }
        Ok(ControlOutcome::Applied(Applied {
            target: target.id,
            by: actor,
            effect,
            at: row.sent_at,
        }))
    }
}

impl Store {
    /// The marks of the message stored at `key` (a message key).
    pub(crate) fn marks_at(&self, key: &[u8]) -> Result<Option<MessageMarks>> {
        self.marks
            .get(key)?
            .map(|v| super::messages::dec("marks", &v))
            .transpose()
    }

    /// The marks of the message `id` in the chat with `peer`, and the message.
    pub fn message_with_marks(
        &self,
        peer: &PeerId,
        id: &MessageId,
    ) -> Result<Option<(StoredMessage, MessageMarks)>> {
        let ikey = [&id.0[..], &peer_key(peer)[..]].concat();
        let Some(key) = self.message_index.get(ikey)? else {
            return Ok(None);
        };
        let Some(m) = self.message_at_key(&key)? else {
            return Ok(None);
        };
        Ok(Some((m, self.marks_at(&key)?.unwrap_or_default())))
    }

    /// The ids of stored messages (and changes) whose hex form starts with `prefix` (lower
    /// case hex), at most `limit`.
    pub fn message_ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<MessageId>> {
        let whole = &prefix[..prefix.len() - prefix.len() % 2];
        let bytes = hex::decode(whole).map_err(|_| StoreError::Corrupt {
            tree: "message_index",
            reason: "a prefix that is not hex".into(),
        })?;
        let mut out: Vec<MessageId> = Vec::new();
        for key in self.message_index.scan_prefix(bytes).keys() {
            let key = key?;
            let Some(id) = key.get(..16).and_then(|b| <[u8; 16]>::try_from(b).ok()) else {
                continue;
            };
            let id = MessageId(id);
            if id.to_hex().starts_with(prefix) && !out.contains(&id) {
                out.push(id);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The chat's [`ChatMeta`] (defaults if none was written).
    pub fn chat_meta(&self, peer: &PeerId) -> Result<ChatMeta> {
        Ok(self
            .chat_meta
            .get(peer_key(peer))?
            .map(|v| super::messages::dec("chat_meta", &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// Changes the chat's [`ChatMeta`] (the actor is the one writer).
    pub fn update_chat_meta(&self, peer: &PeerId, f: impl FnOnce(&mut ChatMeta)) -> Result<()> {
        let mut meta = self.chat_meta(peer)?;
        f(&mut meta);
        self.chat_meta
            .insert(peer_key(peer), paperplane_protocol::encode(&meta))?;
        Ok(())
    }

    /// Whether any change waits for one of `ids` from `peer` (so that storing them must
    /// apply it).
    pub(crate) fn has_held_for(&self, peer: &PeerId, ids: &[MessageId]) -> Result<bool> {
        if self.held_controls.is_empty() {
            return Ok(false);
        }
        for id in ids {
            if self.held_controls.contains_key(held_key(peer, id))? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The user's global read-receipt switch (on unless switched off); it also covers
    /// typing indicators.
    pub fn read_receipts(&self) -> Result<bool> {
        Ok(self
            .settings
            .get(b"read_receipts")?
            .is_none_or(|v| v.first() != Some(&0)))
    }

    /// Switches read receipts (and typing indicators) on or off for every chat without a
    /// setting of its own.
    pub fn set_read_receipts(&self, on: bool) -> Result<()> {
        self.settings.insert(b"read_receipts", &[u8::from(on)])?;
        Ok(())
    }

    /// Whether receipts and typing go to `peer`: the chat's own switch, else the global one.
    pub fn receipts_to(&self, peer: &PeerId) -> Result<bool> {
        match self.chat_meta(peer)?.receipts {
            Some(on) => Ok(on),
            None => self.read_receipts(),
        }
    }
}
