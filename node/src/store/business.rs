//! The business and conversation tools on sled, each in a tree of its own:
//!
//! - `quick_replies`: name → text;
//! - `away`: the away setting under one key;
//! - `away_sent`: peer → when the last away message went to them (8 bytes, big-endian);
//! - `chat_labels`: peer ‖ label → nothing (a chat's labels are one prefix scan);
//! - `muted`: peer → nothing.
//!
//! Searching scans the `messages` tree (see [`Store::search_messages`]).

use std::{cmp::Reverse, collections::BinaryHeap};

use paperplane_protocol::{encode, PeerId};
use serde::{Deserialize, Serialize};

use super::{
    decode_value,
    keys::{peer_key, PEER_KEY_LEN},
    messages::StoredMessage,
    Result, Store, StoreError,
};

/// The away setting as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaySetting {
    /// Whether the business is away now.
    pub away: bool,
    /// The text sent while away (kept while back).
    pub text: Option<String>,
}

const AWAY_KEY: &[u8] = b"setting";

fn label_key(peer: &PeerId, label: &str) -> Vec<u8> {
    [&peer_key(peer)[..], label.as_bytes()].concat()
}

impl Store {
    fn tree(&self, name: &str) -> Result<sled::Tree> {
        Ok(self.db.open_tree(name)?)
    }

    /// The quick replies (name, text), by name.
    pub fn quick_replies(&self) -> Result<Vec<(String, String)>> {
        self.tree("quick_replies")?
            .iter()
            .map(|item| {
                let (k, v) = item?;
                let name = String::from_utf8(k.to_vec()).map_err(|_| StoreError::Corrupt {
                    tree: "quick_replies",
                    reason: "a name that is not UTF-8".into(),
                })?;
                Ok((name, decode_value("quick_replies", &v)?))
            })
            .collect()
    }

    /// The text of the quick reply `name`.
    pub fn quick_reply(&self, name: &str) -> Result<Option<String>> {
        self.tree("quick_replies")?
            .get(name.as_bytes())?
            .map(|v| decode_value("quick_replies", &v))
            .transpose()
    }

    /// How many quick replies are saved.
    pub fn quick_reply_count(&self) -> Result<usize> {
        Ok(self.tree("quick_replies")?.len())
    }

    /// Saves the quick reply `name`.
    pub fn put_quick_reply(&self, name: &str, text: &str) -> Result<()> {
        self.tree("quick_replies")?
            .insert(name.as_bytes(), encode(&text.to_owned()))?;
        Ok(())
    }

    /// Removes the quick reply `name`; whether there was one.
    pub fn remove_quick_reply(&self, name: &str) -> Result<bool> {
        Ok(self
            .tree("quick_replies")?
            .remove(name.as_bytes())?
            .is_some())
    }

    /// The away setting (not away, no text, if never set).
    pub fn away(&self) -> Result<AwaySetting> {
        Ok(self
            .tree("away")?
            .get(AWAY_KEY)?
            .map(|v| decode_value("away", &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// Replaces the away setting.
    pub fn put_away(&self, setting: &AwaySetting) -> Result<()> {
        self.tree("away")?.insert(AWAY_KEY, encode(setting))?;
        Ok(())
    }

    /// When the last away message went to `peer` (Unix ms).
    pub fn away_sent_at(&self, peer: &PeerId) -> Result<Option<u64>> {
        let Some(v) = self.tree("away_sent")?.get(peer_key(peer))? else {
            return Ok(None);
        };
        let bytes: [u8; 8] = v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
            tree: "away_sent",
            reason: "a time that is not 8 bytes".into(),
        })?;
        Ok(Some(u64::from_be_bytes(bytes)))
    }

    /// Records that an away message went to `peer` at `at`.
    pub fn put_away_sent_at(&self, peer: &PeerId, at: u64) -> Result<()> {
        self.tree("away_sent")?
            .insert(peer_key(peer), &at.to_be_bytes())?;
        Ok(())
    }

    /// The labels of the chat with `peer`, sorted.
    pub fn chat_labels(&self, peer: &PeerId) -> Result<Vec<String>> {
        self.tree("chat_labels")?
            .scan_prefix(peer_key(peer))
            .keys()
            .map(|k| {
                let k = k?;
                String::from_utf8(k[PEER_KEY_LEN..].to_vec()).map_err(|_| StoreError::Corrupt {
                    tree: "chat_labels",
                    reason: "a label that is not UTF-8".into(),
                })
            })
            .collect()
    }

    /// Adds (`on`) or removes `label` on the chat with `peer`; whether anything changed.
    pub fn set_chat_label(&self, peer: &PeerId, label: &str, on: bool) -> Result<bool> {
        let tree = self.tree("chat_labels")?;
        let key = label_key(peer, label);
        Ok(if on {
            tree.insert(key, &[])?.is_none()
        } else {
            tree.remove(key)?.is_some()
        })
    }

    /// Whether the chat with `peer` is muted.
    pub fn is_muted(&self, peer: &PeerId) -> Result<bool> {
        Ok(self.tree("muted")?.contains_key(peer_key(peer))?)
    }

    /// Mutes or unmutes the chat with `peer`; whether anything changed.
    pub fn set_muted(&self, peer: &PeerId, muted: bool) -> Result<bool> {
        let tree = self.tree("muted")?;
        Ok(if muted {
            tree.insert(peer_key(peer), &[])?.is_none()
        } else {
            tree.remove(peer_key(peer))?.is_some()
        })
    }

    /// Moves the chat with `peer` back among the requests (after an automatic answer, which
    /// like any message sent would have accepted it). Whether there was a chat.
    pub fn keep_as_request(&self, peer: &PeerId) -> Result<bool> {
        let key = peer_key(peer);
        let Some(v) = self.chats.get(&key)? else {
            return Ok(false);
        };
        let mut chat: super::messages::Chat = decode_value("chats", &v)?;
        chat.folder = super::messages::Folder::Requests;
        self.chats.insert(key, encode(&chat))?;
        Ok(true)
    }

    /// The `limit` newest messages (by sender's time) of every chat for which `keep` holds,
    /// newest first: one scan of the `messages` tree, holding at most `limit` keys.
    pub fn search_messages(
        &self,
        keep: impl Fn(&StoredMessage) -> bool,
        limit: usize,
    ) -> Result<Vec<StoredMessage>> {
        let mut newest: BinaryHeap<Reverse<(u64, Vec<u8>)>> = BinaryHeap::new();
        for item in self.messages.iter() {
            let (k, v) = item?;
            let m: StoredMessage = decode_value("messages", &v)?;
            if !keep(&m) {
                continue;
            }
            newest.push(Reverse((m.sent_at, k.to_vec())));
            if newest.len() > limit {
                newest.pop();
            }
        }
        let mut out = Vec::with_capacity(newest.len());
        for Reverse((_, key)) in newest.into_sorted_vec() {
            if let Some(v) = self.messages.get(&key)? {
                out.push(self.message_row(&key, &v)?);
            }
        }
        Ok(out)
    }
}
