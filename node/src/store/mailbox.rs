//! Mail this node keeps for others (`/paperplane/mailbox/1`, the host side), and the
//! mailboxes the user names in their own profile.
//!
//! The node keeps mail only for the recipients the user opted in. A deposit is judged and
//! stored envelope by envelope in one transaction, with the usage counters it is judged
//! against, so the quotas of `crate::mailbox_rules` hold exactly; the caller flushes before
//! answering. Sequence numbers increase per recipient for good: the next one is kept apart
//! from the items, so neither acknowledging nor restarting ever reuses one.
//!
//! | tree | key → value |
//! |---|---|
//! | `mail_clients` | recipient → empty: the recipients this node keeps mail for |
//! | `mail_items` | recipient ‖ seq → [`StoredMail`] |
//! | `mail_dedup` | recipient ‖ depositor ‖ message id → seq: what is held, to answer a retry |
//! | `mail_usage` | recipient → [`Usage`] of all its mail; recipient ‖ depositor → that depositor's share (absent when empty) |
//! | `mail_seqs` | recipient → the next seq (8 bytes, big-endian) |
//! | `mail_expiry` | deposited_at ‖ seq ‖ recipient → empty: items by age, for [`Store::expire_mail`] |
//!
//! The user's own mailboxes are one entry of `settings` (`my_mailboxes`).

use paperplane_protocol::{
    dm::MAX_SEALED_BYTES,
    encode,
    mailbox::{DepositResult, MailItem, MailboxRefusal, MAIL_EXPIRY_MS},
    MessageId, PeerId, SealedEnvelope,
};
use serde::{Deserialize, Serialize};
use sled::{
    transaction::{ConflictableTransactionError, TransactionalTree},
    Transactional,
};

use super::{keys::peer_key, messages::tx_result, Result, Store, StoreError};
use crate::mailbox_rules::judge_deposit;

/// How much mail is held: envelopes and their payload bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Envelopes held.
    pub items: u64,
    /// Their payload bytes.
    pub bytes: u64,
}

impl Usage {
    fn to_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.items.to_be_bytes());
        out[8..].copy_from_slice(&self.bytes.to_be_bytes());
        out
    }

    fn from_bytes(v: &[u8]) -> Result<Self> {
        let field = |range: std::ops::Range<usize>| {
            v.get(range)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
        };
        match (v.len(), field(0..8), field(8..16)) {
            (16, Some(items), Some(bytes)) => Ok(Self { items, bytes }),
            _ => Err(StoreError::Corrupt {
                tree: "mail_usage",
                reason: format!("a value of {} bytes", v.len()),
            }),
        }
    }

    fn is_empty(self) -> bool {
        self == Self::default()
    }
}

/// One envelope kept for a recipient, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMail {
    /// Who deposited it (the connection's peer).
    pub depositor: PeerId,
    /// When it was deposited (Unix ms); it expires [`MAIL_EXPIRY_MS`] later.
    pub deposited_at: u64,
    /// The sealed envelope, unchanged.
    pub envelope: SealedEnvelope,
}

/// Expired items removed per transaction.
const EXPIRE_CHUNK: usize = 256;

/// The key of the user's mailboxes in `settings`.
const MY_MAILBOXES_KEY: &[u8] = b"my_mailboxes";

/// The mailbox trees.
#[derive(Clone)]
pub(crate) struct MailTrees {
    clients: sled::Tree,
    items: sled::Tree,
    dedup: sled::Tree,
    usage: sled::Tree,
    seqs: sled::Tree,
    expiry: sled::Tree,
}

impl MailTrees {
    pub(crate) fn open(db: &sled::Db) -> sled::Result<Self> {
        let t = |name: &str| db.open_tree(name);
        Ok(Self {
            clients: t("mail_clients")?,
            items: t("mail_items")?,
            dedup: t("mail_dedup")?,
            usage: t("mail_usage")?,
            seqs: t("mail_seqs")?,
            expiry: t("mail_expiry")?,
        })
    }
}

/// `recipient ‖ seq`.
fn item_key(recipient: &PeerId, seq: u64) -> Vec<u8> {
    [&peer_key(recipient)[..], &seq.to_be_bytes()].concat()
}

/// `recipient ‖ depositor ‖ id`.
fn dedup_key(recipient: &PeerId, depositor: &PeerId, id: &MessageId) -> Vec<u8> {
    [&peer_key(recipient)[..], &peer_key(depositor), &id.0].concat()
}

/// `recipient ‖ depositor`.
fn share_key(recipient: &PeerId, depositor: &PeerId) -> Vec<u8> {
    [peer_key(recipient), peer_key(depositor)].concat()
}

/// `deposited_at ‖ seq ‖ recipient`.
fn expiry_key(deposited_at: u64, seq: u64, recipient: &PeerId) -> Vec<u8> {
    [
        &deposited_at.to_be_bytes()[..],
        &seq.to_be_bytes(),
        &peer_key(recipient),
    ]
    .concat()
}

/// The seq and recipient of an expiry key.
fn split_expiry_key(k: &[u8]) -> Option<(u64, PeerId)> {
    let seq = u64::from_be_bytes(k.get(8..16)?.try_into().ok()?);
    Some((seq, PeerId::from_bytes(k.get(16..)?).ok()?))
}

/// The seq at the end of an item key.
fn seq_of_item(k: &[u8]) -> Option<u64> {
    let tail = k.len().checked_sub(8)?;
    Some(u64::from_be_bytes(k.get(tail..)?.try_into().ok()?))
}

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<StoreError>>;

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

fn usage_in(usage: &TransactionalTree, key: &[u8]) -> TxResult<Usage> {
    match usage.get(key)? {
        Some(v) => Usage::from_bytes(&v).map_err(abort),
        None => Ok(Usage::default()),
    }
}

fn put_usage(usage: &TransactionalTree, key: &[u8], u: Usage) -> TxResult<()> {
    if u.is_empty() {
        usage.remove(key)?;
    } else {
        usage.insert(key, &u.to_bytes())?;
    }
    Ok(())
}

/// The trees a removal writes, inside a transaction.
struct RemoveTx<'a> {
    items: &'a TransactionalTree,
    dedup: &'a TransactionalTree,
    usage: &'a TransactionalTree,
    expiry: &'a TransactionalTree,
}

impl RemoveTx<'_> {
    /// Removes `recipient`'s item `seq` with its dedup and expiry entries, and takes it off
    /// the usage counters; `false` if it is not held.
    fn remove(&self, recipient: &PeerId, seq: u64) -> TxResult<bool> {
        let Some(v) = self.items.remove(item_key(recipient, seq))? else {
            return Ok(false);
        };
        let mail: StoredMail = super::messages::dec("mail_items", &v).map_err(abort)?;
        let size = mail.envelope.payload.len() as u64;
        self.dedup
            .remove(dedup_key(recipient, &mail.depositor, &mail.envelope.id))?;
        self.expiry
            .remove(expiry_key(mail.deposited_at, seq, recipient))?;
        for key in [peer_key(recipient), share_key(recipient, &mail.depositor)] {
            let mut u = usage_in(self.usage, &key)?;
            u.items = u.items.saturating_sub(1);
            u.bytes = u.bytes.saturating_sub(size);
            put_usage(self.usage, &key, u)?;
        }
        Ok(true)
    }
}

impl Store {
    /// Whether this node keeps mail for `recipient` (the user's opt-in). Turning it off
    /// also deletes the mail held for them, in the same transaction.
    pub fn keep_mail_for(&self, recipient: &PeerId, keep: bool) -> Result<()> {
        let m = &self.mail;
        let rk = peer_key(recipient);
        if keep {
            m.clients.insert(rk, &[])?;
            return Ok(());
        }
        let seqs = m
            .items
            .scan_prefix(&rk)
            .keys()
            .map(|k| Ok(seq_of_item(&k?)))
            .collect::<Result<Vec<_>>>()?;
        let usage_keys = m
            .usage
            .scan_prefix(&rk)
            .keys()
            .collect::<std::result::Result<Vec<_>, _>>()?;
        tx_result(
            (&m.clients, &m.items, &m.dedup, &m.usage, &m.expiry).transaction(
                |(clients, items, dedup, usage, expiry)| {
                    clients.remove(rk.as_slice())?;
                    let tx = RemoveTx {
                        items,
                        dedup,
                        usage,
                        expiry,
                    };
                    for seq in seqs.iter().flatten() {
                        tx.remove(recipient, *seq)?;
                    }
                    for key in &usage_keys {
                        usage.remove(key)?;
                    }
                    Ok(())
                },
            ),
        )
    }

    /// Whether this node keeps mail for `recipient`.
    pub fn keeps_mail_for(&self, recipient: &PeerId) -> Result<bool> {
        Ok(self.mail.clients.contains_key(peer_key(recipient))?)
    }

    /// The recipients this node keeps mail for, each with the mail held for them.
    pub fn mail_clients(&self) -> Result<Vec<(PeerId, Usage)>> {
        let mut out = Vec::new();
        for k in self.mail.clients.iter().keys() {
            let k = k?;
            let peer = PeerId::from_bytes(&k).map_err(|e| StoreError::Corrupt {
                tree: "mail_clients",
                reason: e.to_string(),
            })?;
            out.push((peer, self.mail_usage(&peer)?));
        }
        Ok(out)
    }

    /// The mailboxes the user names in their profile (the recipient side), in order.
    pub fn my_mailboxes(&self) -> Result<Vec<PeerId>> {
        match self.settings.get(MY_MAILBOXES_KEY)? {
            Some(v) => super::messages::dec("settings", &v),
            None => Ok(Vec::new()),
        }
    }

    /// Sets the mailboxes the user names in their profile (the caller has validated them).
    pub fn set_my_mailboxes(&self, mailboxes: &[PeerId]) -> Result<()> {
        self.settings
            .insert(MY_MAILBOXES_KEY, encode(&mailboxes.to_vec()))?;
        Ok(())
    }

    /// Keeps `depositor`'s `envelopes` for `recipient`, deposited at `now_ms`, in one
    /// transaction; one result per envelope, in order. Each is refused if this node keeps no
    /// mail for `recipient` ([`MailboxRefusal::NotKeepingFor`]), if it names another
    /// recipient or is too large ([`MailboxRefusal::Malformed`]), or if it would take the
    /// recipient or the depositor past a quota; it is a duplicate if the same message id
    /// from the same depositor is held; otherwise it is stored under the recipient's next
    /// seq. Does not flush: the caller flushes before answering.
    pub fn deposit_mail(
        &self,
        recipient: &PeerId,
        depositor: &PeerId,
        envelopes: &[SealedEnvelope],
        now_ms: u64,
    ) -> Result<Vec<DepositResult>> {
        let m = &self.mail;
        let rk = peer_key(recipient);
        let sk = share_key(recipient, depositor);
        tx_result(
            (&m.clients, &m.items, &m.dedup, &m.usage, &m.seqs, &m.expiry).transaction(
                |(clients, items, dedup, usage, seqs, expiry)| {
                    if clients.get(rk.as_slice())?.is_none() {
                        let refused = DepositResult::Refused(MailboxRefusal::NotKeepingFor);
                        return Ok(vec![refused; envelopes.len()]);
                    }
                    let mut next = match seqs.get(rk.as_slice())? {
                        Some(v) => v.as_ref().try_into().map(u64::from_be_bytes).map_err(|_| {
                            abort(StoreError::Corrupt {
                                tree: "mail_seqs",
                                reason: format!("a value of {} bytes", v.len()),
                            })
                        })?,
                        None => 1,
                    };
                    let first = next;
                    let mut all = usage_in(usage, &rk)?;
                    let mut share = usage_in(usage, &sk)?;
                    let mut results = Vec::with_capacity(envelopes.len());
                    for envelope in envelopes {
                        if envelope.recipient != *recipient
                            || envelope.payload.len() > MAX_SEALED_BYTES
                        {
                            results.push(DepositResult::Refused(MailboxRefusal::Malformed));
                            continue;
                        }
                        let dk = dedup_key(recipient, depositor, &envelope.id);
                        if dedup.get(dk.as_slice())?.is_some() {
                            results.push(DepositResult::Duplicate);
                            continue;
                        }
                        let size = envelope.payload.len() as u64;
                        if let Err(refusal) = judge_deposit(all, share, size) {
                            results.push(DepositResult::Refused(refusal));
                            continue;
                        }
                        let seq = next;
                        next = next.checked_add(1).ok_or_else(|| {
                            abort(StoreError::Corrupt {
                                tree: "mail_seqs",
                                reason: "the sequence is exhausted".into(),
                            })
                        })?;
                        let mail = StoredMail {
                            depositor: *depositor,
                            deposited_at: now_ms,
                            envelope: envelope.clone(),
                        };
                        items.insert(item_key(recipient, seq), encode(&mail))?;
                        dedup.insert(dk, &seq.to_be_bytes())?;
                        expiry.insert(expiry_key(now_ms, seq, recipient), &[])?;
                        for u in [&mut all, &mut share] {
                            u.items += 1;
                            u.bytes += size;
                        }
                        results.push(DepositResult::Stored);
                    }
                    if next != first {
                        seqs.insert(rk.as_slice(), &next.to_be_bytes())?;
                        put_usage(usage, &rk, all)?;
                        put_usage(usage, &sk, share)?;
                    }
                    Ok(results)
                },
            ),
        )
    }

    /// `recipient`'s items after seq `after` (from the first if `None`), oldest first, at
    /// most `limit`; and whether more follow.
    pub fn mail_after(
        &self,
        recipient: &PeerId,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<MailItem>, bool)> {
        let start = match after {
            None => 0,
            Some(seq) => match seq.checked_add(1) {
                Some(next) => next,
                None => return Ok((Vec::new(), false)),
            },
        };
        let range = item_key(recipient, start)..=item_key(recipient, u64::MAX);
        let mut out = Vec::new();
        for item in self.mail.items.range(range) {
            let (k, v) = item?;
            if out.len() == limit {
                return Ok((out, true));
            }
            let mail: StoredMail = super::messages::dec("mail_items", &v)?;
            out.push(MailItem {
                seq: seq_of_item(&k).unwrap_or_default(),
                depositor: mail.depositor,
                envelope: mail.envelope,
            });
        }
        Ok((out, false))
    }

    /// Deletes `recipient`'s items up to and including seq `up_to` (the recipient has
    /// stored them), with their counters and dedup entries; how many were deleted.
    pub fn ack_mail(&self, recipient: &PeerId, up_to: u64) -> Result<usize> {
        let seqs = self
            .mail
            .items
            .range(item_key(recipient, 0)..=item_key(recipient, up_to))
            .keys()
            .map(|k| Ok(seq_of_item(&k?)))
            .collect::<Result<Vec<_>>>()?;
        let seqs: Vec<u64> = seqs.into_iter().flatten().collect();
        if seqs.is_empty() {
            return Ok(0);
        }
        let m = &self.mail;
        tx_result((&m.items, &m.dedup, &m.usage, &m.expiry).transaction(
            |(items, dedup, usage, expiry)| {
                let tx = RemoveTx {
                    items,
                    dedup,
                    usage,
                    expiry,
                };
                let mut removed = 0;
                for seq in &seqs {
                    if tx.remove(recipient, *seq)? {
                        removed += 1;
                    }
                }
                Ok(removed)
            },
        ))
    }

    /// Deletes every item deposited [`MAIL_EXPIRY_MS`] or longer before `now_ms`; how many
    /// were deleted.
    pub fn expire_mail(&self, now_ms: u64) -> Result<usize> {
        let Some(cutoff) = now_ms.checked_sub(MAIL_EXPIRY_MS) else {
            return Ok(0);
        };
        let end = cutoff.saturating_add(1).to_be_bytes();
        let m = &self.mail;
        let mut removed = 0;
        loop {
            let keys = m
                .expiry
                .range(..&end[..])
                .keys()
                .take(EXPIRE_CHUNK)
                .collect::<std::result::Result<Vec<_>, _>>()?;
            if keys.is_empty() {
                return Ok(removed);
            }
            removed += tx_result((&m.items, &m.dedup, &m.usage, &m.expiry).transaction(
                |(items, dedup, usage, expiry)| {
                    let tx = RemoveTx {
                        items,
                        dedup,
                        usage,
                        expiry,
                    };
                    let mut removed = 0;
                    for k in &keys {
                        if let Some((seq, recipient)) = split_expiry_key(k) {
                            if tx.remove(&recipient, seq)? {
                                removed += 1;
                            }
                        }
                        // An entry without its item (or unreadable) goes too, so the loop ends.
                        expiry.remove(k)?;
                    }
                    Ok(removed)
                },
            ))?;
        }
    }

    /// The mail held for `recipient`.
    pub fn mail_usage(&self, recipient: &PeerId) -> Result<Usage> {
        match self.mail.usage.get(peer_key(recipient))? {
            Some(v) => Usage::from_bytes(&v),
            None => Ok(Usage::default()),
        }
    }
}

#[cfg(test)]
#[path = "mailbox_tests.rs"]
mod tests;
