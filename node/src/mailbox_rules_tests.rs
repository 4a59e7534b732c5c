use paperplane_crypto::Identity;

use super::*;

fn id(n: u8) -> Identity {
    Identity::from_seed([n; 32])
}

fn peer(n: u8) -> PeerId {
    id(n).peer_id()
}

/// A peer for each index, beyond what `[n; 32]` seeds give.
fn many_peer(i: usize) -> PeerId {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
    seed[31] = 0xaa;
    Identity::from_seed(seed).peer_id()
}

fn usage(items: u64, bytes: u64) -> Usage {
    Usage { items, bytes }
}

#[test]
fn a_deposit_fits_up_to_each_quota_exactly() {
    let none = Usage::default();
    assert_eq!(judge_deposit(none, none, 100), Ok(()));
    // The last item and the last byte of the recipient's quota fit; one more does not.
    let r = usage(RECIPIENT_QUOTA_ITEMS - 1, RECIPIENT_QUOTA_BYTES - 100);
    assert_eq!(judge_deposit(r, none, 100), Ok(()));
    assert_eq!(
        judge_deposit(r, none, 101),
        Err(MailboxRefusal::RecipientFull)
    );
    assert_eq!(
        judge_deposit(usage(RECIPIENT_QUOTA_ITEMS, 0), none, 0),
        Err(MailboxRefusal::RecipientFull)
    );
    // The depositor's share.
    let d = usage(DEPOSITOR_QUOTA_ITEMS - 1, DEPOSITOR_QUOTA_BYTES - 100);
    assert_eq!(judge_deposit(d, d, 100), Ok(()));
    assert_eq!(judge_deposit(d, d, 101), Err(MailboxRefusal::DepositorFull));
    assert_eq!(
        judge_deposit(none, usage(DEPOSITOR_QUOTA_ITEMS, 0), 0),
        Err(MailboxRefusal::DepositorFull)
    );
    // A full recipient is reported before a full depositor.
    assert_eq!(
        judge_deposit(
            usage(RECIPIENT_QUOTA_ITEMS, 0),
            usage(DEPOSITOR_QUOTA_ITEMS, 0),
            1
        ),
        Err(MailboxRefusal::RecipientFull)
    );
    // Counters near the top do not overflow.
    assert_eq!(
        judge_deposit(usage(u64::MAX, u64::MAX), none, u64::MAX),
        Err(MailboxRefusal::RecipientFull)
    );
}

#[test]
fn deposits_spend_a_minute_of_envelopes_then_refill_evenly() {
    let mut limits = RateLimits::new();
    let (a, b) = (peer(1), peer(2));
    let t = 1_000_000;
    assert!(limits.allow_deposit(a, 500, t));
    assert!(limits.allow_deposit(a, 100, t));
    assert!(!limits.allow_deposit(a, 1, t), "the minute's 600 are spent");
    // Another depositor has its own budget.
    assert!(limits.allow_deposit(b, 600, t));
    // A tenth of a minute gives back a tenth: 60 envelopes, not 61.
    assert!(!limits.allow_deposit(a, 61, t + 6_000));
    assert!(limits.allow_deposit(a, 60, t + 6_000));
    assert!(!limits.allow_deposit(a, 1, t + 6_000));
    // A refused deposit charges nothing; a long pause refills no more than a minute's worth.
    assert!(limits.allow_deposit(a, 600, t + 3_600_000));
    assert!(!limits.allow_deposit(a, 1, t + 3_600_000));
    // More than a minute's worth never fits.
    assert!(!limits.allow_deposit(peer(3), DEPOSITS_PER_MINUTE + 1, t));
    // A clock stepping back refills nothing and does not panic.
    assert!(!limits.allow_deposit(a, 1, t));
}

#[test]
fn fetches_are_limited_per_peer_and_refill() {
    let mut limits = RateLimits::new();
    let a = peer(1);
    let t = 5_000;
    for _ in 0..FETCHES_PER_MINUTE {
        assert!(limits.allow_fetch(a, t));
    }
    assert!(!limits.allow_fetch(a, t));
    assert!(limits.allow_fetch(peer(2), t));
    // One token back every half second (120 a minute).
    assert!(!limits.allow_fetch(a, t + 499));
    assert!(limits.allow_fetch(a, t + 500));
    assert!(!limits.allow_fetch(a, t + 500));
    // Deposits and fetches are separate budgets.
    assert!(limits.allow_deposit(a, 1, t + 500));
}

#[test]
fn rate_limits_track_a_bounded_number_of_peers_forgetting_the_least_recent() {
    let mut limits = RateLimits::new();
    let first = many_peer(0);
    assert!(limits.allow_deposit(first, DEPOSITS_PER_MINUTE, 0));
    assert!(!limits.allow_deposit(first, 1, 1));
    for i in 1..MAX_TRACKED_PEERS {
        assert!(limits.allow_deposit(many_peer(i), 1, 10 + i as u64));
    }
    assert_eq!(limits.deposits.len(), MAX_TRACKED_PEERS);
    // `first` is still remembered (and still spent) while the map is just full.
    assert!(!limits.allow_deposit(first, 1, 20));
    // A peer seen after everyone: the least recently seen goes, and the map stays bounded.
    let newcomer = many_peer(MAX_TRACKED_PEERS);
    assert!(limits.allow_deposit(newcomer, 1, 100_000));
    assert_eq!(limits.deposits.len(), MAX_TRACKED_PEERS);
    assert!(
        limits.deposits.get(&many_peer(1)).is_none(),
        "the least recently seen peer was forgotten"
    );
    assert!(limits.deposits.get(&first).is_some(), "seen again at 20");
}

struct Fixture {
    me: PeerId,
    recipient: Identity,
    challenges: Challenges,
    nonce: [u8; 32],
}

const T: u64 = 1_700_000_000_000;

fn fixture() -> Fixture {
    let mut challenges = Challenges::new();
    let recipient = id(7);
    let nonce = [9; 32];
    challenges.issue(recipient.peer_id(), nonce, T);
    Fixture {
        me: peer(1),
        recipient,
        challenges,
        nonce,
    }
}

fn signed(who: &Identity, proof: &FetchProof) -> Vec<u8> {
    who.sign_labelled(FETCH_PROOF_LABEL, &proof.signing_bytes())
        .to_vec()
}

impl Fixture {
    fn proof(&self) -> FetchProof {
        FetchProof {
            mailbox: self.me,
            recipient: self.recipient.peer_id(),
            nonce: self.nonce,
        }
    }

    fn check(&self, proof: &FetchProof, signature: &[u8], now: u64) -> Result<(), MailboxRefusal> {
        self.challenges
            .check(&self.me, &self.recipient.peer_id(), proof, signature, now)
    }
}

#[test]
fn a_valid_proof_passes_for_several_fetches_within_its_lifetime() {
    let f = fixture();
    let proof = f.proof();
    let sig = signed(&f.recipient, &proof);
    assert_eq!(f.check(&proof, &sig, T), Ok(()));
    assert_eq!(f.check(&proof, &sig, T + 1_000), Ok(()));
    assert_eq!(f.check(&proof, &sig, T + CHALLENGE_TTL_MS - 1), Ok(()));
}

#[test]
fn a_proof_for_another_mailbox_or_recipient_is_refused() {
    let f = fixture();
    let other_mailbox = FetchProof {
        mailbox: peer(2),
        ..f.proof()
    };
    let sig = signed(&f.recipient, &other_mailbox);
    assert_eq!(
        f.check(&other_mailbox, &sig, T),
        Err(MailboxRefusal::BadProof)
    );
    // Another recipient, signing for itself, on the recipient's connection.
    let other = id(8);
    let other_recipient = FetchProof {
        recipient: other.peer_id(),
        ..f.proof()
    };
    let sig = signed(&other, &other_recipient);
    assert_eq!(
        f.check(&other_recipient, &sig, T),
        Err(MailboxRefusal::BadProof)
    );
}

#[test]
fn a_valid_proof_shown_by_another_peer_is_refused() {
    let mut f = fixture();
    let proof = f.proof();
    let sig = signed(&f.recipient, &proof);
    let thief = peer(9);
    // Even with a challenge of its own carrying the same nonce.
    f.challenges.issue(thief, f.nonce, T);
    assert_eq!(
        f.challenges.check(&f.me, &thief, &proof, &sig, T),
        Err(MailboxRefusal::BadProof)
    );
}

#[test]
fn an_unknown_or_expired_nonce_is_refused() {
    let mut f = fixture();
    let unknown = FetchProof {
        nonce: [1; 32],
        ..f.proof()
    };
    let sig = signed(&f.recipient, &unknown);
    assert_eq!(f.check(&unknown, &sig, T), Err(MailboxRefusal::BadProof));
    // A nonce issued to another peer is not the recipient's.
    f.challenges.issue(peer(3), [1; 32], T);
    assert_eq!(f.check(&unknown, &sig, T), Err(MailboxRefusal::BadProof));
    let proof = f.proof();
    let sig = signed(&f.recipient, &proof);
    assert_eq!(
        f.check(&proof, &sig, T + CHALLENGE_TTL_MS),
        Err(MailboxRefusal::BadProof)
    );
    // Nobody has been issued anything.
    assert_eq!(
        Challenges::new().check(&f.me, &f.recipient.peer_id(), &proof, &sig, T),
        Err(MailboxRefusal::BadProof)
    );
}

#[test]
fn a_bad_signature_is_refused() {
    let f = fixture();
    let proof = f.proof();
    // Signed by someone else, under another label, over other bytes, or not a signature.
    let by_other = signed(&id(8), &proof);
    let other_label = f
        .recipient
        .sign_labelled("paperplane/other/1", &proof.signing_bytes())
        .to_vec();
    let other_bytes = signed(
        &f.recipient,
        &FetchProof {
            nonce: [2; 32],
            ..proof.clone()
        },
    );
    let mut flipped = signed(&f.recipient, &proof);
    flipped[0] ^= 1;
    for sig in [
        by_other,
        other_label,
        other_bytes,
        flipped,
        vec![],
        vec![0; 64],
    ] {
        assert_eq!(f.check(&proof, &sig, T), Err(MailboxRefusal::BadProof));
    }
}

#[test]
fn a_peer_holds_a_few_challenges_and_the_oldest_goes_first() {
    let mut challenges = Challenges::new();
    let recipient = id(7);
    let me = peer(1);
    for n in 0..=MAX_CHALLENGES_PER_PEER as u8 {
        challenges.issue(recipient.peer_id(), [n; 32], T + u64::from(n));
    }
    let works = |c: &Challenges, n: u8| {
        let proof = FetchProof {
            mailbox: me,
            recipient: recipient.peer_id(),
            nonce: [n; 32],
        };
        let sig = signed(&recipient, &proof);
        c.check(&me, &recipient.peer_id(), &proof, &sig, T + 10)
            .is_ok()
    };
    assert!(!works(&challenges, 0), "the oldest was replaced");
    for n in 1..=MAX_CHALLENGES_PER_PEER as u8 {
        assert!(works(&challenges, n));
    }
    assert_eq!(
        challenges.issued.get(&recipient.peer_id()).map(Vec::len),
        Some(MAX_CHALLENGES_PER_PEER)
    );
}

#[test]
fn challenges_track_a_bounded_number_of_peers() {
    let mut challenges = Challenges::new();
    for i in 0..=MAX_TRACKED_PEERS {
        challenges.issue(many_peer(i), [1; 32], T + i as u64);
    }
    assert_eq!(challenges.issued.len(), MAX_TRACKED_PEERS);
    assert!(challenges.issued.get(&many_peer(0)).is_none());
    assert!(challenges
        .issued
        .get(&many_peer(MAX_TRACKED_PEERS))
        .is_some());
}
