//! `/paperplane/mailbox/1`: store-and-forward for people who are rarely online at the same
//! time as those who write to them.
//!
//! A user names up to [`MAX_MAILBOXES`] nodes that keep mail for them (their own always-on
//! node, or people they follow who opted in) in their signed profile. A sender that cannot
//! reach the user deposits the sealed envelopes it would have sent with one of them; the
//! user's node fetches them when it comes online, proving with a signed challenge that it is
//! the recipient, stores them as if they had arrived directly, and then acknowledges them so
//! the mailbox deletes them.
//!
//! A mailbox sees what any relay of the envelope would: the depositor (the connection's
//! peer), the recipient, each envelope's random message id and its size. It never holds a
//! key that opens one: the envelopes are the same end-to-end sealed bytes that
//! `/paperplane/dm/1` carries, and replaying one to the recipient is refused like any replay.

use serde::{Deserialize, Serialize};

use crate::{dm::SealedEnvelope, error::ValidationError, records::MessagingKeys, PeerId};

/// Most mailboxes a profile names.
pub const MAX_MAILBOXES: usize = 4;
/// Most envelopes in one deposit.
pub const MAX_DEPOSIT_ENVELOPES: usize = 128;
/// Most envelopes in one fetched batch.
pub const MAX_FETCH_ITEMS: usize = 128;
/// Largest encoded request (a deposit of [`MAX_DEPOSIT_ENVELOPES`] full envelopes).
pub const MAX_MAILBOX_REQUEST_BYTES: usize =
    MAX_DEPOSIT_ENVELOPES * (crate::dm::MAX_SEALED_BYTES + 128) + 256;
/// Largest encoded response (a batch of [`MAX_FETCH_ITEMS`] full envelopes).
pub const MAX_MAILBOX_RESPONSE_BYTES: usize =
    MAX_FETCH_ITEMS * (crate::dm::MAX_SEALED_BYTES + 192) + 256;
/// The label a recipient signs a fetch proof under.
pub const FETCH_PROOF_LABEL: &str = "paperplane/mailbox-fetch/1";
/// How long a challenge may be used (5 minutes).
pub const CHALLENGE_TTL_MS: u64 = 5 * 60 * 1000;
/// How long a mailbox keeps an envelope nobody fetched (30 days).
pub const MAIL_EXPIRY_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// What a recipient signs to fetch or acknowledge its mail: the mailbox it talks to, itself,
/// and the mailbox's fresh challenge, so a proof works at one mailbox, for one recipient,
/// for one challenge only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchProof {
    /// The mailbox asked.
    pub mailbox: PeerId,
    /// The recipient whose mail is fetched (must be the connection's peer).
    pub recipient: PeerId,
    /// The challenge the mailbox gave.
    pub nonce: [u8; 32],
}

impl FetchProof {
    /// The bytes signed (under [`FETCH_PROOF_LABEL`]).
    pub fn signing_bytes(&self) -> Vec<u8> {
        crate::encode(self)
    }
}

/// A `/paperplane/mailbox/1` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailboxRequest {
    /// Keep these envelopes for `recipient` (the depositor is the connection's peer). Every
    /// envelope must name `recipient`.
    Deposit {
        /// Whose mail.
        recipient: PeerId,
        /// The sealed envelopes, in the sender's order.
        envelopes: Vec<SealedEnvelope>,
    },
    /// Give me a challenge to sign.
    Challenge,
    /// Delete my mail up to and including `ack_up_to`, then give me what follows.
    Fetch {
        /// The signed proof of being the recipient.
        proof: FetchProof,
        /// The recipient's ed25519 signature over the proof.
        signature: Vec<u8>,
        /// The last item the recipient has stored durably (deleted now).
        ack_up_to: Option<u64>,
    },
}

/// One envelope kept for a recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailItem {
    /// Its place in the recipient's mail; increasing in the order of deposit.
    pub seq: u64,
    /// Who deposited it: the sender of the message inside.
    pub depositor: PeerId,
    /// The sealed envelope, unchanged.
    pub envelope: SealedEnvelope,
}

/// What a mailbox did with one deposited envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DepositResult {
    /// Stored durably (flushed).
    Stored,
    /// Already held (a retry).
    Duplicate,
    /// Refused.
    Refused(MailboxRefusal),
}

/// Why a mailbox refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailboxRefusal {
    /// This node keeps no mail for that recipient.
    NotKeepingFor,
    /// The recipient's mail is at its quota; try later.
    RecipientFull,
    /// The depositor's share of the recipient's mail is at its quota; try later.
    DepositorFull,
    /// Too many deposits or fetches in a short time; try later.
    RateLimited,
    /// The proof does not verify (wrong signature, recipient, mailbox or challenge).
    BadProof,
    /// An envelope is too large or names another recipient.
    Malformed,
    /// The mailbox failed to store; try later.
    Unavailable,
}

impl MailboxRefusal {
    /// Whether asking again later may succeed.
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            Self::RecipientFull | Self::DepositorFull | Self::RateLimited | Self::Unavailable
        )
    }
}

impl std::fmt::Display for MailboxRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotKeepingFor => "the mailbox keeps no mail for that recipient",
            Self::RecipientFull => "the recipient's mailbox is full",
            Self::DepositorFull => "your share of the recipient's mailbox is full",
            Self::RateLimited => "too many mailbox requests; try later",
            Self::BadProof => "the proof of being the recipient does not verify",
            Self::Malformed => "malformed mailbox request",
            Self::Unavailable => "the mailbox could not store it; try later",
        })
    }
}

/// The answer to a [`MailboxRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailboxResponse {
    /// One result per deposited envelope, in order; sent after the stored ones are flushed.
    Deposited(Vec<DepositResult>),
    /// A fresh challenge, valid for [`CHALLENGE_TTL_MS`] on this connection's peer.
    Challenge([u8; 32]),
    /// The recipient's next items, oldest first; `more` if others follow.
    Mail {
        /// The items.
        items: Vec<MailItem>,
        /// Whether more are waiting.
        more: bool,
    },
    /// The whole request was refused.
    Refused(MailboxRefusal),
}

/// Checks a profile's mailbox list: at most [`MAX_MAILBOXES`], no repeats, not the author.
pub fn validate_mailboxes(author: &PeerId, mailboxes: &[PeerId]) -> Result<(), ValidationError> {
    if mailboxes.len() > MAX_MAILBOXES {
        return Err(ValidationError::Count {
            field: "mailboxes",
            count: mailboxes.len(),
            min: 0,
            max: MAX_MAILBOXES,
        });
    }
    for (i, m) in mailboxes.iter().enumerate() {
        if m == author {
            return Err(ValidationError::Inconsistent(
                "a profile names itself as mailbox",
            ));
        }
        if mailboxes[..i].contains(m) {
            return Err(ValidationError::Inconsistent("a mailbox is named twice"));
        }
    }
    Ok(())
}

/// The wire layouts of `Profile::messaging`. Variants are only ever added at the end, so a
/// profile without mailboxes keeps the first layout byte for byte.
#[derive(Serialize, Deserialize)]
enum MessagingLayout {
    /// Tag 0: no messaging keys yet.
    None,
    /// Tag 1: the first layout, keys only.
    Keys(MessagingKeys),
    /// Tag 2: keys and the nodes keeping mail for the author.
    KeysAndMailboxes(MessagingKeys, Vec<PeerId>),
}

/// `#[serde(with)]` for `Profile::messaging`: the tagged layouts in binary encodings; in
/// human-readable ones the keys with a `mailboxes` list.
pub(crate) mod messaging_layout {
    use serde::{Deserializer, Serializer};

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Readable {
        #[serde(flatten)]
        keys: MessagingKeys,
        #[serde(default)]
        mailboxes: Vec<PeerId>,
    }

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<MessagingKeys>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return value
                .as_ref()
                .map(|k| Readable {
                    keys: k.clone(),
                    mailboxes: k.mailboxes.clone(),
                })
                .serialize(s);
        }
        let layout = match value {
            None => MessagingLayout::None,
            Some(k) if k.mailboxes.is_empty() => MessagingLayout::Keys(k.clone()),
            Some(k) => MessagingLayout::KeysAndMailboxes(k.clone(), k.mailboxes.clone()),
        };
        layout.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<MessagingKeys>, D::Error> {
        if d.is_human_readable() {
            return Ok(Option::<Readable>::deserialize(d)?.map(|r| MessagingKeys {
                mailboxes: r.mailboxes,
                ..r.keys
            }));
        }
        Ok(match MessagingLayout::deserialize(d)? {
            MessagingLayout::None => None,
            MessagingLayout::Keys(k) => Some(k),
            MessagingLayout::KeysAndMailboxes(keys, mailboxes) => {
                if mailboxes.is_empty() {
                    // One profile has one encoding: no mailboxes is written as tag 1.
                    return Err(serde::de::Error::custom(
                        "a mailbox layout with no mailboxes (written as keys only)",
                    ));
                }
                Some(MessagingKeys { mailboxes, ..keys })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, encode, MessageId};

    #[test]
    fn a_full_deposit_and_a_full_batch_fit_their_limits() {
        let recipient = crate::fresh_test_peer();
        let envelope = SealedEnvelope {
            recipient,
            id: MessageId([7; 16]),
            payload: vec![0xab; crate::dm::MAX_SEALED_BYTES],
        };
        let deposit = MailboxRequest::Deposit {
            recipient,
            envelopes: vec![envelope.clone(); MAX_DEPOSIT_ENVELOPES],
        };
        let bytes = encode(&deposit);
        assert!(bytes.len() <= MAX_MAILBOX_REQUEST_BYTES, "{}", bytes.len());
        assert_eq!(
            decode::<MailboxRequest>(&bytes, MAX_MAILBOX_REQUEST_BYTES).expect("decodes"),
            deposit
        );
        let mail = MailboxResponse::Mail {
            items: (0..MAX_FETCH_ITEMS as u64)
                .map(|seq| MailItem {
                    seq: u64::MAX - seq,
                    depositor: crate::fresh_test_peer(),
                    envelope: envelope.clone(),
                })
                .collect(),
            more: true,
        };
        let bytes = encode(&mail);
        assert!(bytes.len() <= MAX_MAILBOX_RESPONSE_BYTES, "{}", bytes.len());
    }

    #[test]
    fn temporary_refusals() {
        assert!(MailboxRefusal::RecipientFull.is_temporary());
        assert!(MailboxRefusal::RateLimited.is_temporary());
        assert!(!MailboxRefusal::BadProof.is_temporary());
        assert!(!MailboxRefusal::NotKeepingFor.is_temporary());
    }

    fn keys(mailboxes: Vec<PeerId>) -> MessagingKeys {
        MessagingKeys {
            identity_key: [3; 32],
            identity_key_signature: vec![4; 64],
            prekeys: Vec::new(),
            mailboxes,
        }
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Wrapped {
        #[serde(with = "super::messaging_layout")]
        messaging: Option<MessagingKeys>,
    }

    /// The first layout: keys as they were encoded before mailboxes existed.
    #[derive(Serialize)]
    struct FirstLayout {
        messaging: Option<(
            /* identity_key */ [u8; 32],
            Vec<u8>,
            Vec<crate::SignedPrekey>,
        )>,
    }

    #[test]
    fn keys_without_mailboxes_keep_the_first_layout_and_mailboxes_round_trip() {
        let plain = Wrapped {
            messaging: Some(keys(Vec::new())),
        };
        let first = FirstLayout {
            messaging: Some(([3; 32], vec![4; 64], Vec::new())),
        };
        assert_eq!(encode(&plain), encode(&first));
        let with = Wrapped {
            messaging: Some(keys(vec![
                crate::fresh_test_peer(),
                crate::fresh_test_peer(),
            ])),
        };
        let bytes = encode(&with);
        assert_eq!(decode::<Wrapped>(&bytes, 4096).expect("decodes"), with);
        assert_eq!(
            decode::<Wrapped>(&encode(&Wrapped { messaging: None }), 4096).expect("decodes"),
            Wrapped { messaging: None }
        );
    }

    #[test]
    fn mailbox_lists_are_bounded() {
        let me = crate::fresh_test_peer();
        let others: Vec<PeerId> = (0..=MAX_MAILBOXES)
            .map(|_| crate::fresh_test_peer())
            .collect();
        assert!(validate_mailboxes(&me, &others[..MAX_MAILBOXES]).is_ok());
        assert!(validate_mailboxes(&me, &others).is_err());
        assert!(validate_mailboxes(&me, &[me]).is_err());
        assert!(validate_mailboxes(&me, &[others[0], others[0]]).is_err());
    }
}
