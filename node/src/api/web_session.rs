//! Signing a browser in without showing it the API token: a one-time link (made for a client
//! that holds the token, as `paperplane open` does) is exchanged once for a session cookie.
//!
//! This module is the bookkeeping only, free of I/O and of the clock (the caller passes `now`
//! and the random secrets): which links are still good, which sessions are open. Secrets are
//! kept as their SHA-256, so the maps hold nothing a memory dump could replay, and a lookup's
//! timing says nothing about a secret's bytes. Sessions live in memory: a restart of the
//! daemon signs every page out, as it also replaces the API token.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

/// How long a one-time link can be used.
pub const LINK_TTL: Duration = Duration::from_secs(120);
/// How many unused links are kept; making one more forgets the oldest.
pub const MAX_LINKS: usize = 16;
/// How long a session lasts without being used.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// How many sessions are kept; opening one more ends the least recently used.
pub const MAX_SESSIONS: usize = 64;

type Digest32 = [u8; 32];

fn digest(secret: &str) -> Digest32 {
    Sha256::digest(secret.as_bytes()).into()
}

/// Why a one-time link did not sign the browser in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    /// Unknown, used already, or forgotten to make room.
    #[error("this sign-in link is not valid (it was used already, or never made here)")]
    Unknown,
    /// Older than [`LINK_TTL`].
    #[error("this sign-in link has expired (links last two minutes)")]
    Expired,
}

/// The open links and sessions of one API server.
#[derive(Debug, Default)]
pub struct WebSessions {
    /// Digest of a link's code → when it was made.
    links: HashMap<Digest32, Instant>,
    /// Digest of a session's cookie value → when it was last used.
    sessions: HashMap<Digest32, Instant>,
}

impl WebSessions {
    /// Records a new one-time link with `code` (a random secret the caller made).
    pub fn add_link(&mut self, code: &str, now: Instant) {
        self.links
            .retain(|_, made| now.saturating_duration_since(*made) < LINK_TTL);
        if self.links.len() >= MAX_LINKS {
            if let Some(oldest) = self.links.iter().min_by_key(|(_, t)| **t).map(|(k, _)| *k) {
                self.links.remove(&oldest);
            }
        }
        self.links.insert(digest(code), now);
    }

    /// Uses up the link with `code` and opens a session for `cookie` (a random secret the
    /// caller made). A link works once, and only within [`LINK_TTL`].
    pub fn redeem(&mut self, code: &str, cookie: &str, now: Instant) -> Result<(), LinkRefused> {
        let made = self
            .links
            .remove(&digest(code))
            .ok_or(LinkRefused::Unknown)?;
        if now.saturating_duration_since(made) >= LINK_TTL {
            return Err(LinkRefused::Expired);
        }
        self.sessions
            .retain(|_, used| now.saturating_duration_since(*used) < SESSION_IDLE);
        if self.sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = self
                .sessions
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| *k)
            {
                self.sessions.remove(&oldest);
            }
        }
        self.sessions.insert(digest(cookie), now);
        Ok(())
    }

    /// Whether `cookie` is an open session; if so, it counts as used now.
    pub fn check(&mut self, cookie: &str, now: Instant) -> bool {
        let key = digest(cookie);
        match self.sessions.get_mut(&key) {
            Some(used) if now.saturating_duration_since(*used) < SESSION_IDLE => {
                *used = now;
                true
            }
            Some(_) => {
                self.sessions.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Ends the session of `cookie`; true if it was open.
    pub fn end(&mut self, cookie: &str) -> bool {
        self.sessions.remove(&digest(cookie)).is_some()
    }

    /// How many sessions are open (expired ones may still count until the next sign-in).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// The session cookie's name for the API on `port`. Browsers keep cookies per host, not per
/// port, so two daemons on one machine need two names.
pub fn cookie_name(port: u16) -> String {
    format!("paperplane_session_{port}")
}

/// The value of cookie `name` in a `Cookie` header's value, if present.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_signs_in_once() {
        let now = Instant::now();
        let mut s = WebSessions::default();
        s.add_link("code", now);
        assert!(
            !s.check("cookie", now),
            "no session before the link is used"
        );
        assert_eq!(
            s.redeem("code", "cookie", now + Duration::from_secs(5)),
            Ok(())
        );
        assert!(s.check("cookie", now + Duration::from_secs(6)));
        assert_eq!(
            s.redeem("code", "other", now + Duration::from_secs(7)),
            Err(LinkRefused::Unknown),
            "a link works once"
        );
        assert!(!s.check("other", now));
        assert_eq!(s.redeem("never made", "x", now), Err(LinkRefused::Unknown));
    }

    #[test]
    fn links_expire() {
        let now = Instant::now();
        let mut s = WebSessions::default();
        s.add_link("code", now);
        assert_eq!(
            s.redeem("code", "cookie", now + LINK_TTL),
            Err(LinkRefused::Expired)
        );
        assert!(!s.check("cookie", now + LINK_TTL));
        assert_eq!(s.session_count(), 0);
    }

    #[test]
    fn sessions_end_when_idle_or_signed_out() {
        let now = Instant::now();
        let mut s = WebSessions::default();
        s.add_link("a", now);
        s.add_link("b", now);
        s.redeem("a", "one", now).expect("a");
        s.redeem("b", "two", now).expect("b");
        // Used within the idle time, a session stays open past it.
        let later = now + SESSION_IDLE - Duration::from_secs(1);
        assert!(s.check("one", later));
        assert!(s.check("one", later + Duration::from_secs(10)));
        assert!(!s.check("two", now + SESSION_IDLE), "idle for too long");
        assert!(s.end("one"));
        assert!(!s.end("one"));
        assert!(!s.check("one", later));
    }

    #[test]
    fn links_and_sessions_are_bounded() {
        let now = Instant::now();
        let mut s = WebSessions::default();
        for i in 0..MAX_LINKS + 3 {
            s.add_link(&format!("link{i}"), now + Duration::from_millis(i as u64));
        }
        assert_eq!(s.links.len(), MAX_LINKS);
        assert_eq!(
            s.redeem("link0", "c", now + Duration::from_secs(1)),
            Err(LinkRefused::Unknown),
            "the oldest link made room"
        );
        let last = format!("link{}", MAX_LINKS + 2);
        assert_eq!(s.redeem(&last, "c", now + Duration::from_secs(1)), Ok(()));

        for i in 0..MAX_SESSIONS + 3 {
            let t = now + Duration::from_secs(2 + i as u64);
            s.add_link("l", t);
            s.redeem("l", &format!("s{i}"), t).expect("redeem");
        }
        assert_eq!(s.session_count(), MAX_SESSIONS);
        let t = now + Duration::from_secs(100);
        assert!(!s.check("c", t), "the least recently used session ended");
        assert!(s.check(&format!("s{}", MAX_SESSIONS + 2), t));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let name = cookie_name(7878);
        assert_eq!(name, "paperplane_session_7878");
        let header = "a=1; paperplane_session_7879=wrong; paperplane_session_7878=abc ; b=2";
        assert_eq!(cookie_value(header, &name), Some("abc"));
        assert_eq!(cookie_value("a=1", &name), None);
        assert_eq!(cookie_value("", &name), None);
        assert_eq!(cookie_value("paperplane_session_7878", &name), None);
    }
}
