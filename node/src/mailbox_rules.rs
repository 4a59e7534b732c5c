//! The mailbox host's rules (`/paperplane/mailbox/1`): how much mail it keeps for one
//! recipient and from one depositor, how fast a peer may deposit and fetch, and when a fetch
//! proves that the connection's peer is the recipient.
//!
//! Pure: no I/O and no clock. The actor passes `now` in, draws the challenge nonces, reads
//! the usage counters from the store (`store::mailbox`, which judges each envelope with
//! [`judge_deposit`] inside the transaction that stores it) and carries out the answers.
//! Every map here is bounded by [`MAX_TRACKED_PEERS`], forgetting the peer seen least
//! recently.

use std::collections::HashMap;

use paperplane_protocol::{
    mailbox::{FetchProof, MailboxRefusal, CHALLENGE_TTL_MS, FETCH_PROOF_LABEL},
    PeerId,
};

pub(crate) use crate::store::mailbox::Usage;

/// Most envelopes kept for one recipient.
pub(crate) const RECIPIENT_QUOTA_ITEMS: u64 = 10_000;
/// Most payload bytes kept for one recipient (64 MiB).
pub(crate) const RECIPIENT_QUOTA_BYTES: u64 = 64 << 20;
/// Most envelopes one depositor may have waiting for one recipient.
pub(crate) const DEPOSITOR_QUOTA_ITEMS: u64 = 1_000;
/// Most payload bytes one depositor may have waiting for one recipient (16 MiB).
pub(crate) const DEPOSITOR_QUOTA_BYTES: u64 = 16 << 20;
/// Envelopes one depositor may deposit a minute (a token bucket: a full minute's worth may
/// come at once, then they refill evenly).
pub(crate) const DEPOSITS_PER_MINUTE: u32 = 600;
/// Challenge and fetch requests one peer may make a minute (a token bucket as above).
pub(crate) const FETCHES_PER_MINUTE: u32 = 120;
/// Peers remembered by each map here; beyond it, the one seen least recently is forgotten.
pub(crate) const MAX_TRACKED_PEERS: usize = 4096;
/// Challenges one peer may hold at once; a new one beyond it replaces the oldest.
pub(crate) const MAX_CHALLENGES_PER_PEER: usize = 4;

/// The length of a bucket's refill period.
const MINUTE_MS: u64 = 60_000;

/// Whether a mailbox holding `recipient`'s mail (and `depositor`'s share of it) can take one
/// more envelope of `size` payload bytes. The recipient's quota is checked first.
pub(crate) fn judge_deposit(
    recipient: Usage,
    depositor: Usage,
    size: u64,
) -> Result<(), MailboxRefusal> {
    let exceeds = |u: Usage, items: u64, bytes: u64| {
        u.items.saturating_add(1) > items || u.bytes.saturating_add(size) > bytes
    };
    if exceeds(recipient, RECIPIENT_QUOTA_ITEMS, RECIPIENT_QUOTA_BYTES) {
        return Err(MailboxRefusal::RecipientFull);
    }
    if exceeds(depositor, DEPOSITOR_QUOTA_ITEMS, DEPOSITOR_QUOTA_BYTES) {
        return Err(MailboxRefusal::DepositorFull);
    }
    Ok(())
}

/// A map from peers to state, holding at most [`MAX_TRACKED_PEERS`] of them: a new peer
/// beyond it replaces the one seen least recently.
#[derive(Debug)]
struct Tracked<V> {
    /// Each peer's state with when it was last seen.
    peers: HashMap<PeerId, (u64, V)>,
}

impl<V> Tracked<V> {
    fn new() -> Self {
        Self {
            peers: HashMap::new(),
        }
    }

    /// `peer`'s state, made with `fresh` if it has none, marked as seen at `now`.
    fn touch(&mut self, peer: PeerId, now: u64, fresh: impl FnOnce() -> V) -> &mut V {
        if self.peers.len() >= MAX_TRACKED_PEERS && !self.peers.contains_key(&peer) {
            if let Some(oldest) = self
                .peers
                .iter()
                .min_by_key(|(_, (seen, _))| *seen)
                .map(|(p, _)| *p)
            {
                self.peers.remove(&oldest);
            }
        }
        let entry = self.peers.entry(peer).or_insert_with(|| (now, fresh()));
        entry.0 = entry.0.max(now);
        &mut entry.1
    }

    fn get(&self, peer: &PeerId) -> Option<&V> {
        self.peers.get(peer).map(|(_, v)| v)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.peers.len()
    }
}

/// A token bucket of `per_minute` tokens that refills evenly over a minute. The level is
/// kept in 1/60,000ths of a token, so refilling by the millisecond is exact.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    level: u64,
    at: u64,
}

impl Bucket {
    fn full(per_minute: u32, now: u64) -> Self {
        Self {
            level: u64::from(per_minute) * MINUTE_MS,
            at: now,
        }
    }

    /// Takes `n` tokens at `now` if there are that many.
    fn take(&mut self, per_minute: u32, n: u32, now: u64) -> bool {
        let capacity = u64::from(per_minute) * MINUTE_MS;
        let elapsed = now.saturating_sub(self.at);
        self.level = self
            .level
            .saturating_add(elapsed.saturating_mul(u64::from(per_minute)))
            .min(capacity);
        self.at = self.at.max(now);
        let cost = u64::from(n) * MINUTE_MS;
        if self.level < cost {
            return false;
        }
        self.level -= cost;
        true
    }
}

/// How fast each peer may deposit ([`DEPOSITS_PER_MINUTE`] envelopes) and fetch
/// ([`FETCHES_PER_MINUTE`] challenge and fetch requests).
#[derive(Debug)]
pub(crate) struct RateLimits {
    deposits: Tracked<Bucket>,
    fetches: Tracked<Bucket>,
}

impl RateLimits {
    /// No peer has spent anything.
    pub(crate) fn new() -> Self {
        Self {
            deposits: Tracked::new(),
            fetches: Tracked::new(),
        }
    }

    /// Charges `peer` for depositing `envelopes` at `now`; `false` (nothing charged) if its
    /// bucket holds fewer, and the whole deposit is then refused as rate limited.
    pub(crate) fn allow_deposit(&mut self, peer: PeerId, envelopes: u32, now_ms: u64) -> bool {
        self.deposits
            .touch(peer, now_ms, || Bucket::full(DEPOSITS_PER_MINUTE, now_ms))
            .take(DEPOSITS_PER_MINUTE, envelopes, now_ms)
    }

    /// Charges `peer` one challenge or fetch request at `now`; `false` if its bucket is empty.
    pub(crate) fn allow_fetch(&mut self, peer: PeerId, now_ms: u64) -> bool {
        self.fetches
            .touch(peer, now_ms, || Bucket::full(FETCHES_PER_MINUTE, now_ms))
            .take(FETCHES_PER_MINUTE, 1, now_ms)
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::new()
    }
}

/// The challenges given out: for each peer, up to [`MAX_CHALLENGES_PER_PEER`] nonces with
/// when they were issued. A nonce proves a fetch for [`CHALLENGE_TTL_MS`], as many times as
/// the recipient needs within that time (it fetches batch after batch with one challenge).
#[derive(Debug)]
pub(crate) struct Challenges {
    issued: Tracked<Vec<([u8; 32], u64)>>,
}

impl Challenges {
    /// No challenge given out.
    pub(crate) fn new() -> Self {
        Self {
            issued: Tracked::new(),
        }
    }

    /// Records that `nonce` (random, drawn by the caller) was given to `peer` at `now`.
    /// Expired nonces of `peer` are forgotten, and the oldest beyond
    /// [`MAX_CHALLENGES_PER_PEER`].
    pub(crate) fn issue(&mut self, peer: PeerId, nonce: [u8; 32], now_ms: u64) {
        let nonces = self.issued.touch(peer, now_ms, Vec::new);
        nonces.retain(|(_, at)| fresh(*at, now_ms));
        if nonces.len() >= MAX_CHALLENGES_PER_PEER {
            let excess = nonces.len() + 1 - MAX_CHALLENGES_PER_PEER;
            nonces.drain(..excess);
        }
        nonces.push((nonce, now_ms));
    }

    /// Whether `proof`, signed with `signature`, shows that `connection_peer` is the
    /// recipient whose mail this mailbox (`me`) keeps: it names this mailbox and the
    /// connection's peer, carries a nonce issued to that peer less than
    /// [`CHALLENGE_TTL_MS`] ago, and the recipient signed it under [`FETCH_PROOF_LABEL`].
    /// Anything else is [`MailboxRefusal::BadProof`].
    pub(crate) fn check(
        &self,
        me: &PeerId,
        connection_peer: &PeerId,
        proof: &FetchProof,
        signature: &[u8],
        now_ms: u64,
    ) -> Result<(), MailboxRefusal> {
        if proof.mailbox != *me || proof.recipient != *connection_peer {
            return Err(MailboxRefusal::BadProof);
        }
        let issued = self.issued.get(connection_peer).is_some_and(|nonces| {
            nonces
                .iter()
                .any(|(nonce, at)| *nonce == proof.nonce && fresh(*at, now_ms))
        });
        if !issued {
            return Err(MailboxRefusal::BadProof);
        }
        paperplane_crypto::identity::verify_labelled(
            &proof.recipient,
            FETCH_PROOF_LABEL,
            &proof.signing_bytes(),
            signature,
        )
        .map_err(|_| MailboxRefusal::BadProof)
    }
}

impl Default for Challenges {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a challenge issued at `issued_at` may still be used at `now`.
fn fresh(issued_at: u64, now: u64) -> bool {
    now.saturating_sub(issued_at) < CHALLENGE_TTL_MS
}

#[cfg(test)]
#[path = "mailbox_rules_tests.rs"]
mod tests;
