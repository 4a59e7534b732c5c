//! The receiving rules with a fake clock.

use std::collections::HashSet;

use paperplane_protocol::{DmRejection, DmResult, MessageId, SealedEnvelope};

use super::*;
use crate::delivery::Outcome;

const T0: u64 = 1_700_000_000_000;

fn peer(n: u8) -> PeerId {
    paperplane_crypto::Identity::from_seed([n; 32]).peer_id()
}

fn stranger() -> Standing {
    Standing {
        blocked: false,
        followed: false,
        chat: None,
    }
}

fn allowance(a: Admission) -> (Folder, u32) {
    match a {
        Admission::Admitted { folder, allowance } => (folder, allowance),
        Admission::Refused(r) => panic!("refused: {r:?}"),
    }
}

#[test]
fn blocked_senders_are_refused_whatever_else_holds() {
    let inbox = Inbox::default();
    let s = Standing {
        blocked: true,
        followed: true,
        chat: Some((Folder::Inbox, RateWindow::default())),
    };
    assert_eq!(
        inbox.admit(&s, T0),
        Admission::Refused(DmRejection::Blocked)
    );
}

#[test]
fn first_contact_goes_to_requests_unless_followed_and_a_chat_keeps_its_folder() {
    let inbox = Inbox::default();
    assert_eq!(
        allowance(inbox.admit(&stranger(), T0)),
        (Folder::Requests, REQUESTS_PER_MINUTE)
    );
    let followed = Standing {
        followed: true,
        ..stranger()
    };
    assert_eq!(
        allowance(inbox.admit(&followed, T0)),
        (Folder::Inbox, u32::MAX)
    );
    // Accepted earlier, not followed: the inbox, unlimited.
    let accepted = Standing {
        chat: Some((Folder::Inbox, RateWindow::default())),
        ..stranger()
    };
    assert_eq!(allowance(inbox.admit(&accepted, T0)).0, Folder::Inbox);
    // Followed now, but the chat is still a request: stays a request until accepted.
    let pending = Standing {
        followed: true,
        chat: Some((Folder::Requests, RateWindow::default())),
        ..stranger()
    };
    assert_eq!(allowance(inbox.admit(&pending, T0)).0, Folder::Requests);
}

#[test]
fn a_strangers_allowance_is_thirty_a_minute_and_comes_back_after_the_window() {
    let inbox = Inbox::default();
    let mut window = RateWindow::default();
    let mut now = T0;
    for i in 0..REQUESTS_PER_MINUTE {
        let s = Standing {
            chat: Some((Folder::Requests, window)),
            ..stranger()
        };
        assert_eq!(allowance(inbox.admit(&s, now)).1, REQUESTS_PER_MINUTE - i);
        window.record(now);
        now += 1_000;
    }
    let s = |w| Standing {
        chat: Some((Folder::Requests, w)),
        ..stranger()
    };
    assert_eq!(allowance(inbox.admit(&s(window), now)).1, 0, "used up");
    assert_eq!(
        allowance(inbox.admit(&s(window), T0 + RATE_WINDOW_MS)).1,
        0,
        "the window includes its last millisecond"
    );
    assert_eq!(
        allowance(inbox.admit(&s(window), T0 + RATE_WINDOW_MS + 1)).1,
        REQUESTS_PER_MINUTE,
        "a new minute"
    );
    window.record(T0 + RATE_WINDOW_MS + 1);
    assert_eq!(window.start, T0 + RATE_WINDOW_MS + 1);
    assert_eq!(
        window.count, 1,
        "recording after the window opens a new one"
    );
}

#[test]
fn all_strangers_together_share_an_overall_budget() {
    let mut inbox = Inbox::default();
    inbox.accepted_requests(REQUESTS_PER_MINUTE_OVERALL as usize - 5, T0);
    assert_eq!(allowance(inbox.admit(&stranger(), T0 + 10)).1, 5);
    inbox.accepted_requests(5, T0 + 20);
    assert_eq!(allowance(inbox.admit(&stranger(), T0 + 30)).1, 0);
    // Followed people are not affected.
    let followed = Standing {
        followed: true,
        ..stranger()
    };
    assert_eq!(allowance(inbox.admit(&followed, T0 + 30)).1, u32::MAX);
    assert_eq!(
        allowance(inbox.admit(&stranger(), T0 + RATE_WINDOW_MS + 1)).1,
        REQUESTS_PER_MINUTE
    );
}

#[test]
fn prechecks_refuse_misaddressed_oversized_and_repeated_envelopes() {
    let me = peer(1);
    let env = |to, id: u8, len| SealedEnvelope {
        recipient: to,
        id: MessageId([id; 16]),
        payload: vec![0; len],
    };
    let mut earlier = HashSet::new();
    assert_eq!(precheck(&env(me, 1, 100), &me, &earlier), None);
    assert_eq!(
        precheck(&env(peer(2), 1, 100), &me, &earlier),
        Some(DmResult::Rejected(DmRejection::NotForMe))
    );
    assert_eq!(
        precheck(&env(me, 1, MAX_SEALED_BYTES + 1), &me, &earlier),
        Some(DmResult::Rejected(DmRejection::TooLarge))
    );
    earlier.insert(MessageId([1; 16]));
    assert_eq!(
        precheck(&env(me, 1, 100), &me, &earlier),
        Some(DmResult::Duplicate)
    );
}

#[test]
fn received_timestamps_are_clamped_to_the_allowed_skew() {
    assert_eq!(clamp_sent_at(T0 - 5, T0), T0 - 5, "the past is kept");
    assert_eq!(
        clamp_sent_at(T0 + MAX_CLOCK_SKEW_MS, T0),
        T0 + MAX_CLOCK_SKEW_MS
    );
    assert_eq!(clamp_sent_at(u64::MAX, T0), T0 + MAX_CLOCK_SKEW_MS);
}

#[test]
fn our_timestamps_increase_strictly_even_if_the_clock_steps_back() {
    assert_eq!(next_sent_at(0, T0), T0);
    assert_eq!(next_sent_at(T0, T0), T0 + 1);
    assert_eq!(next_sent_at(T0 + 50, T0), T0 + 51);
    assert_eq!(next_sent_at(u64::MAX, T0), u64::MAX);
}

#[test]
fn answers_map_to_outbox_outcomes() {
    assert_eq!(outcome_of(&DmResult::Stored), Outcome::Delivered);
    assert_eq!(outcome_of(&DmResult::Duplicate), Outcome::Delivered);
    assert_eq!(
        outcome_of(&DmResult::Rejected(DmRejection::RateLimited)),
        Outcome::TryLater
    );
    assert_eq!(
        outcome_of(&DmResult::Rejected(DmRejection::Unavailable)),
        Outcome::TryLater
    );
    assert_eq!(
        outcome_of(&DmResult::Rejected(DmRejection::Blocked)),
        Outcome::Refused(DmRejection::Blocked.to_string())
    );
}
