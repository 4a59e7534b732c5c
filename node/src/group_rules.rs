//! The rules of a group's roster, pure: who may change it, which of two rosters wins, what a
//! change makes, and what a member must do with its sender key after adopting a roster.
//!
//! **The rule for concurrent changes.** Every roster names its version; a change makes
//! version + 1 from the roster its author holds. A roster is adopted when it is authorised
//! (below) and it *beats* the one held: a higher version wins; at the same version (two
//! admins changed the group at the same moment), the one that starts the higher epoch wins
//! (a removal beats an addition, so nobody stays in by accident), then the one with the
//! smaller record id. Every member applies the same order to the same rosters, so all end
//! on the same roster and epoch whatever order they arrive in. The admin whose change lost
//! makes it again on top of the winner (`apply` of its change to the winning roster), as
//! version + 1, so no change is lost either.
//!
//! **Authorisation** is judged against the roster the change was made from when the node
//! has it (the one held, or the one before it for a concurrent change), otherwise against
//! the one held: its author must be an admin there, or be a member leaving (a leave removes
//! exactly its author). Removing anyone starts a new epoch.

use paperplane_protocol::{
    group::MAX_GROUP_MEMBERS, Epoch, Member, PeerId, RecordId, Roster, RosterChange, Signed,
};

/// Most messages sealed with one sender key before it is replaced.
pub const ROTATE_AFTER_MESSAGES: u32 = 100;
/// Oldest a sender key gets before it is replaced.
pub const ROTATE_AFTER_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How long a replaced chain of another member is kept for their messages still in flight.
pub const OLD_CHAIN_GRACE_MS: u64 = 10 * 60 * 1000;

/// What to do with a roster that arrived.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Adopt it: it beats the one held.
    Adopt,
    /// The one held already (a retry, or passed on by another member).
    Same,
    /// Older than the one held, or the loser of a concurrent change: ignored.
    Stale,
}

/// Why a roster is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterRefusal {
    /// For another group.
    #[error("the roster is for another group")]
    WrongGroup,
    /// Signed by someone who may not make this change.
    #[error("the roster is signed by someone who is not an admin")]
    NotAnAdmin,
    /// A leave that changes more than its author's membership.
    #[error("a leave may only remove who leaves")]
    BadLeave,
    /// Someone was removed without a new epoch, or the epoch went back.
    #[error("a removal must start a new epoch")]
    EpochNotAdvanced,
}

/// The order of rosters (see the module doc): whether `new` beats `held`.
pub fn beats(new: &Signed<Roster>, held: &Signed<Roster>) -> bool {
    let key = |r: &Signed<Roster>| (r.body.version, r.body.epoch.number);
    match key(new).cmp(&key(held)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => new.id() < held.id(),
    }
}

/// Judges `new` (its signature already verified) against the roster held and the one before
/// it.
pub fn judge(
    new: &Signed<Roster>,
    held: &Signed<Roster>,
    before_held: Option<&Signed<Roster>>,
) -> Result<Verdict, RosterRefusal> {
    if new.body.group != held.body.group {
        return Err(RosterRefusal::WrongGroup);
    }
    if new.id() == held.id() {
        return Ok(Verdict::Same);
    }
    if !beats(new, held) {
        return Ok(Verdict::Stale);
    }
    // The roster it was made from, as far as this node knows.
    let base = match before_held {
        Some(b)
            if new.body.version == held.body.version && b.body.version + 1 == new.body.version =>
        {
            b
        }
        _ => held,
    };
    authorised(&new.body, &base.body)?;
    Ok(Verdict::Adopt)
}

/// Whether `new`'s author may make it from `base`.
pub fn authorised(new: &Roster, base: &Roster) -> Result<(), RosterRefusal> {
    let removed = base.peers().any(|p| !new.is_member(p));
    if new.epoch.number < base.epoch.number || (removed && new.epoch.number == base.epoch.number) {
        return Err(RosterRefusal::EpochNotAdvanced);
    }
    if base.is_admin(&new.author) {
        return Ok(());
    }
    if new.change != RosterChange::Leave || !base.is_member(&new.author) {
        return Err(RosterRefusal::NotAnAdmin);
    }
    // A member who is not an admin may only take themselves out.
    let expected = leave(base, &new.author);
    if new.version != base.version + 1 || new.members != expected || new.name != base.name {
        return Err(RosterRefusal::BadLeave);
    }
    Ok(())
}

/// The members after `who` leaves `base`: if no admin would remain, the first remaining
/// member becomes one.
fn leave(base: &Roster, who: &PeerId) -> Vec<Member> {
    let mut members: Vec<Member> = base
        .members
        .iter()
        .filter(|m| m.peer != *who)
        .copied()
        .collect();
    if !members.iter().any(|m| m.admin) {
        if let Some(first) = members.first_mut() {
            first.admin = true;
        }
    }
    members
}

/// Why a change cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefusal {
    /// Only admins change the roster (anyone may leave).
    #[error("only a group admin can do that")]
    NotAnAdmin,
    /// The change would change nothing (already a member, not a member, already an admin,
    /// the same name).
    #[error("that changes nothing")]
    Nothing,
    /// The group would have more than [`MAX_GROUP_MEMBERS`] members.
    #[error("a group has at most {MAX_GROUP_MEMBERS} members")]
    Full,
    /// No longer a member.
    #[error("you are not a member of this group")]
    NotAMember,
}

/// The roster `author` makes by applying `change` to `base`, at `now`; `nonce` is fresh
/// randomness for a new epoch (used only if the change starts one).
pub fn apply(
    change: &RosterChange,
    base: &Roster,
    author: &PeerId,
    now: u64,
    nonce: [u8; 8],
) -> Result<Roster, ChangeRefusal> {
    if !base.is_member(author) {
        return Err(ChangeRefusal::NotAMember);
    }
    if *change != RosterChange::Leave && !base.is_admin(author) {
        return Err(ChangeRefusal::NotAnAdmin);
    }
    let mut next = Roster {
        version: base.version + 1,
        author: *author,
        changed_at: now.max(base.changed_at),
        change: change.clone(),
        ..base.clone()
    };
    let new_epoch = Epoch {
        number: base.epoch.number + 1,
        nonce,
    };
    match change {
        RosterChange::Create => return Err(ChangeRefusal::Nothing),
        RosterChange::Add(peers) => {
            let new: Vec<PeerId> = peers
                .iter()
                .filter(|p| !base.is_member(p))
                .copied()
                .collect();
            if new.is_empty() {
                return Err(ChangeRefusal::Nothing);
            }
            let mut members = base.members.clone();
            members.extend(new.iter().map(|&peer| Member { peer, admin: false }));
            next.members = Roster::canonical_members(members);
            if next.members.len() > MAX_GROUP_MEMBERS {
                return Err(ChangeRefusal::Full);
            }
            next.change = RosterChange::Add(new);
        }
        RosterChange::Remove(peer) => {
            if !base.is_member(peer) || peer == author {
                return Err(ChangeRefusal::Nothing);
            }
            next.members.retain(|m| m.peer != *peer);
            next.epoch = new_epoch;
        }
        RosterChange::Leave => {
            next.members = leave(base, author);
            next.epoch = new_epoch;
        }
        RosterChange::MakeAdmin(peer) => {
            let member = next
                .members
                .iter_mut()
                .find(|m| m.peer == *peer)
                .ok_or(ChangeRefusal::Nothing)?;
            if member.admin {
                return Err(ChangeRefusal::Nothing);
            }
            member.admin = true;
        }
        RosterChange::Rename(name) => {
            if *name == base.name {
                return Err(ChangeRefusal::Nothing);
            }
            next.name = name.clone();
        }
    }
    Ok(next)
}

/// What a member does with its own sender key after adopting a roster.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyPlan {
    /// Make a new key for the roster's epoch and send it to every other member.
    NewKey,
    /// Send the current key, as it is now, to the members who just joined (they cannot read
    /// what it sealed before).
    ShareWith(Vec<PeerId>),
    /// Nothing to send.
    Nothing,
    /// No longer a member: forget every key of the group.
    Forget,
}

/// The [`KeyPlan`] of `me` after adopting `adopted` in place of `previous`, holding a key
/// of `my_key_epoch`.
pub fn key_plan(
    me: &PeerId,
    previous: Option<&Roster>,
    adopted: &Roster,
    my_key_epoch: Option<Epoch>,
) -> KeyPlan {
    if !adopted.is_member(me) {
        return KeyPlan::Forget;
    }
    if my_key_epoch != Some(adopted.epoch) {
        return KeyPlan::NewKey;
    }
    let joined: Vec<PeerId> = adopted
        .peers()
        .filter(|p| *p != me && previous.is_none_or(|r| !r.is_member(p)))
        .copied()
        .collect();
    if joined.is_empty() {
        KeyPlan::Nothing
    } else {
        KeyPlan::ShareWith(joined)
    }
}

/// Whether a sender key that sealed `sent` messages since `created_at` must be replaced.
pub fn rotation_due(sent: u32, created_at: u64, now: u64) -> bool {
    sent >= ROTATE_AFTER_MESSAGES || now.saturating_sub(created_at) >= ROTATE_AFTER_MS
}

/// The id rosters are ordered by at equal version and epoch (exposed for tests and views).
pub fn roster_id(roster: &Signed<Roster>) -> RecordId {
    roster.id()
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperplane_crypto::Identity;
    use paperplane_protocol::GroupId;

    struct People(Vec<Identity>);

    impl People {
        fn new(n: u8) -> Self {
            Self((0..n).map(|i| Identity::from_seed([i + 1; 32])).collect())
        }
        fn peer(&self, i: usize) -> PeerId {
            self.0[i].peer_id()
        }
        fn sign(&self, i: usize, roster: Roster) -> Signed<Roster> {
            self.0[i].sign_record(roster)
        }
    }

    fn created(people: &People, n: usize) -> Roster {
        let mut members: Vec<Member> = (0..n)
            .map(|i| Member {
                peer: people.peer(i),
                admin: i == 0,
            })
            .collect();
        members = Roster::canonical_members(members);
        Roster {
            group: GroupId([1; 16]),
            version: 0,
            epoch: Epoch {
                number: 0,
                nonce: [0; 8],
            },
            name: "climbing".into(),
            members,
            author: people.peer(0),
            changed_at: 1,
            change: RosterChange::Create,
        }
    }

    #[test]
    fn admins_change_the_roster_and_members_may_only_leave() {
        let people = People::new(4);
        let base = created(&people, 3);
        let (admin, member) = (people.peer(0), people.peer(1));

        let added = apply(
            &RosterChange::Add(vec![people.peer(3)]),
            &base,
            &admin,
            5,
            [1; 8],
        )
        .expect("allowed");
        assert_eq!(added.version, 1);
        assert_eq!(added.epoch, base.epoch, "an addition keeps the epoch");
        assert!(authorised(&added, &base).is_ok());

        let by_member = Roster {
            author: member,
            ..added.clone()
        };
        assert_eq!(
            authorised(&by_member, &base),
            Err(RosterRefusal::NotAnAdmin)
        );
        assert_eq!(
            apply(
                &RosterChange::Add(vec![people.peer(3)]),
                &base,
                &member,
                5,
                [1; 8]
            ),
            Err(ChangeRefusal::NotAnAdmin)
        );

        let left = apply(&RosterChange::Leave, &base, &member, 5, [2; 8]).expect("allowed");
        assert_eq!(left.epoch.number, 1, "leaving starts an epoch");
        assert!(authorised(&left, &base).is_ok());
        // A leave that also adds someone is refused.
        let mut sneaky = left.clone();
        sneaky.members.push(Member {
            peer: people.peer(3),
            admin: true,
        });
        sneaky.members = Roster::canonical_members(sneaky.members);
        assert_eq!(authorised(&sneaky, &base), Err(RosterRefusal::BadLeave));

        let removed =
            apply(&RosterChange::Remove(member), &base, &admin, 5, [3; 8]).expect("allowed");
        let mut same_epoch = removed.clone();
        same_epoch.epoch = base.epoch;
        assert_eq!(
            authorised(&same_epoch, &base),
            Err(RosterRefusal::EpochNotAdvanced)
        );

        // The last admin leaving hands the group to the first remaining member.
        let admin_left = apply(&RosterChange::Leave, &base, &admin, 5, [4; 8]).expect("allowed");
        assert_eq!(admin_left.members.iter().filter(|m| m.admin).count(), 1);
        assert!(!admin_left.is_member(&admin));

        assert_eq!(
            apply(&RosterChange::Add(vec![member]), &base, &admin, 5, [1; 8]),
            Err(ChangeRefusal::Nothing)
        );
        assert_eq!(
            apply(
                &RosterChange::Rename("climbing".into()),
                &base,
                &admin,
                5,
                [1; 8]
            ),
            Err(ChangeRefusal::Nothing)
        );
    }

    #[test]
    fn concurrent_changes_converge_whatever_the_order() {
        let people = People::new(5);
        let mut base = created(&people, 4);
        let first_admin = people.peer(0);
        let second = base
            .members
            .iter()
            .position(|m| m.peer != first_admin)
            .expect("allowed");
        base.members[second].admin = true;
        let second_admin = base.members[second].peer;
        assert_ne!(first_admin, second_admin);
        let base = people.sign(0, base);
        let i_second = (0..5)
            .find(|&i| people.peer(i) == second_admin)
            .expect("allowed");

        // Both admins change version 0 at once: one adds, the other removes.
        let add = people.sign(
            0,
            apply(
                &RosterChange::Add(vec![people.peer(4)]),
                &base.body,
                &first_admin,
                9,
                [1; 8],
            )
            .expect("allowed"),
        );
        let victim = base
            .body
            .peers()
            .find(|p| **p != first_admin && **p != second_admin)
            .copied()
            .expect("allowed");
        let remove = people.sign(
            i_second,
            apply(
                &RosterChange::Remove(victim),
                &base.body,
                &second_admin,
                9,
                [2; 8],
            )
            .expect("allowed"),
        );
        // Whichever arrives first, the removal wins (it starts the higher epoch).
        for (first, second) in [(&add, &remove), (&remove, &add)] {
            let mut held = base.clone();
            let mut before = None;
            for r in [first, second] {
                if judge(r, &held, before.as_ref()).expect("allowed") == Verdict::Adopt {
                    before = Some(std::mem::replace(&mut held, r.clone()));
                }
            }
            assert_eq!(held, remove);
        }
        // The adder's node makes its change again on top of the winner.
        let again = apply(
            &RosterChange::Add(vec![people.peer(4)]),
            &remove.body,
            &first_admin,
            10,
            [3; 8],
        )
        .expect("allowed");
        assert_eq!(again.version, 2);
        assert!(again.is_member(&people.peer(4)) && !again.is_member(&victim));
        assert_eq!(again.epoch, remove.body.epoch);
        let again = people.sign(0, again);
        assert_eq!(judge(&again, &remove, Some(&base)), Ok(Verdict::Adopt));

        // Two removals at once: the smaller record id wins, everywhere.
        let other = base
            .body
            .peers()
            .find(|p| **p != first_admin && **p != second_admin && **p != victim)
            .copied()
            .expect("allowed");
        let remove_other = people.sign(
            0,
            apply(
                &RosterChange::Remove(other),
                &base.body,
                &first_admin,
                9,
                [5; 8],
            )
            .expect("allowed"),
        );
        let winner = if remove.id() < remove_other.id() {
            &remove
        } else {
            &remove_other
        };
        assert!(beats(
            winner,
            if winner == &remove {
                &remove_other
            } else {
                &remove
            }
        ));

        // Stale and replayed rosters change nothing.
        assert_eq!(judge(&base, &remove, None), Ok(Verdict::Stale));
        assert_eq!(judge(&remove, &remove, None), Ok(Verdict::Same));
    }

    #[test]
    fn key_plans() {
        let people = People::new(4);
        let me = people.peer(0);
        let base = created(&people, 3);
        let added = apply(
            &RosterChange::Add(vec![people.peer(3)]),
            &base,
            &me,
            5,
            [1; 8],
        )
        .expect("allowed");
        assert_eq!(key_plan(&me, None, &base, None), KeyPlan::NewKey);
        assert_eq!(
            key_plan(&me, Some(&base), &added, Some(base.epoch)),
            KeyPlan::ShareWith(vec![people.peer(3)])
        );
        let renamed =
            apply(&RosterChange::Rename("x".into()), &base, &me, 5, [1; 8]).expect("allowed");
        assert_eq!(
            key_plan(&me, Some(&base), &renamed, Some(base.epoch)),
            KeyPlan::Nothing
        );
        let removed =
            apply(&RosterChange::Remove(people.peer(1)), &base, &me, 5, [1; 8]).expect("allowed");
        assert_eq!(
            key_plan(&me, Some(&base), &removed, Some(base.epoch)),
            KeyPlan::NewKey
        );
        assert_eq!(
            key_plan(&people.peer(1), Some(&base), &removed, Some(base.epoch)),
            KeyPlan::Forget
        );
        assert!(rotation_due(100, 0, 1));
        assert!(rotation_due(0, 0, ROTATE_AFTER_MS));
        assert!(!rotation_due(99, 0, ROTATE_AFTER_MS - 1));
    }
}
