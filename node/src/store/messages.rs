//! Direct messages on sled: end-to-end sessions, chats (inbox and requests), messages, the
//! outbox and blocked peers.
//!
//! Every change that must not be torn happens in one sled transaction: sending writes the
//! advanced session, the message and its outbox row together; receiving writes the advanced
//! session, the message and the chat together. Callers flush before
//! acknowledging (see the actor's group commit).

use paperplane_crypto::{encode_secret, Conversation, PrekeyStore, ReplayCache};
use paperplane_protocol::{
    decode, encode, limits::MAX_FRAME_BYTES, MessageBody, MessageId, PeerId,
};
use serde::{Deserialize, Serialize};
use sled::{
    transaction::{ConflictableTransactionError, TransactionError},
    Transactional,
};

use super::{
    chat_state::{Applied, ChatItem, ChatTx, ControlOutcome, ControlRow},
    keys::{peer_key, PEER_KEY_LEN},
    Result, Store, StoreError,
};
use crate::delivery::inbox::RateWindow;
pub use crate::delivery::Folder;

/// The key of a message and of its outbox row (the recipient, the message's timestamp and
/// its id): rows sort per recipient in the order they were written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboxKey(Vec<u8>);

impl OutboxKey {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The timestamp in the key (recipient ‖ sent_at ‖ id).
    pub(crate) fn sent_at(&self) -> u64 {
        self.0
            .get(PEER_KEY_LEN..PEER_KEY_LEN + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_be_bytes)
    }
}

/// Delivery state of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Ours, durably queued, not yet acknowledged.
    Pending,
    /// Ours, acknowledged as stored by the recipient.
    Delivered,
    /// Ours, refused or undeliverable; the reason says why.
    Failed(String),
    /// Theirs, received.
    Received,
    /// Ours, not acknowledged by the recipient, but kept for them by one of their
    /// mailboxes. (Added after the others: stored rows keep their variant numbers.)
    StoredByMailbox,
}

/// One message of a 1:1 chat, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// The sender's id for it.
    pub id: MessageId,
    /// The other person in the chat.
    pub peer: PeerId,
    /// Whether we sent it.
    pub outgoing: bool,
    /// The sender's timestamp (orders the chat).
    pub sent_at: u64,
    /// When this node stored it.
    pub stored_at: u64,
    /// The content.
    pub body: MessageBody,
    /// Delivery state.
    pub state: DeliveryState,
}

/// A chat's summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    /// The other person.
    pub peer: PeerId,
    /// Inbox or requests.
    pub folder: Folder,
    /// Time of the newest message (Unix ms).
    pub last_activity: u64,
    /// Messages received since the chat was last opened.
    pub unread: u32,
    /// The newest message.
    pub last_message: Option<MessageId>,
    /// Our newest `sent_at` in this chat (ours increase strictly).
    pub last_sent_at: u64,
    /// Messages received while in requests, in the current rate window.
    pub window_count: u32,
    /// Start of the current rate window (Unix ms).
    pub window_start: u64,
}

impl Chat {
    /// The window counting a stranger's messages into requests.
    pub(crate) fn request_window(&self) -> RateWindow {
        RateWindow {
            start: self.window_start,
            count: self.window_count,
        }
    }

    fn new(peer: PeerId, folder: Folder) -> Self {
        Self {
            peer,
            folder,
            last_activity: 0,
            unread: 0,
            last_message: None,
            last_sent_at: 0,
            window_count: 0,
            window_start: 0,
        }
    }
}

/// A sealed envelope waiting for its acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The recipient.
    pub peer: PeerId,
    /// The message inside.
    pub message: MessageId,
    /// The sealed bytes, resent unchanged on every retry.
    pub payload: Vec<u8>,
    /// When it was queued (Unix ms).
    pub queued_at: u64,
}

/// What storing a received message or change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// New message; `folder` is where its chat is.
    New {
        /// The chat's folder.
        folder: Folder,
        /// Whether this message opened the chat.
        first: bool,
        /// Changes that had arrived before it, now applied.
        released: Vec<Applied>,
    },
    /// A new change, and what it did.
    Change(ControlOutcome),
    /// A message or change with this id was already stored.
    Duplicate,
}

pub(super) fn message_key(peer: &PeerId, sent_at: u64, id: &MessageId) -> Vec<u8> {
    [&peer_key(peer)[..], &sent_at.to_be_bytes(), &id.0].concat()
}

/// The message index's key: the id, then the peer of the chat. Ids are the sender's choice,
/// so they are unique only per sender: the same id from two peers is two messages.
fn index_key(peer: &PeerId, id: &MessageId) -> Vec<u8> {
    [&id.0[..], &peer_key(peer)[..]].concat()
}

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

pub(super) fn tx_result<T>(r: std::result::Result<T, TransactionError<StoreError>>) -> Result<T> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::from(e),
    })
}

pub(crate) fn dec<T: serde::de::DeserializeOwned>(tree: &'static str, v: &[u8]) -> Result<T> {
    decode(v, MAX_FRAME_BYTES).map_err(|e| StoreError::Corrupt {
        tree,
        reason: e.to_string(),
    })
}

/// The key of the [`ReplayCache`] in the `secrets` tree.
const REPLAY_CACHE_KEY: &[u8] = b"replay_cache";

fn ser<T: Serialize>(v: &T) -> Vec<u8> {
    encode(v)
}

impl Store {
    /// Rewrites a message index of the first layout (keyed by the id alone) to the current
    /// one (id, then the chat's peer), in one batch. Runs at open; a no-op once done.
    pub(super) fn migrate_message_index(&self) -> Result<()> {
        let mut batch = sled::Batch::default();
        let mut moved = 0usize;
        for item in self.message_index.iter() {
            let (k, v) = item?;
            if k.len() != 16 {
                continue;
            }
            let peer = v.get(..PEER_KEY_LEN).ok_or_else(|| StoreError::Corrupt {
                tree: "message_index",
                reason: "a message key shorter than a peer id".into(),
            })?;
            batch.insert([&k[..], peer].concat(), v.clone());
            batch.remove(k);
            moved += 1;
        }
        if moved > 0 {
            self.message_index.apply_batch(batch)?;
            tracing::info!(moved, "message index rewritten to the per-peer layout");
        }
        Ok(())
    }

    /// The end-to-end conversation state with `peer`.
    pub fn conversation(&self, peer: &PeerId) -> Result<Option<Conversation>> {
        self.conversations
            .get(peer_key(peer))?
            .map(|v| dec("conversations", &v))
            .transpose()
    }

    /// Stores the conversation with `peer` (its sessions advanced by a typing indicator,
    /// which is not a message).
    pub fn put_conversation(&self, peer: &PeerId, conversation: &Conversation) -> Result<()> {
        self.conversations
            .insert(peer_key(peer), encode_secret(conversation).as_slice())?;
        Ok(())
    }

    /// The newest message `peer` sent in the chat with them.
    pub fn newest_received(&self, peer: &PeerId) -> Result<Option<StoredMessage>> {
        for item in self.messages.scan_prefix(peer_key(peer)).rev() {
            let (_, v) = item?;
            let m: StoredMessage = dec("messages", &v)?;
            if !m.outgoing {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// The own prekeys (secrets included).
    pub fn prekeys(&self) -> Result<Option<PrekeyStore>> {
        self.secrets
            .get(b"prekeys")?
            .map(|v| dec("secrets", &v))
            .transpose()
    }

    /// Replaces the own prekeys.
    pub fn put_prekeys(&self, prekeys: &PrekeyStore) -> Result<()> {
        self.secrets
            .insert(b"prekeys", encode_secret(prekeys).as_slice())?;
        Ok(())
    }

    /// The sessions of deleted conversations (no secret; empty if none stored).
    pub fn replay_cache(&self) -> Result<ReplayCache> {
        Ok(self
            .secrets
            .get(REPLAY_CACHE_KEY)?
            .map(|v| dec("secrets", &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// The chat with `peer`.
    pub fn chat(&self, peer: &PeerId) -> Result<Option<Chat>> {
        self.chats
            .get(peer_key(peer))?
            .map(|v| dec("chats", &v))
            .transpose()
    }

    /// Chats in `folder`, newest activity first.
    pub fn chats(&self, folder: Folder) -> Result<Vec<Chat>> {
        let mut out: Vec<Chat> = Vec::new();
        for item in self.chats.iter() {
            let chat: Chat = dec("chats", &item?.1)?;
            if chat.folder == folder {
                out.push(chat);
            }
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        Ok(out)
    }

    /// Stores messages and changes we are sending to `peer`, each with its sealed envelope
    /// as an outbox row, together with the session advanced past all of them, in one
    /// transaction; our own changes are applied to our copy of the chat at once. Returns
    /// the key of the last row written and what each change did.
    pub fn queue_outgoing(
        &self,
        me: &PeerId,
        peer: &PeerId,
        conversation: &Conversation,
        items: &[(ChatItem, Vec<u8>)],
    ) -> Result<(Option<OutboxKey>, Vec<Option<ControlOutcome>>)> {
        let pk = peer_key(peer);
        let rows: Vec<(Vec<u8>, Vec<u8>)> = items
            .iter()
            .map(|(item, payload)| {
                let entry = OutboxEntry {
                    peer: *peer,
                    message: item.id(),
                    payload: payload.clone(),
                    queued_at: match item {
                        ChatItem::Shown(m) => m.stored_at,
                        ChatItem::Control(c) => c.sent_at,
                    },
                };
                (message_key(peer, item.sent_at(), &item.id()), ser(&entry))
            })
            .collect();
        let conversation = encode_secret(conversation);
        if items.iter().all(|(i, _)| matches!(i, ChatItem::Shown(_))) {
            self.queue_messages(peer, &conversation, items, &rows)?;
            let outcomes = vec![None; items.len()];
            return Ok((rows.last().map(|(key, _)| OutboxKey(key.clone())), outcomes));
        }
        let outcomes = tx_result(
            (
                &self.conversations,
                &self.messages,
                &self.message_index,
                &self.outbox,
                &self.chats,
                &self.controls,
                &self.marks,
                &self.held_controls,
                &self.chat_meta,
            )
                .transaction(
                    |(conv, msgs, index, outbox, chats, controls, marks, held, meta)| {
                        let tx = ChatTx {
                            messages: msgs,
                            index,
                            controls,
                            marks,
                            held,
                            meta,
                        };
                        let mut chat: Chat = match chats.get(&pk)? {
                            Some(v) => dec("chats", &v).map_err(abort)?,
                            None => Chat::new(*peer, Folder::Inbox),
                        };
                        let mut outcomes = Vec::with_capacity(items.len());
                        for ((item, _), (key, entry)) in items.iter().zip(&rows) {
                            chat.last_sent_at = item.sent_at();
                            outbox.insert(key.as_slice(), entry.as_slice())?;
                            match item {
                                ChatItem::Shown(message) => {
                                    // Replying to a request accepts it.
                                    chat.folder = Folder::Inbox;
                                    chat.last_activity = chat.last_activity.max(message.sent_at);
                                    chat.last_message = Some(message.id);
                                    msgs.insert(key.as_slice(), ser(message))?;
                                    index.insert(index_key(peer, &message.id), key.as_slice())?;
                                    outcomes.push(None);
                                }
                                ChatItem::Control(row) => {
                                    let ikey = index_key(peer, &row.id);
                                    outcomes.push(Some(tx.write_control(me, key, ikey, row)?));
                                }
                            }
                        }
                        conv.insert(pk.as_slice(), conversation.as_slice())?;
                        chats.insert(pk.as_slice(), ser(&chat))?;
                        Ok(outcomes)
                    },
                ),
        )?;
        Ok((rows.last().map(|(key, _)| OutboxKey(key.clone())), outcomes))
    }

    /// [`Store::queue_outgoing`] for messages only: the common case, in a transaction over
    /// the five trees it needs.
    fn queue_messages(
        &self,
        peer: &PeerId,
        conversation: &[u8],
        items: &[(ChatItem, Vec<u8>)],
        rows: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<()> {
        let pk = peer_key(peer);
        tx_result(
            (
                &self.conversations,
                &self.messages,
                &self.message_index,
                &self.outbox,
                &self.chats,
            )
                .transaction(|(conv, msgs, index, outbox, chats)| {
                    let mut chat: Chat = match chats.get(&pk)? {
                        Some(v) => dec("chats", &v).map_err(abort)?,
                        None => Chat::new(*peer, Folder::Inbox),
                    };
                    // Replying to a request accepts it.
                    chat.folder = Folder::Inbox;
                    for ((item, _), (key, entry)) in items.iter().zip(rows) {
                        let ChatItem::Shown(message) = item else {
                            continue;
                        };
                        chat.last_activity = chat.last_activity.max(message.sent_at);
                        chat.last_message = Some(message.id);
                        chat.last_sent_at = message.sent_at;
                        msgs.insert(key.as_slice(), ser(message))?;
                        index.insert(index_key(peer, &message.id), key.as_slice())?;
                        outbox.insert(key.as_slice(), entry.as_slice())?;
                    }
                    conv.insert(pk.as_slice(), conversation)?;
                    chats.insert(pk.as_slice(), ser(&chat))?;
                    Ok(())
                }),
        )
    }

    /// The current delivery state of an outgoing message read as `Pending` from its row:
    /// delivered once its outbox row is gone, unless settling rewrote it as failed.
    ///
    /// A delivered message keeps `Pending` in its row (settling it only removes the outbox
    /// row, the hot path's one write); failures are rare and rewrite the row. Each `get`
    /// is atomic with respect to a transaction, and settling removes the outbox row and
    /// writes the failure together, so re-reading the row after seeing the outbox row gone
    /// gives the final state.
    fn resolve_state(&self, key: &[u8], mut m: StoredMessage) -> Result<StoredMessage> {
        let unsettled = matches!(
            m.state,
            DeliveryState::Pending | DeliveryState::StoredByMailbox
        );
        if !(m.outgoing && unsettled) || self.outbox.contains_key(key)? {
            return Ok(m);
        }
        m.state = match self.messages.get(key)? {
            Some(v) => match dec::<StoredMessage>("messages", &v)?.state {
                DeliveryState::Failed(why) => DeliveryState::Failed(why),
                _ => DeliveryState::Delivered,
            },
            None => DeliveryState::Delivered,
        };
        Ok(m)
    }

    /// Decodes a message row and resolves its delivery state.
    pub(super) fn message_row(&self, key: &[u8], value: &[u8]) -> Result<StoredMessage> {
        self.resolve_state(key, dec("messages", value)?)
    }

    /// Whether a message `id` is stored in the chat with `peer` (so an envelope naming that
    /// id, sent again by that peer, is a retry; from anyone else it is not).
    pub fn has_message_with(&self, peer: &PeerId, id: &MessageId) -> Result<bool> {
        Ok(self.message_index.contains_key(index_key(peer, id))?
            || self.group_update_seen(peer, id)?)
    }

    /// Stores messages and changes received from one peer together with the session
    /// advanced past all of them, in one transaction; each is deduplicated by message id,
    /// each change applied (or held for its message), and the changes held for a message
    /// that arrives applied. Returns one outcome per item, in order.
    pub fn accept_incoming(
        &self,
        me: &PeerId,
        peer: &PeerId,
        conversation: &Conversation,
        items: &[ChatItem],
        folder_if_new: Folder,
    ) -> Result<Vec<Received>> {
        let conversation = encode_secret(conversation);
        if items.is_empty() {
            // Only the session advanced (typing, group updates): no chat is opened.
            self.conversations
                .insert(peer_key(peer), conversation.as_slice())?;
            return Ok(Vec::new());
        }
        let only_messages = items.iter().all(|i| matches!(i, ChatItem::Shown(_)));
        let ids: Vec<MessageId> = items.iter().map(ChatItem::id).collect();
        if only_messages && !self.has_held_for(peer, &ids)? {
            return self.accept_messages(peer, &conversation, items, folder_if_new);
        }
        let pk = peer_key(peer);
        let keys: Vec<Vec<u8>> = items
            .iter()
            .map(|i| message_key(peer, i.sent_at(), &i.id()))
            .collect();
        tx_result(
            (
                &self.conversations,
                &self.messages,
                &self.message_index,
                &self.chats,
                &self.controls,
                &self.marks,
                &self.held_controls,
                &self.chat_meta,
            )
                .transaction(
                    |(conv, msgs, index, chats, controls, marks, held, meta)| {
                        let tx = ChatTx {
                            messages: msgs,
                            index,
                            controls,
                            marks,
                            held,
                            meta,
                        };
                        conv.insert(pk.as_slice(), conversation.as_slice())?;
                        let (mut chat, mut first) = match chats.get(&pk)? {
                            Some(v) => (dec::<Chat>("chats", &v).map_err(abort)?, false),
                            None => (Chat::new(*peer, folder_if_new), true),
                        };
                        let mut out = Vec::with_capacity(items.len());
                        for (item, mkey) in items.iter().zip(&keys) {
                            let ikey = index_key(peer, &item.id());
                            if index.get(&ikey)?.is_some() {
                                out.push(Received::Duplicate);
                                continue;
                            }
                            match item {
                                ChatItem::Shown(message) => {
                                    Self::add_received(&mut chat, message);
                                    msgs.insert(mkey.as_slice(), ser(message))?;
                                    index.insert(ikey, mkey.as_slice())?;
                                    let released = tx.release_held(me, peer, &message.id, mkey)?;
                                    out.push(Received::New {
                                        folder: chat.folder,
                                        first,
                                        released,
                                    });
                                    first = false;
                                }
                                ChatItem::Control(row) => {
                                    out.push(Received::Change(
                                        tx.write_control(me, mkey, ikey, row)?,
                                    ));
                                }
                            }
                        }
                        chats.insert(pk.as_slice(), ser(&chat))?;
                        Ok(out)
                    },
                ),
        )
    }

    /// Counts a new received message into its chat.
    fn add_received(chat: &mut Chat, message: &StoredMessage) {
        if message.sent_at >= chat.last_activity {
            chat.last_activity = message.sent_at;
            chat.last_message = Some(message.id);
        }
        chat.unread += 1;
        if chat.folder == Folder::Requests {
            let mut window = chat.request_window();
            window.record(message.stored_at);
            chat.window_start = window.start;
            chat.window_count = window.count;
        }
    }

    /// [`Store::accept_incoming`] for messages only, none awaited by a held change: the
    /// common case, in a transaction over the four trees it needs.
    fn accept_messages(
        &self,
        peer: &PeerId,
        conversation: &[u8],
        items: &[ChatItem],
        folder_if_new: Folder,
    ) -> Result<Vec<Received>> {
        let pk = peer_key(peer);
        let keys: Vec<Vec<u8>> = items
            .iter()
            .map(|i| message_key(peer, i.sent_at(), &i.id()))
            .collect();
        tx_result(
            (
                &self.conversations,
                &self.messages,
                &self.message_index,
                &self.chats,
            )
                .transaction(|(conv, msgs, index, chats)| {
                    conv.insert(pk.as_slice(), conversation)?;
                    let (mut chat, mut first) = match chats.get(&pk)? {
                        Some(v) => (dec::<Chat>("chats", &v).map_err(abort)?, false),
                        None => (Chat::new(*peer, folder_if_new), true),
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for (item, mkey) in items.iter().zip(&keys) {
                        let ChatItem::Shown(message) = item else {
                            continue;
                        };
                        let ikey = index_key(peer, &message.id);
                        if index.get(&ikey)?.is_some() {
                            out.push(Received::Duplicate);
                            continue;
                        }
                        Self::add_received(&mut chat, message);
                        msgs.insert(mkey.as_slice(), ser(message))?;
                        index.insert(ikey, mkey.as_slice())?;
                        out.push(Received::New {
                            folder: chat.folder,
                            first,
                            released: Vec::new(),
                        });
                        first = false;
                    }
                    chats.insert(pk.as_slice(), ser(&chat))?;
                    Ok(out)
                }),
        )
    }

    /// A message by id. Should two peers have used the same id, the one in the chat whose
    /// peer id sorts first.
    pub fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>> {
        match self
            .message_index
            .scan_prefix(id.0)
            .values()
            .next()
            .transpose()?
        {
            Some(key) => self
                .messages
                .get(&key)?
                .map(|v| self.message_row(&key, &v))
                .transpose(),
            None => Ok(None),
        }
    }

    /// Up to `limit` messages of the chat with `peer` before message `before` (or the
    /// newest), oldest first.
    pub fn messages(
        &self,
        peer: &PeerId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<Vec<StoredMessage>> {
        let prefix = peer_key(peer);
        let end = match before {
            Some(id) => match self.message_index.get(index_key(peer, id))? {
                Some(k) => k.to_vec(),
                None => return Ok(Vec::new()),
            },
            None => [&prefix[..], &[0xFF; 24]].concat(),
        };
        let mut out = self
            .messages
            .range(prefix.clone()..end)
            .rev()
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                self.message_row(&k, &v)
            })
            .collect::<Result<Vec<StoredMessage>>>()?;
        out.reverse();
        Ok(out)
    }

    /// Marks the chat with `peer` read; whether it had unread messages.
    pub fn mark_read(&self, peer: &PeerId) -> Result<bool> {
        self.update_chat(peer, |c| std::mem::replace(&mut c.unread, 0) > 0)
    }

    /// Moves a request to the inbox; whether there was a chat with `peer`.
    pub fn accept_request(&self, peer: &PeerId) -> Result<bool> {
        self.update_chat(peer, |c| {
            c.folder = Folder::Inbox;
            true
        })
    }

    /// Changes a chat if there is one, writing it only if `f` says it changed; whether it
    /// did.
    fn update_chat(&self, peer: &PeerId, f: impl Fn(&mut Chat) -> bool) -> Result<bool> {
        let pk = peer_key(peer);
        tx_result(self.chats.transaction(|chats| {
            let Some(v) = chats.get(&pk)? else {
                return Ok(false);
            };
            let mut chat: Chat = dec("chats", &v).map_err(abort)?;
            let changed = f(&mut chat);
            if changed {
                chats.insert(pk.as_slice(), ser(&chat))?;
            }
            Ok(changed)
        }))
    }

    /// The oldest message of the chat with `peer`.
    pub fn first_message(&self, peer: &PeerId) -> Result<Option<StoredMessage>> {
        self.messages
            .scan_prefix(peer_key(peer))
            .next()
            .map(|item| {
                let (k, v) = item?;
                self.message_row(&k, &v)
            })
            .transpose()
    }

    /// Deletes the chat with `peer`, its messages and the end-to-end sessions with `peer` in
    /// one transaction (a declined stranger leaves nothing behind; should they write again,
    /// their handshake starts over), writing `replays` (the replay cache with those sessions
    /// retired) in the same transaction if given. Outgoing messages still queued are dropped
    /// from the outbox too. The rows are listed before the transaction, so only the store's
    /// one writer (the actor) may call this: no message can arrive in between.
    pub fn delete_chat(&self, peer: &PeerId, replays: Option<&ReplayCache>) -> Result<usize> {
        let prefix = peer_key(peer);
        let (mut messages, mut controls) = (Vec::new(), Vec::new());
        for item in self.messages.scan_prefix(&prefix) {
            let (k, v) = item?;
            let m: StoredMessage = dec("messages", &v)?;
            messages.push((k, m.id));
        }
        for item in self.controls.scan_prefix(&prefix) {
            let (k, v) = item?;
            let c: ControlRow = dec("controls", &v)?;
            controls.push((k, c.id));
        }
        let keys_of = |tree: &sled::Tree| -> Result<Vec<sled::IVec>> {
            Ok(tree
                .scan_prefix(&prefix)
                .keys()
                .collect::<std::result::Result<_, _>>()?)
        };
        let outbox = keys_of(&self.outbox)?;
        let marks = keys_of(&self.marks)?;
        let held = keys_of(&self.held_controls)?;
        let replays = replays.map(ser);
        tx_result(
            (
                &self.messages,
                &self.message_index,
                &self.outbox,
                &self.chats,
                &self.conversations,
                &self.secrets,
                &self.controls,
                &self.marks,
                &self.held_controls,
                &self.chat_meta,
            )
                .transaction(
                    |(msgs, index, out, chats, convs, secrets, ctl, mks, hld, meta)| {
                        convs.remove(prefix.as_slice())?;
                        for (k, id) in &controls {
                            ctl.remove(k)?;
                            index.remove(index_key(peer, id))?;
                        }
                        for k in &marks {
                            mks.remove(k)?;
                        }
                        for k in &held {
                            hld.remove(k)?;
                        }
                        meta.remove(prefix.as_slice())?;
                        if let Some(replays) = &replays {
                            secrets.insert(REPLAY_CACHE_KEY, replays.as_slice())?;
                        }
                        for (k, id) in &messages {
                            msgs.remove(k)?;
                            index.remove(index_key(peer, id))?;
                        }
                        for k in &outbox {
                            out.remove(k)?;
                        }
                        chats.remove(prefix.as_slice())?;
                        Ok(())
                    },
                ),
        )?;
        Ok(messages.len())
    }

    /// Outbox rows for `peer` after the row `after` (or from the oldest) up to and including
    /// `up_to`, oldest first, at most `limit`, with their keys.
    pub fn outbox_for(
        &self,
        peer: &PeerId,
        after: Option<&OutboxKey>,
        up_to: &OutboxKey,
        limit: usize,
    ) -> Result<Vec<(OutboxKey, OutboxEntry)>> {
        use std::ops::Bound::{Excluded, Included};
        let start = match after {
            Some(k) => Excluded(k.as_bytes().to_vec()),
            None => Included(peer_key(peer)),
        };
        let range = self
            .outbox
            .range::<Vec<u8>, _>((start, Included(up_to.as_bytes().to_vec())));
        range
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                Ok((OutboxKey(k.to_vec()), dec("outbox", &v)?))
            })
            .collect()
    }

    /// Every outbox row for `peer`, oldest first.
    pub fn outbox_all(&self, peer: &PeerId) -> Result<Vec<(OutboxKey, OutboxEntry)>> {
        self.outbox
            .scan_prefix(peer_key(peer))
            .map(|item| {
                let (k, v) = item?;
                Ok((OutboxKey(k.to_vec()), dec("outbox", &v)?))
            })
            .collect()
    }

    /// The message or change an outbox row carries (they share the key): its id, time and
    /// body, to seal it again.
    pub fn sealed_item_at(&self, key: &OutboxKey) -> Result<Option<(MessageId, u64, MessageBody)>> {
        if let Some(m) = self.message_at_key(key.as_bytes())? {
            return Ok(Some((m.id, m.sent_at, m.body)));
        }
        if let Some(update) = self.group_update_at(key.as_bytes())? {
            return Ok(Some(update));
        }
        Ok(self
            .controls
            .get(key.as_bytes())?
            .map(|v| dec::<ControlRow>("controls", &v))
            .transpose()?
            .map(|c| (c.id, c.sent_at, c.body)))
    }

    /// The message stored at `key`, as stored.
    pub(crate) fn message_at_key(&self, key: &[u8]) -> Result<Option<StoredMessage>> {
        self.messages
            .get(key)?
            .map(|v| dec("messages", &v))
            .transpose()
    }

    /// Replaces the sealed envelopes of outbox rows for `peer` (sealed again on a fresh
    /// session) together with the conversation holding that session, in one transaction.
    /// Returns the key of the last row.
    pub fn reseal_outgoing(
        &self,
        peer: &PeerId,
        conversation: &Conversation,
        rows: &[(OutboxKey, Vec<u8>)],
    ) -> Result<Option<OutboxKey>> {
        let pk = peer_key(peer);
        tx_result(
            (&self.conversations, &self.outbox).transaction(|(conv, outbox)| {
                for (key, payload) in rows {
                    let Some(v) = outbox.get(key.as_bytes())? else {
                        continue; // settled meanwhile
                    };
                    let mut entry: OutboxEntry = dec("outbox", &v).map_err(abort)?;
                    entry.payload.clone_from(payload);
                    outbox.insert(key.as_bytes(), ser(&entry))?;
                }
                conv.insert(pk.as_slice(), ser(conversation))?;
                Ok(())
            }),
        )?;
        Ok(rows.last().map(|(key, _)| key.clone()))
    }

    /// Forgets the end-to-end sessions with `peer` (the chat and its messages stay): what a
    /// node that lost its session state looks like. The next message either way starts a
    /// fresh session.
    pub fn forget_sessions(&self, peer: &PeerId) -> Result<()> {
        self.conversations.remove(peer_key(peer))?;
        Ok(())
    }

    /// Peers with something in the outbox, each with its last row's key.
    pub fn outbox_peers(&self) -> Result<Vec<(PeerId, OutboxKey)>> {
        let mut out: Vec<(PeerId, OutboxKey)> = Vec::new();
        for item in self.outbox.iter() {
            let (k, v) = item?;
            let e: OutboxEntry = dec("outbox", &v)?;
            match out.last_mut() {
                Some((peer, last)) if *peer == e.peer => *last = OutboxKey(k.to_vec()),
                _ => out.push((e.peer, OutboxKey(k.to_vec()))),
            }
        }
        Ok(out)
    }

    /// Number of outbox rows.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Settles outbox rows (keyed like their messages) in one transaction: each row is
    /// removed, which makes its message delivered; a failure is also written into the
    /// message.
    pub fn settle(&self, rows: &[(OutboxKey, DeliveryState)]) -> Result<()> {
        // (A 1:1 group update's body, kept beside its row to seal it again, is pruned later:
        // `Store::prune_group_sent`, off this path.)
        let failed = self.groups.failed_tree();
        tx_result(
            (&self.outbox, &self.messages, failed).transaction(|(outbox, msgs, failed)| {
                for (key, state) in rows {
                    let key = key.as_bytes();
                    let Some(row) = outbox.remove(key)? else {
                        continue;
                    };
                    let DeliveryState::Failed(why) = state else {
                        continue;
                    };
                    if let Some(v) = msgs.get(key)? {
                        let mut m: StoredMessage = dec("messages", &v).map_err(abort)?;
                        m.state = state.clone();
                        msgs.insert(key, ser(&m))?;
                    } else {
                        let entry: OutboxEntry = dec("outbox", &row).map_err(abort)?;
                        if paperplane_protocol::GroupEnvelope::is_group_payload(&entry.payload) {
                            failed.insert(key, ser(why))?;
                        }
                    }
                }
                Ok(())
            }),
        )
    }

    /// Marks the messages of these outbox rows as kept by a mailbox, if they are still
    /// unsettled 1:1 messages; returns the rows marked.
    pub fn mark_stored_by_mailbox(&self, rows: &[OutboxKey]) -> Result<Vec<OutboxKey>> {
        tx_result(
            (&self.outbox, &self.messages).transaction(|(outbox, msgs)| {
                let mut marked = Vec::new();
                for key in rows {
                    let k = key.as_bytes();
                    if outbox.get(k)?.is_none() {
                        continue; // settled meanwhile
                    }
                    let Some(v) = msgs.get(k)? else {
                        continue; // a group message: its state lives with the group
                    };
                    let mut m: StoredMessage = dec("messages", &v).map_err(abort)?;
                    if m.state == DeliveryState::Pending {
                        m.state = DeliveryState::StoredByMailbox;
                        msgs.insert(k, ser(&m))?;
                        marked.push(key.clone());
                    }
                }
                Ok(marked)
            }),
        )
    }

    /// Whether `peer` is blocked.
    pub fn is_blocked(&self, peer: &PeerId) -> Result<bool> {
        Ok(self.blocked.contains_key(peer_key(peer))?)
    }

    /// Blocks or unblocks `peer`.
    pub fn set_blocked(&self, peer: &PeerId, blocked: bool, now: u64) -> Result<()> {
        if blocked {
            self.blocked.insert(peer_key(peer), &now.to_be_bytes())?;
        } else {
            self.blocked.remove(peer_key(peer))?;
        }
        Ok(())
    }

    /// Blocked peers.
    pub fn blocked(&self) -> Result<Vec<PeerId>> {
        self.blocked
            .iter()
            .map(|item| {
                let (k, _) = item?;
                PeerId::from_bytes(&k).map_err(|e| StoreError::Corrupt {
                    tree: "blocked",
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}
