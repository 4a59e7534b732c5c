//! The requester's rules for `/paperplane/sync/1`: whether a response is within what was asked,
//! and whether to ask for the next page.
//!
//! Pure: the actor passes in the request, the response's counts and sequence numbers and which
//! of its posts the node holds once it is ingested, and carries out the answer. The responder
//! does not decide how long a catch-up goes on: a response over the asked counts or out of
//! order is refused whole before a signature is checked, the next page is asked for only if
//! this one brought the node beyond the sequence number it asked from, and one catch-up asks
//! for at most [`MAX_SYNC_PAGES`] pages.
//!
//! A request for no posts (`limit` 0) is a question: the answer carries the author's profile
//! and, in `more`, whether the responder holds posts above `since_seq` (anti-entropy asks it
//! with the newest sequence number the node holds; a responder that predates the question
//! answers `false`, which costs nothing but the catch-up).

use std::fmt;

use paperplane_protocol::limits::{MAX_SYNC_POSTS, MAX_SYNC_REACTIONS};

/// Most pages one catch-up asks one peer for about one author: 64 pages of at most
/// [`MAX_SYNC_POSTS`] posts, so at most 6,400 posts. A longer backlog continues on the next
/// connection (or from another peer).
pub const MAX_SYNC_PAGES: u32 = 64;

/// One sync request as sent, and where it stands in its catch-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Asked {
    /// Posts were asked for above this sequence number.
    pub(crate) since_seq: u64,
    /// At most this many posts were asked for.
    pub(crate) limit: u32,
    /// This request's page in its catch-up, from 1.
    pub(crate) page: u32,
}

impl Asked {
    /// The first page of a catch-up.
    pub(crate) fn first(since_seq: u64, limit: u32) -> Self {
        Self {
            since_seq,
            limit,
            page: 1,
        }
    }

    /// The question "do you hold posts above `newest`?", with the author's profile.
    pub(crate) fn newer_than(newest: u64) -> Self {
        Self::first(newest, 0)
    }

    /// Whether this request asked for no posts, only the profile and whether there are more.
    pub(crate) fn is_question(&self) -> bool {
        self.limit == 0
    }
}

/// Whether the answer to the question `asked` ([`Asked::newer_than`]), already checked, says
/// the responder holds posts the node lacks.
pub(crate) fn answer_says_newer(asked: &Asked, more: bool) -> bool {
    asked.is_question() && more && asked.since_seq < u64::MAX
}

/// Why a response is refused whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// More posts than asked for (or than any response may carry).
    TooManyPosts,
    /// More reactions than any response may carry.
    TooManyReactions,
    /// A post at or below the asked sequence number, or posts not in ascending order.
    OutOfOrder,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooManyPosts => "more posts than asked for",
            Self::TooManyReactions => "more reactions than a response may carry",
            Self::OutOfOrder => "posts not above the asked sequence number in ascending order",
        })
    }
}

/// Checks a response to `asked` that carries posts with sequence numbers `post_seqs` (in the
/// order received) and `reactions` likes, comments and follows, before any of it is verified.
pub(crate) fn check(asked: &Asked, post_seqs: &[u64], reactions: usize) -> Result<(), Violation> {
    if post_seqs.len() > asked.limit.min(MAX_SYNC_POSTS) as usize {
        return Err(Violation::TooManyPosts);
    }
    // A question (no posts asked) has no posts, so no likes or comments of them, and no
    // follows either.
    if reactions > MAX_SYNC_REACTIONS || (asked.limit == 0 && reactions > 0) {
        return Err(Violation::TooManyReactions);
    }
    let mut floor = asked.since_seq;
    for &seq in post_seqs {
        if seq <= floor {
            return Err(Violation::OutOfOrder);
        }
        floor = seq;
    }
    Ok(())
}

/// What to ask after an accepted response to `asked` that said `more` (or not), once its
/// records are stored: the next page's request, or `None` to stop. `stored_up_to` is the
/// highest sequence number among the response's posts that the node now holds (new or held
/// already). The catch-up goes on only if that page made progress (it is above what was
/// asked) and pages are left; the next page starts after it.
pub(crate) fn next_page(asked: &Asked, more: bool, stored_up_to: Option<u64>) -> Option<Asked> {
    let since_seq = stored_up_to.filter(|seq| *seq > asked.since_seq)?;
    (more && asked.limit > 0 && asked.page < MAX_SYNC_PAGES).then_some(Asked {
        since_seq,
        limit: asked.limit,
        page: asked.page + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: u32 = MAX_SYNC_POSTS;

    fn seqs(r: std::ops::RangeInclusive<u64>) -> Vec<u64> {
        r.collect()
    }

    #[test]
    fn a_response_within_what_was_asked_is_accepted() {
        let asked = Asked::first(10, FULL);
        assert_eq!(check(&asked, &seqs(11..=110), MAX_SYNC_REACTIONS), Ok(()));
        assert_eq!(check(&asked, &[12, 40, 41], 0), Ok(()));
        assert_eq!(check(&asked, &[], 0), Ok(()));
        // A profile-only request gets no posts, but may get its profile.
        assert_eq!(check(&Asked::first(u64::MAX, 0), &[], 0), Ok(()));
    }

    #[test]
    fn more_posts_or_reactions_than_allowed_are_refused() {
        let asked = Asked::first(0, 5);
        assert_eq!(check(&asked, &seqs(1..=6), 0), Err(Violation::TooManyPosts));
        assert_eq!(check(&asked, &seqs(1..=5), 0), Ok(()));
        // A request over the protocol's maximum is answered with at most the maximum.
        let greedy = Asked::first(0, u32::MAX);
        assert_eq!(
            check(&greedy, &seqs(1..=u64::from(FULL) + 1), 0),
            Err(Violation::TooManyPosts)
        );
        let profile_only = Asked::first(u64::MAX, 0);
        assert_eq!(check(&profile_only, &[1], 0), Err(Violation::TooManyPosts));
        let question = Asked::newer_than(7);
        assert_eq!(check(&question, &[8], 0), Err(Violation::TooManyPosts));
        assert_eq!(
            check(&question, &[], 1),
            Err(Violation::TooManyReactions),
            "a question's answer carries no reactions"
        );
        assert_eq!(
            check(&asked, &[], MAX_SYNC_REACTIONS + 1),
            Err(Violation::TooManyReactions)
        );
    }

    #[test]
    fn posts_must_lie_above_the_asked_sequence_number_in_ascending_order() {
        let asked = Asked::first(10, FULL);
        for seqs in [&[10][..], &[3, 11], &[11, 11], &[12, 11], &[11, 20, 15]] {
            assert_eq!(
                check(&asked, seqs, 0),
                Err(Violation::OutOfOrder),
                "{seqs:?}"
            );
        }
    }

    #[test]
    fn the_next_page_starts_after_the_highest_post_of_the_page_now_held() {
        let asked = Asked::first(10, FULL);
        assert_eq!(
            next_page(&asked, true, Some(110)),
            Some(Asked {
                since_seq: 110,
                limit: FULL,
                page: 2
            })
        );
        // The page's last post was refused (its clock is ahead, say): it is asked for again.
        assert_eq!(
            next_page(&asked, true, Some(109)).map(|a| a.since_seq),
            Some(109)
        );
    }

    #[test]
    fn paging_stops_without_progress_more_or_a_limit() {
        let asked = Asked::first(10, FULL);
        assert_eq!(
            next_page(&asked, false, Some(110)),
            None,
            "the responder has no more"
        );
        assert_eq!(next_page(&asked, true, None), None, "nothing of it held");
        assert_eq!(next_page(&asked, true, Some(10)), None, "nothing new");
        assert_eq!(next_page(&asked, true, Some(3)), None, "nothing new");
        assert_eq!(next_page(&Asked::first(u64::MAX, 0), true, Some(7)), None);
    }

    #[test]
    fn a_question_is_answered_by_more_and_never_pages() {
        let q = Asked::newer_than(7);
        assert!(q.is_question());
        assert_eq!(check(&q, &[], 0), Ok(()));
        assert!(answer_says_newer(&q, true));
        assert!(!answer_says_newer(&q, false));
        assert_eq!(next_page(&q, true, None), None);
        // A profile request is not a question about newer posts, whatever it says.
        assert!(!answer_says_newer(&Asked::first(u64::MAX, 0), true));
        assert!(!answer_says_newer(&Asked::first(7, 100), true));
    }

    #[test]
    fn paging_stops_at_the_page_cap() {
        let mut asked = Asked::first(0, FULL);
        let mut pages = 1;
        // A responder with endless valid posts: each page stores a hundred new ones.
        while let Some(next) = next_page(&asked, true, Some(asked.since_seq + u64::from(FULL))) {
            asked = next;
            pages += 1;
            assert!(pages <= MAX_SYNC_PAGES);
        }
        assert_eq!(pages, MAX_SYNC_PAGES);
        assert_eq!(asked.page, MAX_SYNC_PAGES);
        assert_eq!(asked.since_seq, u64::from((MAX_SYNC_PAGES - 1) * FULL));
    }
}
