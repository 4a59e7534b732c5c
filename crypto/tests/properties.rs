//! Property tests: two peers exchange messages over a network that drops, duplicates,
//! reorders, tampers with and reflects envelopes, while either side may restart from its
//! serialized state. Checked: every delivered message decrypts exactly once (unless its
//! chain fell out of the kept window, which the model tracks), nothing panics, no
//! (message key, nonce) pair is used twice, failures leave state unchanged, and the peers
//! always recover; with simultaneous starts, both end up sending on one session.

mod common;

use std::collections::{HashMap, HashSet};

use chacha20::ChaCha20Rng;
use common::{restart, to_bytes, Party, NOW};
use paperplane_crypto::{Conversation, Envelope, SessionId, MAX_RECEIVING_CHAINS};
use proptest::prelude::*;
use rand_core::SeedableRng;

#[derive(Clone, Debug)]
enum Op {
    /// Side 0 or 1 sends a message (if it can).
    Send(usize),
    /// Deliver (and remove) one in-flight envelope.
    Deliver(usize),
    /// Put a copy of any envelope ever sent back in flight.
    Duplicate(usize),
    /// Lose one in-flight envelope.
    Drop(usize),
    /// Deliver a tampered copy of an in-flight envelope (it stays in flight).
    Tamper(usize, u8),
    /// Deliver a copy of an in-flight envelope back to its sender.
    Reflect(usize),
    /// Side 0 or 1 reloads its state from bytes.
    Restart(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize).prop_map(Op::Send),
        4 => any::<usize>().prop_map(Op::Deliver),
        1 => any::<usize>().prop_map(Op::Duplicate),
        1 => any::<usize>().prop_map(Op::Drop),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, k)| Op::Tamper(i, k)),
        1 => any::<usize>().prop_map(Op::Reflect),
        1 => (0..2usize).prop_map(Op::Restart),
    ]
}

#[derive(Clone)]
struct Msg {
    id: u64,
    from: usize,
    envelope: Envelope,
    plaintext: Vec<u8>,
}

struct World {
    rng: ChaCha20Rng,
    parties: [Party; 2],
    convs: [Conversation; 2],
    in_flight: Vec<Msg>,
    sent: Vec<Msg>,
    next_id: u64,
    delivered: HashSet<u64>,
    /// Per (receiver, session): the sender's ratchet keys in the order first received.
    chains: HashMap<(usize, SessionId), Vec<[u8; 32]>>,
    nonces: HashSet<[u8; 24]>,
    message_keys: HashSet<(usize, SessionId, [u8; 32], u32)>,
}

impl World {
    fn new(seed: u64, both_start: bool) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let a = Party::new(1, &mut rng);
        let b = Party::new(2, &mut rng);
        let mut convs = [a.conversation(&b), b.conversation(&a)];
        convs[0] = convs[0]
            .start(&mut rng, &a.ik, &b.keys(), NOW)
            .expect("starts");
        if both_start {
            convs[1] = convs[1]
                .start(&mut rng, &b.ik, &a.keys(), NOW)
                .expect("starts");
        }
        Self {
            rng,
            parties: [a, b],
            convs,
            in_flight: Vec::new(),
            sent: Vec::new(),
            next_id: 0,
            delivered: HashSet::new(),
            chains: HashMap::new(),
            nonces: HashSet::new(),
            message_keys: HashSet::new(),
        }
    }

    fn send(&mut self, side: usize) -> Option<Msg> {
        if !self.convs[side].can_send() {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let plaintext = format!("message {id} from {side}").into_bytes();
        let (conv, envelope) = self.convs[side]
            .encrypt(&mut self.rng, &plaintext)
            .expect("an active session always encrypts");
        self.convs[side] = conv;
        // No nonce and no message key is ever used twice.
        assert!(self.nonces.insert(envelope.nonce), "nonce reused");
        let h = &envelope.header;
        assert!(
            self.message_keys
                .insert((side, envelope.session_id, h.ratchet_key, h.counter)),
            "message key reused"
        );
        let msg = Msg {
            id,
            from: side,
            envelope,
            plaintext,
        };
        self.in_flight.push(msg.clone());
        self.sent.push(msg.clone());
        Some(msg)
    }

    /// Whether the model says `msg` must open at its receiver now.
    fn must_open(&self, msg: &Msg) -> bool {
        if self.delivered.contains(&msg.id) {
            return false;
        }
        let to = 1 - msg.from;
        let key = msg.envelope.header.ratchet_key;
        match self.chains.get(&(to, msg.envelope.session_id)) {
            None => true,
            Some(seen) => match seen.iter().position(|k| *k == key) {
                None => true,
                Some(i) => seen.len() - i <= MAX_RECEIVING_CHAINS,
            },
        }
    }

    fn deliver(&mut self, msg: &Msg) {
        let to = 1 - msg.from;
        let expected = self.must_open(msg);
        let before = to_bytes(&self.convs[to]);
        let party = &self.parties[to];
        let result = self.convs[to].decrypt(&party.ik, &party.prekeys, &msg.envelope);
        match result {
            Ok((conv, plaintext)) => {
                assert!(expected, "message {} opened twice or unexpectedly", msg.id);
                assert_eq!(plaintext, msg.plaintext);
                self.convs[to] = conv;
                self.delivered.insert(msg.id);
                let seen = self
                    .chains
                    .entry((to, msg.envelope.session_id))
                    .or_default();
                if !seen.contains(&msg.envelope.header.ratchet_key) {
                    seen.push(msg.envelope.header.ratchet_key);
                }
            }
            Err(e) => {
                assert!(!expected, "message {} did not open: {e}", msg.id);
                assert_eq!(to_bytes(&self.convs[to]), before);
            }
        }
    }

    /// Delivers something that must not open, checking the receiver is unchanged.
    fn deliver_bad(&mut self, to: usize, envelope: &Envelope) {
        let before = to_bytes(&self.convs[to]);
        let party = &self.parties[to];
        assert!(self.convs[to]
            .decrypt(&party.ik, &party.prekeys, envelope)
            .is_err());
        assert_eq!(to_bytes(&self.convs[to]), before);
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Send(side) => {
                self.send(side);
            }
            Op::Deliver(i) if !self.in_flight.is_empty() => {
                let msg = self.in_flight.remove(i % self.in_flight.len());
                self.deliver(&msg);
            }
            Op::Duplicate(i) if !self.sent.is_empty() => {
                let msg = self.sent[i % self.sent.len()].clone();
                self.in_flight.push(msg);
            }
            Op::Drop(i) if !self.in_flight.is_empty() => {
                self.in_flight.remove(i % self.in_flight.len());
            }
            Op::Tamper(i, kind) if !self.in_flight.is_empty() => {
                let msg = &self.in_flight[i % self.in_flight.len()];
                let to = 1 - msg.from;
                let mut bad = msg.envelope.clone();
                match kind % 7 {
                    0 => bad.ciphertext[0] ^= 1,
                    1 => {
                        let n = bad.ciphertext.len();
                        bad.ciphertext[n - 1] ^= 0x80;
                    }
                    2 => bad.nonce[kind as usize % 24] ^= 1,
                    3 => bad.header.counter = bad.header.counter.wrapping_add(1),
                    4 => bad.header.previous_chain_length ^= 1,
                    5 => bad.header.ratchet_key[0] ^= 1,
                    _ => bad.ciphertext.truncate(bad.ciphertext.len() - 1),
                }
                self.deliver_bad(to, &bad);
            }
            Op::Reflect(i) if !self.in_flight.is_empty() => {
                let msg = self.in_flight[i % self.in_flight.len()].clone();
                self.deliver_bad(msg.from, &msg.envelope);
            }
            Op::Restart(side) => {
                self.convs[side] = restart(&self.convs[side]);
                self.parties[side].prekeys = restart(&self.parties[side].prekeys);
            }
            _ => {}
        }
    }

    /// Delivers everything still in flight, then checks both peers can still talk.
    fn settle(&mut self) {
        while !self.in_flight.is_empty() {
            let msg = self.in_flight.remove(0);
            self.deliver(&msg);
        }
        for _ in 0..2 {
            for side in [0, 1] {
                let msg = self
                    .send(side)
                    .expect("both sides can send after a message");
                self.in_flight.clear();
                self.deliver(&msg);
                assert!(
                    self.delivered.contains(&msg.id),
                    "fresh message did not open"
                );
            }
        }
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn messages_open_exactly_once_under_a_hostile_network(
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut world = World::new(seed, false);
        for op in &ops {
            world.apply(op);
        }
        world.settle();
    }

    #[test]
    fn simultaneous_starts_converge_on_one_session(
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut world = World::new(seed, true);
        for op in &ops {
            // No drops here: convergence needs the handshakes to arrive eventually.
            if !matches!(op, Op::Drop(_)) {
                world.apply(op);
            }
        }
        world.settle();
        let active: Vec<_> = world
            .convs
            .iter()
            .map(|c| c.active_session().map(|s| s.id()))
            .collect();
        prop_assert!(active[0].is_some());
        prop_assert_eq!(active[0], active[1]);
    }
}
