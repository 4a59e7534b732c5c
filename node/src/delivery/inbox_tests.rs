//! The receiving rules with a fake clock.

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
        unread: 0,
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
        unread: 0,
    };
    assert_eq!(
        inbox.admit(&peer(9), &s, T0),
        Admission::Refused(DmRejection::Blocked)
    );
}

#[test]
fn first_contact_goes_to_requests_unless_followed_and_a_chat_keeps_its_folder() {
    let inbox = Inbox::default();
    assert_eq!(
        allowance(inbox.admit(&peer(9), &stranger(), T0)),
        (Folder::Requests, REQUESTS_PER_MINUTE)
    );
    let followed = Standing {
        followed: true,
        ..stranger()
    };
    assert_eq!(
        allowance(inbox.admit(&peer(9), &followed, T0)),
        (Folder::Inbox, u32::MAX)
    );
    // Accepted earlier, not followed: the inbox, unlimited.
    let accepted = Standing {
        chat: Some((Folder::Inbox, RateWindow::default())),
        ..stranger()
    };
    assert_eq!(
        allowance(inbox.admit(&peer(9), &accepted, T0)).0,
        Folder::Inbox
    );
    // Followed now, but the chat is still a request: stays a request until accepted.
    let pending = Standing {
        followed: true,
        chat: Some((Folder::Requests, RateWindow::default())),
        ..stranger()
    };
    assert_eq!(
        allowance(inbox.admit(&peer(9), &pending, T0)).0,
        Folder::Requests
    );
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
        assert_eq!(
            allowance(inbox.admit(&peer(9), &s, now)).1,
            REQUESTS_PER_MINUTE - i
        );
        window.record(now);
        now += 1_000;
    }
    let s = |w| Standing {
        chat: Some((Folder::Requests, w)),
        ..stranger()
    };
    assert_eq!(
        allowance(inbox.admit(&peer(9), &s(window), now)).1,
        0,
        "used up"
    );
    assert_eq!(
        allowance(inbox.admit(&peer(9), &s(window), T0 + RATE_WINDOW_MS)).1,
        0,
        "the window includes its last millisecond"
    );
    assert_eq!(
        allowance(inbox.admit(&peer(9), &s(window), T0 + RATE_WINDOW_MS + 1)).1,
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
    assert_eq!(allowance(inbox.admit(&peer(9), &stranger(), T0 + 10)).1, 5);
    inbox.accepted_requests(5, T0 + 20);
    assert_eq!(allowance(inbox.admit(&peer(9), &stranger(), T0 + 30)).1, 0);
    // Followed people are not affected.
    let followed = Standing {
        followed: true,
        ..stranger()
    };
    assert_eq!(
        allowance(inbox.admit(&peer(9), &followed, T0 + 30)).1,
        u32::MAX
    );
    assert_eq!(
        allowance(inbox.admit(&peer(9), &stranger(), T0 + RATE_WINDOW_MS + 1)).1,
        REQUESTS_PER_MINUTE
    );
}

#[test]
fn prechecks_refuse_misaddressed_oversized_and_repeated_envelopes() {
    let me = peer(1);
    let env = |to, id: u8, len, fill: u8| SealedEnvelope {
        recipient: to,
        id: MessageId([id; 16]),
        payload: vec![fill; len],
    };
    let (a, to_bob, huge, again) = (
        env(me, 1, 100, 0),
        env(peer(2), 2, 100, 1),
        env(me, 3, MAX_SEALED_BYTES + 1, 2),
        env(me, 1, 100, 3),
    );
    let copy = env(me, 4, 100, 0);
    let fresh = env(me, 5, 100, 4);
    let mut seen = Seen::default();
    assert_eq!(precheck(&a, &me, &mut seen), None);
    seen.ids.insert(a.id);
    assert_eq!(
        precheck(&to_bob, &me, &mut seen),
        Some(DmResult::Rejected(DmRejection::NotForMe))
    );
    assert_eq!(
        precheck(&huge, &me, &mut seen),
        Some(DmResult::Rejected(DmRejection::TooLarge))
    );
    assert_eq!(
        precheck(&again, &me, &mut seen),
        Some(DmResult::Duplicate),
        "an id accepted earlier in the request"
    );
    assert_eq!(
        precheck(&copy, &me, &mut seen),
        Some(DmResult::Rejected(DmRejection::Malformed)),
        "the same bytes under another id are not opened again"
    );
    assert_eq!(precheck(&fresh, &me, &mut seen), None);
}

#[test]
fn handshakes_are_budgeted_per_peer_before_any_work() {
    let mut inbox = Inbox::default();
    let (mallory, alice) = (peer(3), peer(4));
    for _ in 0..HANDSHAKES_PER_MINUTE {
        assert!(inbox.charge_handshake(mallory, T0));
    }
    assert!(
        !inbox.charge_handshake(mallory, T0 + 1),
        "spent for the minute"
    );
    assert!(
        inbox.charge_handshake(alice, T0 + 1),
        "others are not affected"
    );
    assert!(
        inbox.charge_handshake(mallory, T0 + RATE_WINDOW_MS + 1),
        "a new minute"
    );
}

#[test]
fn undecryptable_envelopes_are_budgeted_and_a_peer_that_keeps_at_it_is_refused() {
    let mut inbox = Inbox::default();
    let (mallory, alice) = (peer(3), peer(4));
    let mut now = T0;
    for minute in 1..=STRIKES_BEFORE_BAN {
        for _ in 0..UNDECRYPTABLE_PER_MINUTE - 1 {
            assert!(inbox.may_open(&mallory, now));
            assert!(!inbox.undecryptable(mallory, now));
        }
        assert!(inbox.may_open(&mallory, now));
        let banned = inbox.undecryptable(mallory, now);
        assert_eq!(banned, minute == STRIKES_BEFORE_BAN, "minute {minute}");
        assert!(!inbox.may_open(&mallory, now + 1), "spent for the minute");
        assert!(inbox.may_open(&alice, now + 1), "others are not affected");
        if !banned {
            assert!(matches!(
                inbox.admit(&mallory, &stranger(), now + 1),
                Admission::Admitted { .. }
            ));
        }
        now += RATE_WINDOW_MS + 1;
    }
    let banned_at = now - RATE_WINDOW_MS - 1;
    assert_eq!(
        inbox.admit(&mallory, &stranger(), now),
        Admission::Refused(DmRejection::RateLimited)
    );
    assert!(inbox.is_banned(&mallory, banned_at + BAN_MS - 1));
    assert!(!inbox.is_banned(&mallory, banned_at + BAN_MS));
    assert!(matches!(
        inbox.admit(&mallory, &stranger(), banned_at + BAN_MS),
        Admission::Admitted { .. }
    ));
}

#[test]
fn a_broken_session_uses_the_budget_up_once_without_being_refused_for_long() {
    let mut inbox = Inbox::default();
    let alice = peer(4);
    for _ in 0..200 {
        if inbox.may_open(&alice, T0) {
            assert!(!inbox.undecryptable(alice, T0));
        }
    }
    assert!(!inbox.is_banned(&alice, T0));
    assert!(
        inbox.may_open(&alice, T0 + RATE_WINDOW_MS + 1),
        "back next minute"
    );
}

#[test]
fn remembered_budgets_stay_bounded() {
    let mut inbox = Inbox::default();
    for i in 0..(MAX_TRACKED_PEERS as u32 + 100) {
        let mut seed = [0; 32];
        seed[..4].copy_from_slice(&i.to_be_bytes());
        let p = paperplane_crypto::Identity::from_seed(seed).peer_id();
        inbox.charge_handshake(p, T0);
    }
    assert!(inbox.budgets.len() <= MAX_TRACKED_PEERS);
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
    assert_eq!(
        outcome_of(&DmResult::Rejected(DmRejection::Undecryptable)),
        Outcome::Undecryptable
    );
}

#[test]
fn a_request_holds_a_bounded_number_of_unread_messages() {
    let inbox = Inbox::default();
    let waiting = |unread| Standing {
        chat: Some((Folder::Requests, RateWindow::default())),
        unread,
        ..stranger()
    };
    assert_eq!(
        allowance(inbox.admit(&peer(9), &waiting(MAX_UNREAD_PER_REQUEST - 3), T0)).1,
        3
    );
    assert_eq!(
        allowance(inbox.admit(&peer(9), &waiting(MAX_UNREAD_PER_REQUEST), T0)).1,
        0,
        "full until the user opens it"
    );
    // Accepted chats have no such bound.
    let accepted = Standing {
        chat: Some((Folder::Inbox, RateWindow::default())),
        unread: 10_000,
        ..stranger()
    };
    assert_eq!(allowance(inbox.admit(&peer(9), &accepted, T0)).1, u32::MAX);
}

#[test]
fn beyond_the_cap_the_longest_quiet_requests_are_dropped() {
    let requests: Vec<(PeerId, u64)> = (0..MAX_REQUEST_CHATS as u64 + 3)
        .map(|i| {
            let mut seed = [0; 32];
            seed[..8].copy_from_slice(&i.to_be_bytes());
            (
                paperplane_crypto::Identity::from_seed(seed).peer_id(),
                T0 + i,
            )
        })
        .collect();
    let newest = requests[requests.len() - 1].0;
    assert!(requests_to_drop(requests[..MAX_REQUEST_CHATS].to_vec(), &newest).is_empty());
    let mut shuffled = requests.clone();
    shuffled.reverse();
    let dropped = requests_to_drop(shuffled.clone(), &newest);
    let oldest: Vec<PeerId> = requests[..3].iter().map(|(p, _)| *p).collect();
    let mut dropped_sorted = dropped.clone();
    dropped_sorted.sort();
    let mut oldest_sorted = oldest.clone();
    oldest_sorted.sort();
    assert_eq!(dropped_sorted, oldest_sorted, "the three quietest go");
    // The chat just written to stays, even if its sender's clock is behind.
    let oldest = requests[0].0;
    let dropped = requests_to_drop(shuffled, &oldest);
    assert_eq!(dropped.len(), 3);
    assert!(!dropped.contains(&oldest));
}

#[test]
fn a_peer_that_keeps_opening_too_many_streams_is_refused_and_says_why() {
    let mut inbox = Inbox::default();
    let (mallory, alice) = (peer(3), peer(4));
    assert!(!inbox.too_many_streams(mallory, T0));
    assert!(!inbox.too_many_streams(mallory, T0 + 1_000));
    assert!(!inbox.is_banned(&mallory, T0 + 1_000));
    assert!(inbox.too_many_streams(mallory, T0 + 2_000));
    assert_eq!(
        inbox.banned(&mallory, T0 + 2_001),
        Some(Misbehaviour::TooManyStreams)
    );
    assert_eq!(
        inbox.admit(&mallory, &stranger(), T0 + 2_001),
        Admission::Refused(DmRejection::RateLimited)
    );
    assert!(
        !inbox.is_banned(&alice, T0 + 2_001),
        "others are not affected"
    );
    assert!(!inbox.is_banned(&mallory, T0 + 2_000 + BAN_MS));

    // Strikes older than the ban's length are forgotten.
    assert!(!inbox.too_many_streams(alice, T0));
    assert!(!inbox.too_many_streams(alice, T0 + 1));
    assert!(!inbox.too_many_streams(alice, T0 + BAN_MS + 2));
    assert!(!inbox.is_banned(&alice, T0 + BAN_MS + 2));
}

#[test]
fn strikes_for_streams_and_for_undecryptable_envelopes_add_up() {
    let mut inbox = Inbox::default();
    let mallory = peer(3);
    for _ in 0..UNDECRYPTABLE_PER_MINUTE {
        assert!(!inbox.undecryptable(mallory, T0));
    }
    assert!(!inbox.too_many_streams(mallory, T0 + 1));
    assert!(inbox.too_many_streams(mallory, T0 + 2));
    assert_eq!(
        inbox.banned(&mallory, T0 + 3),
        Some(Misbehaviour::TooManyStreams)
    );
}
