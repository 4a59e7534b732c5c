//! The pure rules of the business tools: what a quick-reply name, a label, an away text and
//! a search query may be, and when an away message is due. No I/O, no clock: the time is
//! passed in.

use paperplane_protocol::{dm::MAX_TEXT_BYTES, emoji, MessageBody};

use super::BusinessError;

/// Longest quick-reply name, in characters.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 32;
/// Most quick replies one user keeps.
pub const MAX_TEMPLATES: usize = 100;
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 32;
/// Most labels on one chat.
pub const MAX_LABELS_PER_CHAT: usize = 10;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most search results one query returns.
pub const MAX_SEARCH_RESULTS: usize = 1_000;
/// An away message goes to a conversation at most once in this long (24 h).
pub const AWAY_INTERVAL_MS: u64 = 24 * 60 * 60 * 1000;

/// A quick-reply name: 1–32 of `a-z 0-9 - _` (typed on the command line, so no spaces).
/// Upper case is folded to lower case, so `Hours` and `hours` are one reply.
pub fn template_name(name: &str) -> Result<String, BusinessError> {
    let name = name.to_ascii_lowercase();
    if is_name(&name, MAX_TEMPLATE_NAME_CHARS) {
        Ok(name)
    } else {
        Err(BusinessError::Invalid(format!(
            "{name:?} is not a quick-reply name (1–{MAX_TEMPLATE_NAME_CHARS} of a-z 0-9 - _)"
        )))
    }
}

/// Longest saved text (a quick reply, the away text), in characters as written: 1,024
/// characters are at most 4,096 bytes, a message's limit.
pub const MAX_SAVED_TEXT_CHARS: usize = 1_024;

/// A message text as it will be sent: emoji shortcodes (`:wave:`) expanded, not blank, at
/// most [`MAX_TEXT_BYTES`] bytes once expanded. `what` names the text in errors.
pub fn message_text(what: &str, text: &str) -> Result<String, BusinessError> {
    let chars = text.chars().count();
    if chars > MAX_SAVED_TEXT_CHARS {
        return Err(BusinessError::Invalid(format!(
            "{what} is {chars} characters long; the limit is {MAX_SAVED_TEXT_CHARS}"
        )));
    }
    let expanded = emoji::expand_shortcodes(text);
    if expanded.trim().is_empty() {
        return Err(BusinessError::Invalid(format!("{what} is empty")));
    }
    if expanded.len() > MAX_TEXT_BYTES {
        return Err(BusinessError::Invalid(format!(
            "{what} is {} bytes long; the limit is {MAX_TEXT_BYTES}",
            expanded.len()
        )));
    }
    Ok(expanded)
}

/// A chat label: 1–32 of `a-z 0-9 - _`, upper case folded to lower case, so `Orders` and
/// `orders` are one label.
pub fn label(name: &str) -> Result<String, BusinessError> {
    let name = name.to_ascii_lowercase();
    if is_name(&name, MAX_LABEL_CHARS) {
        Ok(name)
    } else {
        Err(BusinessError::Invalid(format!(
            "{name:?} is not a label (1–{MAX_LABEL_CHARS} of a-z 0-9 - _)"
        )))
    }
}

/// Whether `name` is 1–`max` of `a-z A-Z 0-9 - _` (the API's path pattern for names).
fn is_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A search query: not blank, at most [`MAX_QUERY_CHARS`] characters. Returns it folded for
/// case-insensitive matching.
pub fn query(text: &str) -> Result<String, BusinessError> {
    let len = text.chars().count();
    let text = text.trim();
    if text.is_empty() {
        return Err(BusinessError::Invalid("the search text is empty".into()));
    }
    if len > MAX_QUERY_CHARS {
        return Err(BusinessError::Invalid(format!(
            "the search text is {len} characters long; the limit is {MAX_QUERY_CHARS}"
        )));
    }
    Ok(fold(text))
}

/// Whether `text` contains the folded query `folded` (from [`query`]), ignoring case.
pub fn matches(folded: &str, text: &str) -> bool {
    fold(text).contains(folded)
}

fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Whether an away message is due in a conversation that just received `incoming` (its new
/// messages), when the last away message to it went at `last_sent` and it is `now`.
///
/// Due when at least one new message shows in the chat (text, reply, shared post, photo —
/// not a reaction, receipt or typing notice) and no away message went to this conversation
/// in the last [`AWAY_INTERVAL_MS`]. A `last_sent` after `now` (the clock went back) counts as
/// just sent.
pub fn away_due<'a>(
    incoming: impl IntoIterator<Item = &'a MessageBody>,
    last_sent: Option<u64>,
    now: u64,
) -> bool {
    let recent = last_sent.is_some_and(|at| now.saturating_sub(at) < AWAY_INTERVAL_MS);
    !recent && incoming.into_iter().any(MessageBody::is_shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperplane_protocol::MessageId;

    #[test]
    fn template_names() {
        assert_eq!(template_name("Hours").as_deref(), Ok("hours"));
        assert_eq!(template_name("late_order-2").as_deref(), Ok("late_order-2"));
        for bad in [
            "",
            " hours",
            "two words",
            "émoji",
            &"x".repeat(MAX_TEMPLATE_NAME_CHARS + 1),
        ] {
            assert!(template_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn message_texts_expand_shortcodes_within_limits() {
        assert_eq!(
            message_text("text", "Hi :wave: at 10:30").as_deref(),
            Ok("Hi 👋 at 10:30")
        );
        assert!(message_text("text", "  ").is_err());
        assert!(message_text("text", &"x".repeat(MAX_TEXT_BYTES + 1)).is_err());
        // Counted as written: 1,024 characters are at most 4,096 bytes, expanded or not.
        assert!(message_text("the reply", &"😀".repeat(MAX_SAVED_TEXT_CHARS)).is_ok());
        let err = message_text("the reply", &":fire:".repeat(200)).expect_err("too long");
        assert!(err.to_string().contains("1200 characters"), "{err}");
    }

    #[test]
    fn labels() {
        assert_eq!(label("Orders").as_deref(), Ok("orders"));
        assert_eq!(label("call-back_2").as_deref(), Ok("call-back_2"));
        for bad in [
            "",
            " ",
            "a b",
            "x/y",
            "à-rappeler",
            &"x".repeat(MAX_LABEL_CHARS + 1),
        ] {
            assert!(label(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn queries_fold_case() {
        let q = query(" CROISSANT ").expect("ok");
        assert!(matches(&q, "Two croissants, please"));
        assert!(matches(&query("ÉTÉ").expect("ok"), "l'été"));
        assert!(!matches(&q, "bread"));
        assert!(query(" ").is_err());
        assert!(query(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }

    #[test]
    fn away_is_due_once_a_day_for_shown_messages() {
        let text = MessageBody::Text("hello".into());
        let reaction = MessageBody::Reaction {
            target: MessageId([1; 16]),
            emoji: Some("👍".into()),
        };
        let typing = MessageBody::Typing { active: true };
        let day = AWAY_INTERVAL_MS;
        assert!(away_due([&text], None, 5));
        assert!(!away_due([&reaction, &typing], None, 5), "not shown kinds");
        assert!(away_due([&reaction, &text], None, 5));
        assert!(!away_due([&text], Some(1_000), 1_000 + day - 1));
        assert!(away_due([&text], Some(1_000), 1_000 + day));
        assert!(!away_due([&text], Some(10 * day), day), "clock went back");
        assert!(!away_due(std::iter::empty(), None, 5));
    }
}
