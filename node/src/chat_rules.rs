//! What reactions, unsends, edits and read receipts do to a chat: pure rules, applied the
//! same way whether the user acted or the other person did, whatever order things arrive
//! in.
//!
//! Every change carries its author's timestamp, and per (message, person) the newest
//! change wins: a reaction's removal that arrives before the reaction it removes still
//! removes it, an edit that arrives late does not undo a newer one, and applying anything
//! twice changes nothing. An unsend is final.

use paperplane_protocol::{dm::EDIT_WINDOW_MS, MessageBody, PeerId};
use serde::{Deserialize, Serialize};

use crate::store::messages::StoredMessage;

/// Changes made to one message after it was sent: reactions, the newest edit, the unsend.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageMarks {
    /// Each person's newest reaction (a removed one stays as `None`, with its time, so
    /// that an older reaction arriving late is not applied).
    pub reactions: Vec<ReactionMark>,
    /// The newest edit.
    pub edit: Option<EditMark>,
    /// When the author unsent it (their clock).
    pub unsent_at: Option<u64>,
}

/// One person's reaction to a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionMark {
    /// Who reacted.
    pub by: PeerId,
    /// The emoji, or `None` once they took it back.
    pub emoji: Option<String>,
    /// When (their clock).
    pub at: u64,
}

/// The newest text of an edited message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditMark {
    /// The new text.
    pub text: String,
    /// When it was edited (the author's clock).
    pub at: u64,
}

/// What a change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A reaction was set (`Some`) or removed (`None`).
    Reacted(Option<String>),
    /// The message was unsent.
    Unsent,
    /// The message's text changed.
    Edited(String),
    /// The receipt covers our messages up to this one's time.
    Seen {
        /// The `sent_at` of the newest message seen.
        up_to: u64,
    },
    /// Nothing changed (a duplicate, an older change, or one that is not allowed); why.
    Nothing(Refusal),
}

/// Why a change is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Only a message's author may unsend or edit it.
    #[error("only the author of a message can change it")]
    NotTheAuthor,
    /// Edits are allowed for [`EDIT_WINDOW_MS`] after sending.
    #[error("messages can only be edited within 15 minutes of sending")]
    EditWindowPassed,
    /// Only text messages and replies can be edited.
    #[error("only text messages can be edited")]
    NotEditable,
    /// The message was unsent.
    #[error("that message was unsent")]
    Unsent,
    /// A read receipt names a message of the person sending it.
    #[error("a read receipt must name a message of the person it is sent to")]
    NotAReceiptTarget,
    /// A newer change of the same kind is already applied, or this one is.
    #[error("already applied")]
    Superseded,
}

/// Who wrote `target`, for user `me`.
fn author_of(target: &StoredMessage, me: &PeerId) -> PeerId {
    if target.outgoing {
        *me
    } else {
        target.peer
    }
}

/// Checks whether `actor` may make the change `body` to `target` at time `at` (the actor's
/// clock): the rules both ends apply, before sending and on receipt.
pub fn check(
    target: &StoredMessage,
    marks: &MessageMarks,
    me: &PeerId,
    actor: &PeerId,
    body: &MessageBody,
    at: u64,
) -> Result<(), Refusal> {
    let by_author = author_of(target, me) == *actor;
    match body {
        MessageBody::Reaction { .. } if marks.unsent_at.is_some() => Err(Refusal::Unsent),
        MessageBody::Reaction { .. } => Ok(()),
        MessageBody::Unsend { .. } if !by_author => Err(Refusal::NotTheAuthor),
        MessageBody::Unsend { .. } => Ok(()),
        MessageBody::Edit { .. } => {
            if !by_author {
                Err(Refusal::NotTheAuthor)
            } else if marks.unsent_at.is_some() {
                Err(Refusal::Unsent)
            } else if !matches!(
                target.body,
                MessageBody::Text(_) | MessageBody::Reply { .. }
            ) {
                Err(Refusal::NotEditable)
            } else if at.saturating_sub(target.sent_at) > EDIT_WINDOW_MS {
                Err(Refusal::EditWindowPassed)
            } else {
                Ok(())
            }
        }
        // A receipt comes from the reader and names a message its recipient wrote.
        MessageBody::Seen { .. } if by_author => Err(Refusal::NotAReceiptTarget),
        _ => Ok(()),
    }
}

/// Applies the change `body` by `actor` at `at` to `target`'s `marks`, if the rules allow
/// it; what it did. (An unsend's wiping of the text is the store's part.)
pub fn apply(
    target: &StoredMessage,
    marks: &mut MessageMarks,
    me: &PeerId,
    actor: &PeerId,
    body: &MessageBody,
    at: u64,
) -> Effect {
    if let Err(refusal) = check(target, marks, me, actor, body, at) {
        return Effect::Nothing(refusal);
    }
    match body {
        MessageBody::Reaction { emoji, .. } => {
            match marks.reactions.iter_mut().find(|r| r.by == *actor) {
                Some(r) if r.at >= at => return Effect::Nothing(Refusal::Superseded),
                Some(r) => {
                    r.emoji.clone_from(emoji);
                    r.at = at;
                }
                None => marks.reactions.push(ReactionMark {
                    by: *actor,
                    emoji: emoji.clone(),
                    at,
                }),
            }
            Effect::Reacted(emoji.clone())
        }
        MessageBody::Unsend { .. } => {
            marks.unsent_at = Some(at);
            marks.reactions.clear();
            marks.edit = None;
            Effect::Unsent
        }
        MessageBody::Edit { text, .. } => {
            if marks.edit.as_ref().is_some_and(|e| e.at >= at) {
                return Effect::Nothing(Refusal::Superseded);
            }
            marks.edit = Some(EditMark {
                text: text.clone(),
                at,
            });
            Effect::Edited(text.clone())
        }
        MessageBody::Seen { .. } => Effect::Seen {
            up_to: target.sent_at,
        },
        _ => Effect::Nothing(Refusal::Superseded),
    }
}

/// The reaction `actor` sends when they pick `emoji` on a message: the emoji, or `None`
/// (take it back) if it is the reaction they already have there, as a double tap on a
/// liked message unlikes it.
pub fn toggled_reaction(marks: &MessageMarks, actor: &PeerId, emoji: &str) -> Option<String> {
    let current = marks
        .reactions
        .iter()
        .find(|r| r.by == *actor)
        .and_then(|r| r.emoji.as_deref());
    (current != Some(emoji)).then(|| emoji.to_owned())
}

/// Reactions grouped by emoji, in the order each emoji first appeared, with who reacted.
pub fn reaction_counts(marks: &MessageMarks) -> Vec<(String, Vec<PeerId>)> {
    let mut out: Vec<(String, Vec<PeerId>)> = Vec::new();
    let mut live: Vec<&ReactionMark> = marks
        .reactions
        .iter()
        .filter(|r| r.emoji.is_some())
        .collect();
    live.sort_by_key(|r| r.at);
    for r in live {
        let emoji = r.emoji.clone().unwrap_or_default();
        match out.iter_mut().find(|(e, _)| *e == emoji) {
            Some((_, by)) => by.push(r.by),
            None => out.push((emoji, vec![r.by])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use paperplane_protocol::MessageId;

    use super::*;
    use crate::store::messages::DeliveryState;

    const T0: u64 = 1_700_000_000_000;

    fn peer(n: u8) -> PeerId {
        paperplane_crypto::Identity::from_seed([n; 32]).peer_id()
    }

    fn theirs(peer: PeerId) -> StoredMessage {
        StoredMessage {
            id: MessageId([1; 16]),
            peer,
            outgoing: false,
            sent_at: T0,
            stored_at: T0,
            body: MessageBody::Text("hi".into()),
            state: DeliveryState::Received,
        }
    }

    fn react(emoji: Option<&str>) -> MessageBody {
        MessageBody::Reaction {
            target: MessageId([1; 16]),
            emoji: emoji.map(str::to_owned),
        }
    }

    #[test]
    fn reactions_newest_wins_in_any_order_and_twice_is_once() {
        let (me, bob) = (peer(1), peer(2));
        let target = theirs(bob);
        let mut marks = MessageMarks::default();
        // The removal (at +2) arrives before the fire (at +1): the fire stays removed.
        let removal = apply(&target, &mut marks, &me, &me, &react(None), T0 + 2);
        assert_eq!(removal, Effect::Reacted(None));
        let late = apply(&target, &mut marks, &me, &me, &react(Some("🔥")), T0 + 1);
        assert_eq!(late, Effect::Nothing(Refusal::Superseded));
        assert!(reaction_counts(&marks).is_empty());
        let heart = apply(&target, &mut marks, &me, &me, &react(Some("❤️")), T0 + 3);
        assert_eq!(heart, Effect::Reacted(Some("❤️".into())));
        let again = apply(&target, &mut marks, &me, &me, &react(Some("❤️")), T0 + 3);
        assert_eq!(again, Effect::Nothing(Refusal::Superseded));
        apply(&target, &mut marks, &me, &bob, &react(Some("❤️")), T0 + 4);
        assert_eq!(reaction_counts(&marks), vec![("❤️".into(), vec![me, bob])]);
        assert_eq!(toggled_reaction(&marks, &me, "❤️"), None);
        assert_eq!(toggled_reaction(&marks, &me, "🔥"), Some("🔥".into()));
    }

    #[test]
    fn only_the_author_unsends_or_edits_within_the_window() {
        let (me, bob) = (peer(1), peer(2));
        let target = theirs(bob);
        let mut marks = MessageMarks::default();
        let edit = |t: &str| MessageBody::Edit {
            target: MessageId([1; 16]),
            text: t.into(),
        };
        let unsend = MessageBody::Unsend {
            target: MessageId([1; 16]),
        };
        assert_eq!(
            check(&target, &marks, &me, &me, &unsend, T0 + 1),
            Err(Refusal::NotTheAuthor)
        );
        assert_eq!(
            check(&target, &marks, &me, &me, &edit("x"), T0 + 1),
            Err(Refusal::NotTheAuthor)
        );
        assert_eq!(
            check(
                &target,
                &marks,
                &me,
                &bob,
                &edit("x"),
                T0 + EDIT_WINDOW_MS + 1
            ),
            Err(Refusal::EditWindowPassed)
        );
        // Two edits in reverse order: the newer text stays.
        let newer = apply(&target, &mut marks, &me, &bob, &edit("b"), T0 + 20);
        assert_eq!(newer, Effect::Edited("b".into()));
        let older = apply(&target, &mut marks, &me, &bob, &edit("a"), T0 + 10);
        assert_eq!(older, Effect::Nothing(Refusal::Superseded));
        apply(&target, &mut marks, &me, &me, &react(Some("😂")), T0 + 30);
        assert_eq!(
            apply(&target, &mut marks, &me, &bob, &unsend, T0 + 40),
            Effect::Unsent
        );
        assert!(marks.reactions.is_empty() && marks.edit.is_none());
        assert_eq!(
            apply(&target, &mut marks, &me, &me, &react(Some("😂")), T0 + 50),
            Effect::Nothing(Refusal::Unsent)
        );
        assert_eq!(
            check(&target, &marks, &me, &bob, &edit("c"), T0 + 60),
            Err(Refusal::Unsent)
        );
    }

    #[test]
    fn a_receipt_names_a_message_of_its_recipient() {
        let (me, bob) = (peer(1), peer(2));
        let mut ours = theirs(bob);
        ours.outgoing = true;
        let seen = MessageBody::Seen {
            up_to: MessageId([1; 16]),
        };
        let mut marks = MessageMarks::default();
        assert_eq!(
            apply(&ours, &mut marks, &me, &bob, &seen, T0 + 5),
            Effect::Seen { up_to: T0 }
        );
        // Bob cannot mark his own message seen by us.
        assert_eq!(
            apply(&theirs(bob), &mut marks, &me, &bob, &seen, T0 + 5),
            Effect::Nothing(Refusal::NotAReceiptTarget)
        );
    }
}
