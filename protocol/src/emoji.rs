//! Emoji as a person sees them: one emoji is one grapheme cluster (a flag, a family, a
//! thumbs-up with a skin tone), shortcodes like `:fire:` name them, and a short message made
//! of emoji only is shown large.

use unicode_segmentation::UnicodeSegmentation;

/// Most emoji in a message that is still shown large ("emoji-only").
pub const MAX_LARGE_EMOJI: usize = 3;

/// The emoji a reaction or a shortcode names, if `s` is exactly one emoji (`❤️`, `👍🏽`) or
/// one shortcode between colons (`:fire:`). Surrounding whitespace is ignored.
pub fn single_emoji(s: &str) -> Option<&'static str> {
    let s = s.trim();
    if let Some(e) = emojis::get(s) {
        return Some(e.as_str());
    }
    let code = s.strip_prefix(':').and_then(|c| c.strip_suffix(':'))?;
    emojis::get_by_shortcode(code).map(|e| e.as_str())
}

/// Whether `s` is a known emoji, exactly as given (a reaction on the wire must be one).
pub fn is_emoji(s: &str) -> bool {
    emojis::get(s).is_some()
}

/// Whether `text` is made of 1 to [`MAX_LARGE_EMOJI`] emoji and nothing else but spaces.
pub fn is_emoji_only(text: &str) -> bool {
    let mut count = 0;
    for g in text.graphemes(true) {
        if g.trim().is_empty() {
            continue;
        }
        if !is_emoji(g) {
            return false;
        }
        count += 1;
        if count > MAX_LARGE_EMOJI {
            return false;
        }
    }
    count > 0
}

/// `text` with every `:shortcode:` that names an emoji replaced by the emoji; anything else
/// (`:not-a-code:`, a time like `10:30`) is left as written.
pub fn expand_shortcodes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(':') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replaced = after.find(':').and_then(|end| {
            let code = &after[..end];
            let plausible = !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b));
            let emoji = plausible
                .then(|| emojis::get_by_shortcode(code))
                .flatten()?;
            Some((emoji.as_str(), end))
        });
        match replaced {
            Some((emoji, end)) => {
                out.push_str(emoji);
                rest = &after[end + 1..];
            }
            None => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first `max` grapheme clusters of `text` (whitespace runs folded to one space), with
/// `…` if it was longer: a quote's excerpt never splits an emoji or a letter.
pub fn excerpt(text: &str, max: usize) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut graphemes = folded.graphemes(true);
    let mut out: String = graphemes.by_ref().take(max).collect();
    if graphemes.next().is_some() {
        out.push('…');
    }
    out
}

/// Length of `text` in grapheme clusters.
pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_emoji_accepts_emoji_and_shortcodes_only() {
        assert_eq!(single_emoji("❤️"), Some("❤️"));
        assert_eq!(single_emoji(" :fire: "), Some("🔥"));
        assert_eq!(single_emoji("fire"), None);
        assert_eq!(single_emoji("👍🏽"), Some("👍🏽"));
        assert_eq!(single_emoji("🇫🇷"), Some("🇫🇷"));
        assert_eq!(single_emoji("👨‍👩‍👧"), Some("👨‍👩‍👧"));
        assert_eq!(single_emoji("🔥🔥"), None);
        assert_eq!(single_emoji("a"), None);
        assert_eq!(single_emoji(":nope:"), None);
        assert_eq!(single_emoji(""), None);
    }

    #[test]
    fn emoji_only_counts_graphemes() {
        assert!(is_emoji_only("😂"));
        assert!(is_emoji_only("🔥 🔥🔥"));
        assert!(is_emoji_only("👨‍👩‍👧👍🏽🇫🇷"));
        assert!(!is_emoji_only("🔥🔥🔥🔥"));
        assert!(!is_emoji_only("ok 🔥"));
        assert!(!is_emoji_only("   "));
        assert!(!is_emoji_only("1"));
    }

    #[test]
    fn shortcodes_expand_where_they_name_an_emoji() {
        assert_eq!(expand_shortcodes("so :fire: :)"), "so 🔥 :)");
        assert_eq!(expand_shortcodes("at 10:30:45"), "at 10:30:45");
        assert_eq!(expand_shortcodes(":heart::+1:"), "❤️👍");
        assert_eq!(expand_shortcodes(":no_such_code: ok"), ":no_such_code: ok");
        assert_eq!(expand_shortcodes("ünï:côde: :"), "ünï:côde: :");
    }

    #[test]
    fn excerpts_cut_between_graphemes() {
        assert_eq!(excerpt("hello   world", 20), "hello world");
        assert_eq!(excerpt("👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧", 2), "👨‍👩‍👧👨‍👩‍👧…");
        assert_eq!(graphemes("e\u{301}👍🏽"), 2);
    }
}
