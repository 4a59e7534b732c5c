use paperplane_crypto::Identity;

use super::*;
use crate::mailbox_rules::{
    DEPOSITOR_QUOTA_BYTES, DEPOSITOR_QUOTA_ITEMS, RECIPIENT_QUOTA_BYTES, RECIPIENT_QUOTA_ITEMS,
};

const NOW: u64 = 1_700_000_000_000;

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("db")).expect("open")
}

fn peer(n: u8) -> PeerId {
    Identity::from_seed([n; 32]).peer_id()
}

/// An envelope for `recipient` with message id `n` and `size` payload bytes.
fn env(recipient: PeerId, n: u32, size: usize) -> SealedEnvelope {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    SealedEnvelope {
        recipient,
        id: MessageId(id),
        payload: vec![n as u8; size],
    }
}

fn seqs(items: &[MailItem]) -> Vec<u64> {
    items.iter().map(|i| i.seq).collect()
}

#[test]
fn deposited_mail_is_fetched_in_order_and_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let (bob, alice, carol) = (peer(1), peer(2), peer(3));
    s.keep_mail_for(&bob, true).expect("keep");
    assert!(s.keeps_mail_for(&bob).expect("read"));
    assert!(!s.keeps_mail_for(&carol).expect("read"));

    let from_alice: Vec<_> = (0..3).map(|n| env(bob, n, 100)).collect();
    assert_eq!(
        s.deposit_mail(&bob, &alice, &from_alice, NOW)
            .expect("deposit"),
        vec![DepositResult::Stored; 3]
    );
    assert_eq!(
        s.deposit_mail(&bob, &carol, &[env(bob, 0, 50)], NOW + 1)
            .expect("deposit"),
        vec![DepositResult::Stored],
        "the same id from another depositor is another message"
    );
    assert_eq!(
        s.mail_usage(&bob).expect("usage"),
        Usage {
            items: 4,
            bytes: 350
        }
    );

    let (first, more) = s.mail_after(&bob, None, 2).expect("fetch");
    assert_eq!(seqs(&first), vec![1, 2]);
    assert!(more);
    assert_eq!(first[0].depositor, alice);
    assert_eq!(first[0].envelope, from_alice[0]);
    let (rest, more) = s.mail_after(&bob, Some(2), 10).expect("fetch");
    assert_eq!(seqs(&rest), vec![3, 4]);
    assert_eq!(rest[1].depositor, carol);
    assert!(!more);
    let (none, more) = s.mail_after(&bob, Some(4), 10).expect("fetch");
    assert!(none.is_empty() && !more);
    assert_eq!(
        s.mail_after(&bob, Some(u64::MAX), 10).expect("fetch").0,
        vec![]
    );
    // Exactly `limit` left: no more.
    assert!(!s.mail_after(&bob, Some(2), 2).expect("fetch").1);

    assert_eq!(s.ack_mail(&bob, 2).expect("ack"), 2);
    assert_eq!(s.ack_mail(&bob, 2).expect("ack again"), 0);
    assert_eq!(
        seqs(&s.mail_after(&bob, None, 10).expect("fetch").0),
        vec![3, 4]
    );
    assert_eq!(
        s.mail_usage(&bob).expect("usage"),
        Usage {
            items: 2,
            bytes: 150
        }
    );
    assert_eq!(s.ack_mail(&bob, 4).expect("ack"), 2);
    assert_eq!(s.mail_usage(&bob).expect("usage"), Usage::default());
    assert_eq!(
        s.mail_clients().expect("clients"),
        vec![(bob, Usage::default())]
    );
    // Nothing is left behind: no counters, no dedup or expiry entries.
    assert!(s.mail.usage.is_empty());
    assert!(s.mail.dedup.is_empty());
    assert!(s.mail.expiry.is_empty());
}

#[test]
fn seqs_keep_increasing_across_acks_and_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (bob, alice) = (peer(1), peer(2));
    {
        let s = open(&dir);
        s.keep_mail_for(&bob, true).expect("keep");
        s.deposit_mail(&bob, &alice, &[env(bob, 1, 10), env(bob, 2, 10)], NOW)
            .expect("deposit");
        assert_eq!(s.ack_mail(&bob, u64::MAX).expect("ack"), 2);
        s.flush_blocking().expect("flush");
    }
    let s = open(&dir);
    s.deposit_mail(&bob, &alice, &[env(bob, 3, 10)], NOW)
        .expect("deposit");
    assert_eq!(
        seqs(&s.mail_after(&bob, None, 10).expect("fetch").0),
        vec![3]
    );
    // Turning keeping off and on again does not reuse them either.
    s.keep_mail_for(&bob, false).expect("off");
    s.keep_mail_for(&bob, true).expect("on");
    s.deposit_mail(&bob, &alice, &[env(bob, 4, 10)], NOW)
        .expect("deposit");
    assert_eq!(
        seqs(&s.mail_after(&bob, None, 10).expect("fetch").0),
        vec![4]
    );
    // Each recipient has its own sequence.
    let carol = peer(3);
    s.keep_mail_for(&carol, true).expect("keep");
    s.deposit_mail(&carol, &alice, &[env(carol, 1, 10)], NOW)
        .expect("deposit");
    assert_eq!(
        seqs(&s.mail_after(&carol, None, 10).expect("fetch").0),
        vec![1]
    );
}

#[test]
fn a_retry_is_a_duplicate_until_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let (bob, alice) = (peer(1), peer(2));
    s.keep_mail_for(&bob, true).expect("keep");
    let e = env(bob, 7, 100);
    assert_eq!(
        s.deposit_mail(&bob, &alice, &[e.clone(), e.clone()], NOW)
            .expect("deposit"),
        vec![DepositResult::Stored, DepositResult::Duplicate],
        "a repeat within one deposit too"
    );
    assert_eq!(
        s.deposit_mail(&bob, &alice, std::slice::from_ref(&e), NOW)
            .expect("retry"),
        vec![DepositResult::Duplicate]
    );
    assert_eq!(s.mail_usage(&bob).expect("usage").items, 1);
    s.ack_mail(&bob, 1).expect("ack");
    // Once the recipient has it, the mailbox forgets it (the recipient refuses replays).
    assert_eq!(
        s.deposit_mail(&bob, &alice, &[e], NOW).expect("again"),
        vec![DepositResult::Stored]
    );
}

#[test]
fn envelopes_for_others_too_large_or_not_opted_in_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let (bob, alice, carol) = (peer(1), peer(2), peer(3));
    let refused = |r| DepositResult::Refused(r);
    assert_eq!(
        s.deposit_mail(&bob, &alice, &[env(bob, 1, 10), env(bob, 2, 10)], NOW)
            .expect("deposit"),
        vec![refused(MailboxRefusal::NotKeepingFor); 2]
    );
    s.keep_mail_for(&bob, true).expect("keep");
    assert_eq!(
        s.deposit_mail(
            &bob,
            &alice,
            &[
                env(carol, 1, 10),
                env(bob, 2, MAX_SEALED_BYTES + 1),
                env(bob, 3, MAX_SEALED_BYTES),
            ],
            NOW
        )
        .expect("deposit"),
        vec![
            refused(MailboxRefusal::Malformed),
            refused(MailboxRefusal::Malformed),
            DepositResult::Stored
        ]
    );
    assert_eq!(
        s.mail_usage(&bob).expect("usage"),
        Usage {
            items: 1,
            bytes: MAX_SEALED_BYTES as u64
        }
    );
    assert!(s.mail_after(&carol, None, 10).expect("fetch").0.is_empty());
}

/// Sets `recipient`'s counters as if `usage` were held (the quotas are too large to fill in
/// a unit test).
fn pretend(s: &Store, key: &[u8], usage: Usage) {
    s.mail.usage.insert(key, &usage.to_bytes()).expect("insert");
}

#[test]
fn quotas_hold_per_recipient_and_per_depositor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let (bob, alice, carol) = (peer(1), peer(2), peer(3));
    s.keep_mail_for(&bob, true).expect("keep");
    // Alice's share is one envelope short of its item quota: one fits, the next does not.
    pretend(
        &s,
        &share_key(&bob, &alice),
        Usage {
            items: DEPOSITOR_QUOTA_ITEMS - 1,
            bytes: 0,
        },
    );
    assert_eq!(
        s.deposit_mail(&bob, &alice, &[env(bob, 1, 10), env(bob, 2, 10)], NOW)
            .expect("deposit"),
        vec![
            DepositResult::Stored,
            DepositResult::Refused(MailboxRefusal::DepositorFull)
        ]
    );
    // Carol still has her own share.
    assert_eq!(
        s.deposit_mail(&bob, &carol, &[env(bob, 1, 10)], NOW)
            .expect("deposit"),
        vec![DepositResult::Stored]
    );
    // Bytes count too.
    pretend(
        &s,
        &share_key(&bob, &carol),
        Usage {
            items: 1,
            bytes: DEPOSITOR_QUOTA_BYTES - 10,
        },
    );
    assert_eq!(
        s.deposit_mail(&bob, &carol, &[env(bob, 2, 10), env(bob, 3, 1)], NOW)
            .expect("deposit"),
        vec![
            DepositResult::Stored,
            DepositResult::Refused(MailboxRefusal::DepositorFull)
        ]
    );
    // The recipient's whole quota, whoever deposits.
    let dave = peer(4);
    pretend(
        &s,
        &peer_key(&bob),
        Usage {
            items: RECIPIENT_QUOTA_ITEMS - 1,
            bytes: 0,
        },
    );
    assert_eq!(
        s.deposit_mail(&bob, &dave, &[env(bob, 1, 10), env(bob, 2, 10)], NOW)
            .expect("deposit"),
        vec![
            DepositResult::Stored,
            DepositResult::Refused(MailboxRefusal::RecipientFull)
        ]
    );
    pretend(
        &s,
        &peer_key(&bob),
        Usage {
            items: 0,
            bytes: RECIPIENT_QUOTA_BYTES,
        },
    );
    assert_eq!(
        s.deposit_mail(&bob, &dave, &[env(bob, 3, 1)], NOW)
            .expect("deposit"),
        vec![DepositResult::Refused(MailboxRefusal::RecipientFull)]
    );
    // Acknowledging frees what it counted, in the recipient's usage and the share.
    let before = Usage {
        items: 100,
        bytes: 1_000,
    };
    pretend(&s, &peer_key(&bob), before);
    let (items, _) = s.mail_after(&bob, None, 1).expect("fetch");
    assert_eq!(items[0].depositor, alice);
    s.ack_mail(&bob, items[0].seq).expect("ack");
    assert_eq!(
        s.mail_usage(&bob).expect("usage"),
        Usage {
            items: before.items - 1,
            bytes: before.bytes - 10
        }
    );
    assert_eq!(
        usage_of(&s, &share_key(&bob, &alice)),
        Usage {
            items: DEPOSITOR_QUOTA_ITEMS - 1,
            bytes: 0
        }
    );
}

fn usage_of(s: &Store, key: &[u8]) -> Usage {
    s.mail
        .usage
        .get(key)
        .expect("read")
        .map(|v| Usage::from_bytes(&v).expect("usage"))
        .unwrap_or_default()
}

#[test]
fn mail_expires_after_thirty_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let (bob, carol, alice) = (peer(1), peer(3), peer(2));
    s.keep_mail_for(&bob, true).expect("keep");
    s.keep_mail_for(&carol, true).expect("keep");
    s.deposit_mail(&bob, &alice, &[env(bob, 1, 10), env(bob, 2, 10)], NOW)
        .expect("deposit");
    s.deposit_mail(&carol, &alice, &[env(carol, 1, 10)], NOW + 5)
        .expect("deposit");
    s.deposit_mail(&bob, &alice, &[env(bob, 3, 10)], NOW + 10)
        .expect("deposit");
    assert_eq!(s.expire_mail(0).expect("expire"), 0);
    assert_eq!(s.expire_mail(NOW + MAIL_EXPIRY_MS - 1).expect("expire"), 0);
    assert_eq!(s.expire_mail(NOW + MAIL_EXPIRY_MS).expect("expire"), 2);
    assert_eq!(
        seqs(&s.mail_after(&bob, None, 10).expect("fetch").0),
        vec![3]
    );
    assert_eq!(
        s.mail_usage(&bob).expect("usage"),
        Usage {
            items: 1,
            bytes: 10
        }
    );
    // Expired mail is forgotten: a retry is stored again.
    assert_eq!(
        s.deposit_mail(&bob, &alice, &[env(bob, 1, 10)], NOW + MAIL_EXPIRY_MS)
            .expect("deposit"),
        vec![DepositResult::Stored]
    );
    assert_eq!(s.expire_mail(NOW + MAIL_EXPIRY_MS + 10).expect("expire"), 2);
    assert!(s.mail_after(&carol, None, 10).expect("fetch").0.is_empty());
    assert_eq!(
        seqs(&s.mail_after(&bob, None, 10).expect("fetch").0),
        vec![4]
    );
}

#[test]
fn expiry_goes_through_more_than_one_chunk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let (bob, alice) = (peer(1), peer(2));
    s.keep_mail_for(&bob, true).expect("keep");
    let n = EXPIRE_CHUNK as u32 * 2 + 3;
    let all: Vec<_> = (0..n).map(|i| env(bob, i, 1)).collect();
    for chunk in all.chunks(100) {
        s.deposit_mail(&bob, &alice, chunk, NOW).expect("deposit");
    }
    // An expiry entry whose item is gone is dropped too.
    s.mail
        .expiry
        .insert(expiry_key(NOW, 9_999, &bob), &[])
        .expect("insert");
    assert_eq!(
        s.expire_mail(NOW + MAIL_EXPIRY_MS).expect("expire"),
        n as usize
    );
    assert!(s.mail.expiry.is_empty());
    assert!(s.mail.items.is_empty());
    assert_eq!(s.mail_usage(&bob).expect("usage"), Usage::default());
}

#[test]
fn turning_keeping_off_deletes_the_mail_held() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let (bob, carol, alice) = (peer(1), peer(3), peer(2));
    s.keep_mail_for(&bob, true).expect("keep");
    s.keep_mail_for(&carol, true).expect("keep");
    s.deposit_mail(&bob, &alice, &[env(bob, 1, 10), env(bob, 2, 20)], NOW)
        .expect("deposit");
    s.deposit_mail(&carol, &alice, &[env(carol, 1, 30)], NOW)
        .expect("deposit");
    s.keep_mail_for(&bob, false).expect("off");
    assert!(!s.keeps_mail_for(&bob).expect("read"));
    assert!(s.mail_after(&bob, None, 10).expect("fetch").0.is_empty());
    assert_eq!(s.mail_usage(&bob).expect("usage"), Usage::default());
    assert_eq!(
        s.mail_clients().expect("clients"),
        vec![(
            carol,
            Usage {
                items: 1,
                bytes: 30
            }
        )]
    );
    assert_eq!(
        s.deposit_mail(&bob, &alice, &[env(bob, 1, 10)], NOW)
            .expect("deposit"),
        vec![DepositResult::Refused(MailboxRefusal::NotKeepingFor)]
    );
    // Only carol's entries are left.
    assert_eq!(s.mail.dedup.len(), 1);
    assert_eq!(s.mail.expiry.len(), 1);
    assert_eq!(s.mail.usage.len(), 2);
    // Turning off someone never kept for is a no-op.
    s.keep_mail_for(&peer(9), false).expect("off");
}

#[test]
fn my_mailboxes_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    assert!(s.my_mailboxes().expect("read").is_empty());
    s.set_my_mailboxes(&[peer(1), peer(2)]).expect("set");
    assert_eq!(s.my_mailboxes().expect("read"), vec![peer(1), peer(2)]);
    s.set_my_mailboxes(&[]).expect("clear");
    assert!(s.my_mailboxes().expect("read").is_empty());
}

#[test]
fn corrupt_counters_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    let bob = peer(1);
    s.keep_mail_for(&bob, true).expect("keep");
    s.mail
        .usage
        .insert(peer_key(&bob), &[1, 2])
        .expect("insert");
    assert!(matches!(
        s.mail_usage(&bob),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        s.deposit_mail(&bob, &peer(2), &[env(bob, 1, 1)], NOW),
        Err(StoreError::Corrupt { .. })
    ));
    s.mail.seqs.insert(peer_key(&bob), &[1]).expect("insert");
    s.mail.usage.remove(peer_key(&bob)).expect("remove");
    assert!(matches!(
        s.deposit_mail(&bob, &peer(2), &[env(bob, 1, 1)], NOW),
        Err(StoreError::Corrupt { .. })
    ));
}
