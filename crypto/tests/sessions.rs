//! Scenario tests of the node-facing API ([`Conversation`]): healing, forward secrecy, bounds,
//! key checks, simultaneous initiation and a peer that starts over.

mod common;

use chacha20::ChaCha20Rng;
use common::{restart, to_bytes, Party, NOW};
use paperplane_crypto::{
    keys::sign_prekey, Conversation, DecryptError, EncryptError, Envelope, HandshakeError,
    KeyError, ReplayCache, Session, MAX_SESSIONS_PER_PEER, MAX_SKIP, PREKEY_EXPIRY_GRACE_MS,
    PREKEY_LIFETIME_MS, PREKEY_ROTATION_MS,
};
use rand_core::SeedableRng;

fn setup(seed: u64) -> (ChaCha20Rng, Party, Party) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let a = Party::new(1, &mut rng);
    let b = Party::new(2, &mut rng);
    (rng, a, b)
}

/// Alice opens a conversation with Bob and they exchange one message each way.
fn established(rng: &mut ChaCha20Rng, a: &Party, b: &Party) -> (Conversation, Conversation) {
    let alice = a
        .conversation(b)
        .start(rng, &a.ik, &b.keys(), NOW)
        .expect("starts");
    let (alice, e) = alice.encrypt(rng, b"hi").expect("seals");
    let (bob, _) = b
        .conversation(a)
        .decrypt(&b.ik, &b.prekeys, &e)
        .expect("opens");
    let (bob, r) = bob.encrypt(rng, b"hey").expect("seals");
    let (alice, _) = alice.decrypt(&a.ik, &a.prekeys, &r).expect("opens");
    (alice, bob)
}

#[test]
fn a_stolen_state_stops_decrypting_after_one_round_trip() {
    let (mut rng, a, b) = setup(1);
    let (alice, bob) = established(&mut rng, &a, &b);
    let stolen = restart(&bob); // Eve copies Bob's whole state.

    let (alice, m1) = alice.encrypt(&mut rng, b"before healing").expect("seals");
    let (_, p) = stolen
        .decrypt(&b.ik, &b.prekeys, &m1)
        .expect("the thief reads m1");
    assert_eq!(p, b"before healing");
    let (bob, _) = bob.decrypt(&b.ik, &b.prekeys, &m1).expect("opens");

    // One honest round trip: Bob's reply carries a fresh ratchet key, Alice answers with one.
    let (bob, r) = bob.encrypt(&mut rng, b"reply").expect("seals");
    let (alice, _) = alice.decrypt(&a.ik, &a.prekeys, &r).expect("opens");
    let (_, m2) = alice.encrypt(&mut rng, b"after healing").expect("seals");
    assert!(stolen.decrypt(&b.ik, &b.prekeys, &m2).is_err());
    let (_, p) = bob
        .decrypt(&b.ik, &b.prekeys, &m2)
        .expect("Bob still reads it");
    assert_eq!(p, b"after healing");
}

#[test]
fn a_used_message_key_is_gone() {
    let (mut rng, a, b) = setup(2);
    let (alice, bob) = established(&mut rng, &a, &b);
    let (_, m) = alice.encrypt(&mut rng, b"once").expect("seals");
    let (bob, _) = bob.decrypt(&b.ik, &b.prekeys, &m).expect("opens");
    // Even after a restart, the same ciphertext does not open again.
    let bob = restart(&bob);
    assert_eq!(
        bob.decrypt(&b.ik, &b.prekeys, &m).map(|_| ()),
        Err(DecryptError::ReplayedOrExpired)
    );
}

#[test]
fn a_counter_beyond_the_skip_bound_is_rejected_with_state_unchanged() {
    let (mut rng, a, b) = setup(3);
    let (mut alice, bob) = established(&mut rng, &a, &b);
    let mut sent = Vec::new();
    for i in 0..=MAX_SKIP + 1 {
        let (next, e) = alice.encrypt(&mut rng, &i.to_be_bytes()).expect("seals");
        alice = next;
        sent.push(e);
    }
    let before = to_bytes(&bob);
    let last = sent.last().expect("sent");
    assert!(matches!(
        bob.decrypt(&b.ik, &b.prekeys, last),
        Err(DecryptError::TooManySkipped {
            skip: 1_001,
            max: 1_000
        })
    ));
    assert_eq!(to_bytes(&bob), before);
    // Exactly at the bound works, and the skipped ones stay readable.
    let (bob, _) = bob
        .decrypt(&b.ik, &b.prekeys, &sent[1_000])
        .expect("at the bound");
    let (_, p) = bob
        .decrypt(&b.ik, &b.prekeys, &sent[3])
        .expect("skipped key kept");
    assert_eq!(p, 3u32.to_be_bytes());
}

#[test]
fn bad_or_expired_prekeys_and_bad_certificates_abort_the_start() {
    let (mut rng, a, b) = setup(4);
    let mut start = |keys, now| a.conversation(&b).start(&mut rng, &a.ik, &keys, now);

    let expired = NOW + PREKEY_LIFETIME_MS + 1;
    assert!(matches!(
        start(b.keys(), expired),
        Err(HandshakeError::Keys(KeyError::PrekeyExpired { .. }))
    ));
    let mut bad = b.keys();
    bad.prekeys[0].signature[10] ^= 1;
    assert!(matches!(
        start(bad, NOW),
        Err(HandshakeError::Keys(KeyError::BadPrekeySignature { .. }))
    ));
    // Alice's key pretending to be Bob's, with Alice's (valid, but wrong) certificate.
    let mut bad = b.keys();
    bad.identity_key = a.ik.public_key();
    bad.identity_key_signature = a.ik.certificate().to_vec();
    assert_eq!(
        start(bad, NOW).map(|_| ()),
        Err(HandshakeError::Keys(KeyError::BadIdentityKeyCertificate))
    );
    // A prekey signed by someone else.
    let mut bad = b.keys();
    let p = &bad.prekeys[0];
    bad.prekeys[0] = sign_prekey(&a.id, p.id, p.public, p.expires_at);
    assert!(matches!(
        start(bad, NOW),
        Err(HandshakeError::Keys(KeyError::BadPrekeySignature { .. }))
    ));
    // Correctly signed low-order keys.
    let mut bad = b.keys();
    bad.prekeys[0] = sign_prekey(&b.id, 9, [0; 32], NOW + 1);
    assert_eq!(
        start(bad, NOW).map(|_| ()),
        Err(HandshakeError::Keys(KeyError::LowOrderKey))
    );
    assert!(start(b.keys(), NOW).is_ok());
}

#[test]
fn a_handshake_on_a_low_order_ephemeral_or_unknown_prekey_is_refused() {
    let (mut rng, a, b) = setup(5);
    let alice = a
        .conversation(&b)
        .start(&mut rng, &a.ik, &b.keys(), NOW)
        .expect("starts");
    let (_, e) = alice.encrypt(&mut rng, b"hi").expect("seals");
    let bob = b.conversation(&a);
    let with = |f: &dyn Fn(&mut Envelope)| {
        let mut bad = e.clone();
        f(&mut bad);
        bob.decrypt(&b.ik, &b.prekeys, &bad).map(|_| ())
    };
    assert_eq!(
        with(&|e| e.handshake.as_mut().expect("hs").ephemeral_key = [0; 32]),
        Err(DecryptError::Handshake(HandshakeError::NonContributory(
            paperplane_crypto::NonContributory
        )))
    );
    assert_eq!(
        with(&|e| e.handshake.as_mut().expect("hs").prekey_id = 77),
        Err(DecryptError::Handshake(HandshakeError::UnknownPrekey(77)))
    );
    assert_eq!(
        with(&|e| e.session_id.0[0] ^= 1),
        Err(DecryptError::Handshake(HandshakeError::SessionIdMismatch))
    );
    assert_eq!(
        with(&|e| e.handshake = None),
        Err(DecryptError::UnknownSession(e.session_id))
    );
    assert!(bob.decrypt(&b.ik, &b.prekeys, &e).is_ok());
}

#[test]
fn sending_without_a_session_and_oversized_plaintexts_are_errors() {
    let (mut rng, a, b) = setup(6);
    let empty = a.conversation(&b);
    assert!(!empty.can_send());
    assert_eq!(
        empty.encrypt(&mut rng, b"x").map(|_| ()),
        Err(EncryptError::NoSession)
    );
    let alice = empty
        .start(&mut rng, &a.ik, &b.keys(), NOW)
        .expect("starts");
    let big = vec![0u8; paperplane_crypto::MAX_PLAINTEXT_BYTES + 1];
    assert!(matches!(
        alice.encrypt(&mut rng, &big),
        Err(EncryptError::PlaintextTooLarge { .. })
    ));
    let max = vec![7u8; paperplane_crypto::MAX_PLAINTEXT_BYTES];
    let (_, e) = alice
        .encrypt(&mut rng, &max)
        .expect("the limit itself fits");
    let bytes = e.to_bytes();
    assert!(bytes.len() <= paperplane_crypto::MAX_ENVELOPE_BYTES);
    assert_eq!(Envelope::from_bytes(&bytes).as_ref(), Ok(&e));
}

#[test]
fn in_place_encryption_and_decryption_advance_like_the_copies_and_change_nothing_on_error() {
    let (mut rng, a, b) = setup(7);
    let (mut alice, mut bob) = established(&mut rng, &a, &b);
    let before = to_bytes(&alice);
    let big = vec![0u8; paperplane_crypto::MAX_PLAINTEXT_BYTES + 1];
    assert!(matches!(
        alice.encrypt_in_place(&mut rng, &big),
        Err(EncryptError::PlaintextTooLarge { .. })
    ));
    assert_eq!(to_bytes(&alice), before, "state unchanged by a failure");
    // A run sealed in place opens in place, in order, each once; a tampered copy or a
    // replay fails and changes nothing.
    let sealed: Vec<Envelope> = (0..5u8)
        .map(|i| alice.encrypt_in_place(&mut rng, &[i]).expect("seals"))
        .collect();
    for (i, e) in sealed.iter().enumerate() {
        let mut tampered = e.clone();
        tampered.ciphertext[0] ^= 1;
        let before = to_bytes(&bob);
        assert!(bob.decrypt_in_place(&b.ik, &b.prekeys, &tampered).is_err());
        assert_eq!(to_bytes(&bob), before, "state unchanged by a failure");
        let plain = bob.decrypt_in_place(&b.ik, &b.prekeys, e).expect("opens");
        assert_eq!(plain, [i as u8]);
    }
    let before = to_bytes(&bob);
    assert!(
        bob.decrypt_in_place(&b.ik, &b.prekeys, &sealed[0]).is_err(),
        "no replay"
    );
    assert_eq!(to_bytes(&bob), before);
    // In place and by copy agree, handshake included.
    let (mut rng2, a2, b2) = setup(8);
    let mut carol = a2
        .conversation(&b2)
        .start(&mut rng2, &a2.ik, &b2.keys(), NOW)
        .expect("starts");
    let first = carol.encrypt_in_place(&mut rng2, b"hello").expect("seals");
    let empty = b2.conversation(&a2);
    let (by_copy, p1) = empty.decrypt(&b2.ik, &b2.prekeys, &first).expect("opens");
    let mut in_place = empty.clone();
    let p2 = in_place
        .decrypt_in_place(&b2.ik, &b2.prekeys, &first)
        .expect("opens");
    assert_eq!((p1, to_bytes(&by_copy)), (p2, to_bytes(&in_place)));
}

/// Both start at once. `first` is the peer with the lower PeerId iff `lower_first`; `second`
/// receives `first`'s handshake first and replies at once; `reply_before_stale` says whether
/// that reply reaches `first` before `second`'s own (by then stale) handshake does.
fn simultaneous(lower_first: bool, reply_before_stale: bool) {
    let (mut rng, x, y) = setup(7);
    // `lo` has the lower PeerId.
    let (lo, hi) = if x.peer().to_bytes() < y.peer().to_bytes() {
        (x, y)
    } else {
        (y, x)
    };
    let (first, second) = if lower_first { (&lo, &hi) } else { (&hi, &lo) };

    let c1 = first
        .conversation(second)
        .start(&mut rng, &first.ik, &second.keys(), NOW)
        .expect("starts");
    let c2 = second
        .conversation(first)
        .start(&mut rng, &second.ik, &first.keys(), NOW)
        .expect("starts");
    let (c1, m1) = c1.encrypt(&mut rng, b"from first").expect("seals");
    let (c2, m2) = c2.encrypt(&mut rng, b"from second").expect("seals");

    // `second` receives `first`'s handshake.
    let (c2, _) = c2.decrypt(&second.ik, &second.prekeys, &m1).expect("opens");
    let (c2, r2) = c2.encrypt(&mut rng, b"second replies").expect("seals");
    let c1 = if reply_before_stale {
        // `first` gets the reply before `second`'s (now stale) handshake.
        let (c1, _) = c1.decrypt(&first.ik, &first.prekeys, &r2).expect("opens");
        let (c1, _) = c1.decrypt(&first.ik, &first.prekeys, &m2).expect("opens");
        c1
    } else {
        let (c1, _) = c1.decrypt(&first.ik, &first.prekeys, &m2).expect("opens");
        let (c1, _) = c1.decrypt(&first.ik, &first.prekeys, &r2).expect("opens");
        c1
    };
    let mut c2 = c2;
    let mut c1 = c1;
    for round in 0..3 {
        let (n1, e1) = c1.encrypt(&mut rng, b"ping").expect("seals");
        let (n2, p) = c2.decrypt(&second.ik, &second.prekeys, &e1).expect("opens");
        assert_eq!(p, b"ping");
        let (n2, e2) = n2.encrypt(&mut rng, b"pong").expect("seals");
        let (n1, p) = n1.decrypt(&first.ik, &first.prekeys, &e2).expect("opens");
        assert_eq!(p, b"pong");
        c1 = n1;
        c2 = n2;
        if round == 2 {
            let s1 = c1.active_session().expect("active").id();
            let s2 = c2.active_session().expect("active").id();
            assert_eq!(s1, s2, "both ends send on the same session");
        }
    }
    let active = c1.active_session().expect("active");
    assert!(active.is_confirmed());
    assert_eq!(c1.sessions().len(), 2);
    if !reply_before_stale {
        // The plain race: the session started by the lower PeerId wins.
        assert_eq!(
            active.role() == paperplane_crypto::Role::Initiator,
            lower_first
        );
    }
}

#[test]
fn simultaneous_initiation_converges_on_one_session() {
    for lower_first in [true, false] {
        for reply_before_stale in [true, false] {
            simultaneous(lower_first, reply_before_stale);
        }
    }
}

#[test]
fn a_peer_that_lost_its_state_is_followed_and_old_handshakes_are_not_replayable() {
    let (mut rng, a, b) = setup(8);
    let (mut alice, _) = established(&mut rng, &a, &b);
    let mut first_messages = Vec::new();
    // Bob loses his state again and again and starts over each time.
    for i in 0..=MAX_SESSIONS_PER_PEER {
        let bob = b
            .conversation(&a)
            .start(&mut rng, &b.ik, &a.keys(), NOW)
            .expect("starts");
        let (bob, e) = bob
            .encrypt(&mut rng, format!("restart {i}").as_bytes())
            .expect("seals");
        let (next, _) = alice.decrypt(&a.ik, &a.prekeys, &e).expect("opens");
        alice = next;
        assert_eq!(alice.active_session().map(|s| s.id()), Some(e.session_id));
        // Alice now talks on Bob's new session.
        let (next, r) = alice.encrypt(&mut rng, b"welcome back").expect("seals");
        alice = next;
        assert_eq!(r.session_id, e.session_id);
        bob.decrypt(&b.ik, &b.prekeys, &r).expect("Bob reads it");
        first_messages.push(e);
    }
    assert_eq!(alice.sessions().len(), MAX_SESSIONS_PER_PEER);
    // The oldest restart's session was dropped; replaying its handshake does not revive it.
    let replay = &first_messages[0];
    assert_eq!(
        alice.decrypt(&a.ik, &a.prekeys, replay).map(|_| ()),
        Err(DecryptError::ReplayedHandshake(replay.session_id))
    );
    // A held session's replayed first message is a plain replay.
    let replay = first_messages.last().expect("sent");
    assert_eq!(
        alice.decrypt(&a.ik, &a.prekeys, replay).map(|_| ()),
        Err(DecryptError::ReplayedOrExpired)
    );
}

#[test]
fn late_handshakes_are_answered_with_the_previous_prekeys_only() {
    let (mut rng, a, mut b) = setup(9);
    let keys_then = b.keys();
    let alice = a
        .conversation(&b)
        .start(&mut rng, &a.ik, &keys_then, NOW)
        .expect("starts");
    let (_, e) = alice
        .encrypt(&mut rng, b"sent before two rotations")
        .expect("seals");
    let week = paperplane_crypto::PREKEY_ROTATION_MS;
    assert!(b.prekeys.rotate_if_due(&mut rng, NOW + week));
    assert!(b.prekeys.rotate_if_due(&mut rng, NOW + 2 * week));
    assert!(b.conversation(&a).decrypt(&b.ik, &b.prekeys, &e).is_ok());
    assert!(b.prekeys.rotate_if_due(&mut rng, NOW + 3 * week));
    assert!(matches!(
        b.conversation(&a).decrypt(&b.ik, &b.prekeys, &e),
        Err(DecryptError::Handshake(HandshakeError::UnknownPrekey(_)))
    ));
}

#[test]
fn a_handshake_on_an_expired_prekey_is_refused_by_the_responder() {
    let (mut rng, a, mut b) = setup(10);
    let prekey_id = b.prekeys.current_id().expect("a prekey");
    let expires_at = NOW + PREKEY_LIFETIME_MS;
    let last_answer = expires_at + PREKEY_EXPIRY_GRACE_MS;
    // Alice fetched Bob's profile just before the prekey expired; her first message arrives
    // late. Bob still holds the prekey (it is one of the two previous ones).
    let alice = a
        .conversation(&b)
        .start(&mut rng, &a.ik, &b.keys(), expires_at)
        .expect("starts: the prekey has not expired on Alice's clock");
    let (alice, e1) = alice.encrypt(&mut rng, b"hi").expect("seals");
    let (_, e2) = alice.encrypt(&mut rng, b"there?").expect("seals");
    assert!(b.prekeys.rotate_if_due(&mut rng, NOW + PREKEY_ROTATION_MS));
    assert!(b
        .prekeys
        .rotate_if_due(&mut rng, NOW + 2 * PREKEY_ROTATION_MS));
    assert!(b.prekeys.holds(prekey_id));

    let replays = ReplayCache::new();
    let bob = b.conversation(&a);
    let refused = bob.decrypt_at(&b.ik, &b.prekeys, &replays, &e1, last_answer + 1);
    assert_eq!(
        refused.map(|_| ()),
        Err(DecryptError::Handshake(HandshakeError::PrekeyExpired {
            id: prekey_id,
            expires_at,
            now_ms: last_answer + 1,
        }))
    );
    let mut in_place = bob.clone();
    let before = to_bytes(&in_place);
    assert!(matches!(
        in_place.decrypt_in_place_at(&b.ik, &b.prekeys, &replays, &e1, u64::MAX),
        Err(DecryptError::Handshake(
            HandshakeError::PrekeyExpired { .. }
        ))
    ));
    assert_eq!(to_bytes(&in_place), before, "state unchanged by a refusal");
    assert!(matches!(
        Session::respond_at(&b.ik, &b.prekeys, &replays, &a.peer(), &e1, last_answer + 1),
        Err(DecryptError::Handshake(
            HandshakeError::PrekeyExpired { .. }
        ))
    ));

    // Within the grace (clock skew) it is answered; the session then outlives the prekey:
    // Alice's next message, still carrying the handshake, opens on it.
    let (bob, p) = bob
        .decrypt_at(&b.ik, &b.prekeys, &replays, &e1, last_answer)
        .expect("answered within the grace");
    assert_eq!(p, b"hi");
    let (_, p) = bob
        .decrypt_at(
            &b.ik,
            &b.prekeys,
            &replays,
            &e2,
            last_answer + PREKEY_LIFETIME_MS,
        )
        .expect("an established session does not expire with its prekey");
    assert_eq!(p, b"there?");
}

#[test]
fn a_deleted_conversation_does_not_reopen_on_a_replayed_handshake() {
    let (mut rng, a, b) = setup(11);
    let alice = a
        .conversation(&b)
        .start(&mut rng, &a.ik, &b.keys(), NOW)
        .expect("starts");
    let (alice, e0) = alice.encrypt(&mut rng, b"hello, stranger").expect("seals");
    let (alice, e1) = alice.encrypt(&mut rng, b"cheap followers").expect("seals");
    let (alice, e2) = alice.encrypt(&mut rng, b"never delivered").expect("seals");
    let mut replays = ReplayCache::new();
    let (bob, _) = b
        .conversation(&a)
        .decrypt_at(&b.ik, &b.prekeys, &replays, &e0, NOW)
        .expect("opens");
    let (bob, _) = bob
        .decrypt_at(&b.ik, &b.prekeys, &replays, &e1, NOW)
        .expect("opens");

    // Bob declines the request: the conversation is retired into the cache and deleted.
    replays.retire(&bob, NOW + 1);
    let replays = restart(&replays);
    let deleted = b.conversation(&a);

    // The envelopes Bob read, replayed from storage, open nothing, before any DH.
    for e in [&e0, &e1] {
        assert_eq!(
            deleted
                .decrypt_at(&b.ik, &b.prekeys, &replays, e, NOW + 2)
                .map(|_| ()),
            Err(DecryptError::ReplayedHandshake(e0.session_id))
        );
        assert!(matches!(
            Session::respond_at(&b.ik, &b.prekeys, &replays, &a.peer(), e, NOW + 2),
            Err(DecryptError::ReplayedHandshake(_))
        ));
    }
    // (What the cache is for: the clock-less call answers the replay again.)
    assert!(deleted.decrypt(&b.ik, &b.prekeys, &e1).is_ok());

    // A message Alice sent after (or without knowing of) the decline is a new request: it
    // opens the same session again, and those read before still do not open on it.
    let (alice, e3) = alice.encrypt(&mut rng, b"please?").expect("seals");
    let (again, p) = deleted
        .decrypt_at(&b.ik, &b.prekeys, &replays, &e3, NOW + 3)
        .expect("a message never read opens");
    assert_eq!(p, b"please?");
    assert_eq!(again.active_session().map(Session::id), Some(e0.session_id));
    let (again, p) = again
        .decrypt_at(&b.ik, &b.prekeys, &replays, &e2, NOW + 3)
        .expect("one never delivered before the decline opens too");
    assert_eq!(p, b"never delivered");
    for e in [&e0, &e1] {
        assert_eq!(
            again
                .decrypt_at(&b.ik, &b.prekeys, &replays, e, NOW + 3)
                .map(|_| ()),
            Err(DecryptError::ReplayedOrExpired)
        );
    }

    // Once Bob has answered a session, nothing opens it again after a deletion.
    let (again, _reply) = again.encrypt(&mut rng, b"who is this?").expect("seals");
    let mut replays = replays;
    replays.retire(&again, NOW + 4);
    let (_, e4) = alice.encrypt(&mut rng, b"me").expect("seals");
    assert_eq!(e4.header.counter, 4, "past everything Bob read");
    assert_eq!(
        deleted
            .decrypt_at(&b.ik, &b.prekeys, &replays, &e4, NOW + 5)
            .map(|_| ()),
        Err(DecryptError::ReplayedHandshake(e0.session_id))
    );

    // A new handshake (a fresh ephemeral key) is a new session: answered.
    let restarted = a
        .conversation(&b)
        .start(&mut rng, &a.ik, &b.keys(), NOW + 6)
        .expect("starts again");
    let (_, e5) = restarted.encrypt(&mut rng, b"me again").expect("seals");
    let (_, p) = deleted
        .decrypt_at(&b.ik, &b.prekeys, &replays, &e5, NOW + 6)
        .expect("a new handshake opens");
    assert_eq!(p, b"me again");
    // The cache forgets once the prekeys those handshakes used can no longer answer.
    assert_eq!(
        replays.prune(NOW + 4 + paperplane_crypto::REPLAY_CACHE_TTL_MS),
        0
    );
    assert_eq!(
        replays.prune(NOW + 5 + paperplane_crypto::REPLAY_CACHE_TTL_MS),
        1
    );
}

#[test]
fn debug_output_of_the_stored_state_shows_no_secret() {
    let (mut rng, a, b) = setup(12);
    let (alice, bob) = established(&mut rng, &a, &b);
    let mut replays = ReplayCache::new();
    replays.retire(&bob, NOW);
    let secrets = [
        hex::encode(*a.ik.to_secret_bytes()),
        hex::encode(*b.ik.to_secret_bytes()),
    ];
    let dbg = format!(
        "{alice:?} {bob:?} {:?} {:?} {replays:?} {:?}",
        a.prekeys, b.prekeys, a.ik
    );
    for word in ["root", "chain", "secret", "skipped"] {
        assert!(!dbg.contains(word), "{word} in {dbg}");
    }
    for secret in &secrets {
        assert!(!dbg.contains(secret.as_str()));
    }
    assert!(dbg.contains("Conversation") && dbg.contains("ReplayCache { retired: 1 }"));
}
