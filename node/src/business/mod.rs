//! Tools for businesses answering inquiries, and for anyone sorting their conversations:
//!
//! - quick replies: saved texts sent by name (`send --template NAME`);
//! - away: while the business marks itself away, each conversation's first new message gets
//!   the away text back automatically, at most once a day per conversation;
//! - FAQ: frequently asked questions published in the signed profile (see
//!   [`paperplane_protocol::faq`]) and shown to someone opening a first chat;
//! - chat labels and muting, and searching the message history.
//!
//! [`rules`] holds the pure rules (names, limits, when an away message is due); the store
//! keeps quick replies, the away setting, labels and muted chats in trees of their own
//! (`store::business`); the actor writes them and announces each change as an
//! [`crate::Event`] (`actor::business`), and answers while away from the receive path.

pub mod bodies;
mod node;
pub mod rules;

use paperplane_protocol::{FaqEntry, PeerId};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::error::Result;

/// Why a business-tool request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BusinessError {
    /// A name, label, text or query not of its allowed shape (the message says which).
    #[error("{0}")]
    Invalid(String),
    /// No quick reply by that name.
    #[error("no quick reply named {0:?} (see `reply-template list`)")]
    NoTemplate(String),
    /// Away messages and FAQ are for business accounts.
    #[error("only a business account can do this; make yours one with `profile set --business CATEGORY`")]
    NotABusiness,
    /// Turning away on needs a text, and none was ever given.
    #[error("no away text: give the text to send while you are away")]
    NoAwayText,
}

/// A saved quick reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuickReply {
    /// Its name (1–32 of `a-z 0-9 - _`).
    pub name: String,
    /// The text it sends, emoji shortcodes already expanded.
    pub text: String,
}

/// Whether the business is away, and what it answers meanwhile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AwayStatus {
    /// True while away: new conversations get `text` back, once a day each.
    pub away: bool,
    /// The away text (kept while back, for the next time).
    pub text: Option<String>,
}

/// A chat's labels and whether it is muted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatMarks {
    /// The other person.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer: PeerId,
    /// Its labels, sorted.
    pub labels: Vec<String>,
    /// Whether it is muted: its messages arrive but notify nobody.
    pub muted: bool,
}

/// One frequently asked question of a business, with its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqView {
    /// The question (1–200 characters, not blank).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub question: String,
    /// The answer (1–1,000 characters, not blank).
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub answer: String,
}

impl From<&FaqEntry> for FaqView {
    fn from(e: &FaqEntry) -> Self {
        Self {
            question: e.question.clone(),
            answer: e.answer.clone(),
        }
    }
}

impl From<FaqView> for FaqEntry {
    fn from(v: FaqView) -> Self {
        Self {
            question: v.question,
            answer: v.answer,
        }
    }
}

/// A change to the business tools' state, carried out by the actor.
pub(crate) enum Request {
    /// Save (or replace) a quick reply.
    SaveTemplate {
        /// Validated name.
        name: String,
        /// Validated, expanded text.
        text: String,
        /// Done.
        reply: oneshot::Sender<Result<QuickReply>>,
    },
    /// Remove a quick reply.
    RemoveTemplate {
        /// Validated name.
        name: String,
        /// Done (or no such reply).
        reply: oneshot::Sender<Result<()>>,
    },
    /// Go away (with a text, or the last one) or come back.
    SetAway {
        /// Away or back.
        away: bool,
        /// A new, validated text.
        text: Option<String>,
        /// The new status.
        reply: oneshot::Sender<Result<AwayStatus>>,
    },
    /// Add or remove a label on a chat.
    Label {
        /// The chat.
        peer: PeerId,
        /// Validated label.
        label: String,
        /// Add (true) or remove.
        on: bool,
        /// The chat's marks after.
        reply: oneshot::Sender<Result<ChatMarks>>,
    },
    /// Mute or unmute a chat.
    Mute {
        /// The chat.
        peer: PeerId,
        /// Mute (true) or unmute.
        muted: bool,
        /// The chat's marks after.
        reply: oneshot::Sender<Result<ChatMarks>>,
    },
}

/// The FAQ of a profile's business details, as views.
pub(crate) fn faq_views(profile: &paperplane_protocol::Profile) -> Vec<FaqView> {
    profile
        .business
        .as_ref()
        .map(|b| b.faq.iter().map(FaqView::from).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use paperplane_crypto::{verify_record, Identity};
    use paperplane_protocol::{
        decode, encode, limits::MAX_GOSSIP_BYTES, Handle, MessagingKeys, PhotoRef, Profile, Record,
        Signed, ValidationError,
    };
    use serde::{Deserialize, Serialize};

    use super::*;

    /// A profile as the first layout signed it (before FAQ).
    #[derive(Clone, Serialize, Deserialize)]
    struct LegacyProfile {
        author: PeerId,
        version: u64,
        updated_at: u64,
        handle: Handle,
        display_name: String,
        bio: String,
        avatar: Option<PhotoRef>,
        business: Option<LegacyBusiness>,
        messaging: Option<MessagingKeys>,
    }

    #[derive(Clone, Serialize, Deserialize)]
    struct LegacyBusiness {
        category: String,
    }

    impl Record for LegacyProfile {
        const LABEL: &'static str = "paperplane/profile/1";
        fn author(&self) -> &PeerId {
            &self.author
        }
        fn validate(&self, _: u64) -> Result<(), ValidationError> {
            Ok(())
        }
    }

    #[test]
    fn a_profile_signed_in_the_old_layout_still_verifies() {
        let id = Identity::from_seed([5; 32]);
        for business in [None, Some("Bakery")] {
            let old = id.sign_record(LegacyProfile {
                author: id.peer_id(),
                version: 2,
                updated_at: 1_000,
                handle: Handle::parse("bakery").expect("handle"),
                display_name: "Bakery 🥐".into(),
                bio: String::new(),
                avatar: None,
                business: business.map(|c| LegacyBusiness { category: c.into() }),
                messaging: None,
            });
            let read: Signed<Profile> =
                decode(&encode(&old), MAX_GOSSIP_BYTES).expect("old bytes decode");
            assert_eq!(verify_record(&read, 1_000), Ok(()));
            assert!(faq_views(&read.body).is_empty());
        }
        // And a new one with FAQ verifies, while a changed FAQ does not.
        let mut p: Signed<Profile> = decode(
            &encode(&id.sign_record(LegacyProfile {
                author: id.peer_id(),
                version: 3,
                updated_at: 1_000,
                handle: Handle::parse("bakery").expect("handle"),
                display_name: "Bakery".into(),
                bio: String::new(),
                avatar: None,
                business: Some(LegacyBusiness {
                    category: "Bakery".into(),
                }),
                messaging: None,
            })),
            MAX_GOSSIP_BYTES,
        )
        .expect("decodes");
        if let Some(b) = &mut p.body.business {
            b.faq = vec![FaqEntry {
                question: "Open on Sunday?".into(),
                answer: "8–12".into(),
            }];
        }
        let mut signed = id.sign_record(p.body);
        assert_eq!(verify_record(&signed, 1_000), Ok(()));
        if let Some(b) = &mut signed.body.business {
            b.faq[0].answer = "closed".into();
        }
        assert!(verify_record(&signed, 1_000).is_err());
    }
}
