//! User handles, with Instagram's rules: 1–30 characters of `a-z 0-9 . _`, not starting or
//! ending with a period and without two periods in a row.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// Longest handle, in characters.
pub const MAX_HANDLE_CHARS: usize = 30;

/// A validated handle (without the leading `@`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Handle(String);

impl Handle {
    /// Validates `s` (an optional leading `@` is stripped; upper case is rejected, not folded).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.strip_prefix('@').unwrap_or(s);
        let fail = |reason| {
            Err(ValidationError::Handle {
                handle: s.to_owned(),
                reason,
            })
        };
        if s.is_empty() {
            return fail("it is empty");
        }
        if s.chars().count() > MAX_HANDLE_CHARS {
            return fail("it is longer than 30 characters");
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
        {
            return fail("only a-z, 0-9, '.' and '_' are allowed");
        }
        if s.starts_with('.') || s.ends_with('.') {
            return fail("it may not start or end with '.'");
        }
        if s.contains("..") {
            return fail("it may not contain '..'");
        }
        Ok(Self(s.to_owned()))
    }

    /// The handle without `@`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Handle {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Handle> for String {
    fn from(h: Handle) -> Self {
        h.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        for ok in ["a", "alice", "@bob", "a.b_c9", "___", &"x".repeat(30)] {
            assert!(Handle::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "@",
            "Alice",
            "a b",
            "a-b",
            ".a",
            "a.",
            "a..b",
            "é",
            &"x".repeat(31),
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Handle::parse("@bob").map(|h| h.to_string()),
            Ok("@bob".into())
        );
    }
}
