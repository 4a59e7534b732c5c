//! The rules of a group's roster, pure: who may change it, which of two rosters wins, what a
//! change makes, and what a member must do with its sender key after adopting a roster.
//!
//! **The rule for concurrent changes.** Every roster names its parent (the roster it was
//! made from) and is one version after it. A node keeps the valid rosters it has seen (each
//! authorised against its parent) and is at the one [`fork_choice`] picks: from the oldest, at
//! each fork the winning child ([`sibling_wins`]: the removal, then the one that removes the
//! other's author, then the smaller author id, then the smaller record id), down to the end of
//! that branch. Every member holding the same rosters is at the same roster and epoch,
//! whatever order they arrived in; a roster whose parent has not arrived waits for it. The
//! admin whose change is not on the chosen branch makes it again on top of it (`apply` of its
//! change to the chosen roster), so no change is lost either.
//!
//! **Authorisation** ([`authorised`]) is judged against the parent: its author must be an
//! admin there, or be a member leaving (a leave removes exactly its author and changes
//! nothing else). A removal, and only a removal, starts the next epoch (number + 1).

use paperplane_protocol::{
    group::MAX_GROUP_MEMBERS, Epoch, Member, PeerId, RecordId, Roster, RosterChange, Signed,
};

/// Most messages sealed with one sender key before it is replaced.
pub const ROTATE_AFTER_MESSAGES: u32 = 100;
/// Oldest a sender key gets before it is replaced.
pub const ROTATE_AFTER_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How long a replaced chain of another member is kept for their messages still in flight.
pub const OLD_CHAIN_GRACE_MS: u64 = 10 * 60 * 1000;

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
    /// Not one version after its parent.
    #[error("a roster is one version after the one it was made from")]
    BadVersion,
    /// Someone was removed without a new epoch, or the epoch moved without a removal.
    #[error("a removal, and only a removal, starts the next epoch")]
    BadEpoch,
}

/// Whether `a` wins over `b`, two changes made from the same roster: the one that starts
/// an epoch (a removal) wins; then one that removes the other's author; then the one whose
/// author has the smaller id; then the smaller record id.
pub fn sibling_wins(a: &Signed<Roster>, b: &Signed<Roster>) -> bool {
    let removes = |x: &Roster, y: &Roster| !x.is_member(&y.author) && y.is_member(&y.author);
    let (ra, rb) = (&a.body, &b.body);
    ra.epoch
        .number
        .cmp(&rb.epoch.number)
        .reverse()
        .then_with(|| removes(rb, ra).cmp(&removes(ra, rb)))
        .then_with(|| ra.author.to_bytes().cmp(&rb.author.to_bytes()))
        .then_with(|| a.id().cmp(&b.id()))
        .is_lt()
}

/// The roster a group is at, given the rosters known to be valid (each authorised by its
/// parent, or the first this node had): from the oldest, at each roster the winning child
/// ([`sibling_wins`]), down to a roster with no known child. Every node holding the same
/// rosters picks the same one, whatever order they came in; a longer branch does not win by
/// being longer, so a removed admin cannot outrun their removal by extending a branch of
/// their own.
pub fn fork_choice(valid: &[Signed<Roster>]) -> Option<&Signed<Roster>> {
    let lowest = valid.iter().map(|r| r.body.version).min()?;
    fn best<'a>(
        candidates: impl Iterator<Item = &'a Signed<Roster>>,
    ) -> Option<&'a Signed<Roster>> {
        candidates.reduce(|a, b| if sibling_wins(b, a) { b } else { a })
    }
    let mut at = best(valid.iter().filter(|r| r.body.version == lowest))?;
    loop {
        let id = at.id();
        match best(valid.iter().filter(|r| r.body.parent == Some(id))) {
            Some(child) => at = child,
            None => return Some(at),
        }
    }
}

/// Whether `roster` descends from (or is) the roster with id `ancestor`, following parents
/// through `known`.
pub fn descends_from(
    roster: &Signed<Roster>,
    ancestor: &RecordId,
    known: &[Signed<Roster>],
) -> bool {
    let mut at = roster.clone();
    loop {
        if at.id() == *ancestor {
            return true;
        }
        match at
            .body
            .parent
            .and_then(|p| known.iter().find(|r| r.id() == p))
        {
            Some(parent) => at = parent.clone(),
            None => return false,
        }
    }
}

/// Whether `new`'s author may make it from `base`, its parent.
pub fn authorised(new: &Roster, base: &Signed<Roster>) -> Result<(), RosterRefusal> {
    let parent = &base.body;
    if new.version != parent.version + 1 || new.parent != Some(base.id()) {
        return Err(RosterRefusal::BadVersion);
    }
    let removed = parent.peers().any(|p| !new.is_member(p));
    let epoch_ok = if removed {
        new.epoch.number == parent.epoch.number + 1
    } else {
        new.epoch == parent.epoch
    };
    if !epoch_ok {
        return Err(RosterRefusal::BadEpoch);
    }
    if parent.is_admin(&new.author) {
        return Ok(());
    }
    if new.change != RosterChange::Leave || !parent.is_member(&new.author) {
        return Err(RosterRefusal::NotAnAdmin);
    }
    // A member who is not an admin may only take themselves out.
    if new.members != leave(parent, &new.author) || new.name != parent.name {
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
    signed_base: &Signed<Roster>,
    author: &PeerId,
    now: u64,
    nonce: [u8; 8],
) -> Result<Roster, ChangeRefusal> {
    let base = &signed_base.body;
    if !base.is_member(author) {
        return Err(ChangeRefusal::NotAMember);
    }
    if *change != RosterChange::Leave && !base.is_admin(author) {
        return Err(ChangeRefusal::NotAnAdmin);
    }
    let mut next = Roster {
        version: base.version + 1,
        parent: Some(signed_base.id()),
        author: *author,
        changed_at: now,
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
        fn index(&self, peer: &PeerId) -> usize {
            (0..self.0.len())
                .find(|&i| self.peer(i) == *peer)
                .expect("one of them")
        }
        fn sign(&self, roster: Roster) -> Signed<Roster> {
            let i = self.index(&roster.author);
            self.0[i].sign_record(roster)
        }
        /// `author` applies `change` to `base`, signed.
        fn change(
            &self,
            base: &Signed<Roster>,
            author: usize,
            change: RosterChange,
        ) -> Signed<Roster> {
            let next =
                apply(&change, base, &self.peer(author), 9, [author as u8; 8]).expect("allowed");
            self.sign(next)
        }
    }

    /// A group of the first `n` people, person 0 its admin (and `admins` too).
    fn created(people: &People, n: usize, admins: &[usize]) -> Signed<Roster> {
        let members = (0..n)
            .map(|i| Member {
                peer: people.peer(i),
                admin: i == 0 || admins.contains(&i),
            })
            .collect();
        people.sign(Roster {
            group: GroupId([1; 16]),
            version: 0,
            parent: None,
            epoch: Epoch {
                number: 0,
                nonce: [0; 8],
            },
            name: "climbing".into(),
            members: Roster::canonical_members(members),
            author: people.peer(0),
            changed_at: 1,
            change: RosterChange::Create,
        })
    }

    #[test]
    fn admins_change_the_roster_and_members_may_only_leave() {
        let people = People::new(4);
        let base = created(&people, 3, &[]);
        let added = people.change(&base, 0, RosterChange::Add(vec![people.peer(3)]));
        assert_eq!((added.body.version, added.body.epoch), (1, base.body.epoch));
        assert!(authorised(&added.body, &base).is_ok());

        let by_member = Roster {
            author: people.peer(1),
            ..added.body.clone()
        };
        assert_eq!(
            authorised(&by_member, &base),
            Err(RosterRefusal::NotAnAdmin)
        );
        assert_eq!(
            apply(
                &RosterChange::Add(vec![people.peer(3)]),
                &base,
                &people.peer(1),
                5,
                [1; 8]
            ),
            Err(ChangeRefusal::NotAnAdmin)
        );

        let left = people.change(&base, 1, RosterChange::Leave);
        assert_eq!(left.body.epoch.number, 1, "leaving starts an epoch");
        assert!(authorised(&left.body, &base).is_ok());
        let mut sneaky = left.body.clone();
        sneaky.members.push(Member {
            peer: people.peer(3),
            admin: true,
        });
        sneaky.members = Roster::canonical_members(sneaky.members);
        assert_eq!(authorised(&sneaky, &base), Err(RosterRefusal::BadLeave));

        let removed = people.change(&base, 0, RosterChange::Remove(people.peer(1)));
        let mut same_epoch = removed.body.clone();
        same_epoch.epoch = base.body.epoch;
        assert_eq!(authorised(&same_epoch, &base), Err(RosterRefusal::BadEpoch));
        // The epoch cannot be pushed anywhere but one on.
        let mut far = removed.body.clone();
        far.epoch.number = u64::MAX;
        assert_eq!(authorised(&far, &base), Err(RosterRefusal::BadEpoch));
        let mut skipped = removed.body.clone();
        skipped.version = 5;
        assert_eq!(authorised(&skipped, &base), Err(RosterRefusal::BadVersion));
        let mut renamed = added.body.clone();
        renamed.epoch.number += 1;
        assert_eq!(
            authorised(&renamed, &base),
            Err(RosterRefusal::BadEpoch),
            "no epoch without a removal"
        );

        let admin_left = people.change(&base, 0, RosterChange::Leave);
        assert_eq!(
            admin_left.body.members.iter().filter(|m| m.admin).count(),
            1
        );
        assert!(!admin_left.body.is_member(&people.peer(0)));

        assert_eq!(
            apply(
                &RosterChange::Add(vec![people.peer(1)]),
                &base,
                &people.peer(0),
                5,
                [1; 8]
            ),
            Err(ChangeRefusal::Nothing)
        );
        assert_eq!(
            apply(
                &RosterChange::Rename("climbing".into()),
                &base,
                &people.peer(0),
                5,
                [1; 8]
            ),
            Err(ChangeRefusal::Nothing)
        );
    }

    /// Every order of `rosters` gives the same fork choice.
    fn same_in_every_order(rosters: &[Signed<Roster>]) -> Signed<Roster> {
        let mut orders = vec![rosters.to_vec()];
        let mut reversed = rosters.to_vec();
        reversed.reverse();
        orders.push(reversed);
        for i in 0..rosters.len() {
            let mut o = rosters.to_vec();
            o.rotate_left(i);
            orders.push(o);
        }
        let first = fork_choice(&orders[0]).expect("a roster").clone();
        for o in &orders[1..] {
            assert_eq!(fork_choice(o).expect("a roster"), &first);
        }
        first
    }

    #[test]
    fn concurrent_changes_converge_whatever_the_order() {
        let people = People::new(6);
        let base = created(&people, 5, &[1]);
        // Both admins change version 0 at once: one adds, the other removes.
        let add = people.change(&base, 0, RosterChange::Add(vec![people.peer(5)]));
        let remove = people.change(&base, 1, RosterChange::Remove(people.peer(3)));
        assert_eq!(
            same_in_every_order(&[base.clone(), add.clone(), remove.clone()]),
            remove,
            "the removal wins"
        );
        // The adder makes its change again on the winner; that is where everyone ends.
        assert!(!descends_from(
            &remove,
            &add.id(),
            &[base.clone(), add.clone(), remove.clone()]
        ));
        let again = people.change(&remove, 0, RosterChange::Add(vec![people.peer(5)]));
        let all = [base.clone(), add.clone(), remove.clone(), again.clone()];
        assert_eq!(same_in_every_order(&all), again);
        assert!(again.body.is_member(&people.peer(5)) && !again.body.is_member(&people.peer(3)));

        // A longer branch built on the losing change does not win by its length.
        let on_add = people.change(&add, 0, RosterChange::Rename("x".into()));
        let on_on_add = people.change(&on_add, 0, RosterChange::Rename("y".into()));
        assert_eq!(
            same_in_every_order(&[base.clone(), add.clone(), remove.clone(), on_add, on_on_add]),
            remove
        );

        // Two removals at once: the same one wins everywhere.
        let remove_other = people.change(&base, 0, RosterChange::Remove(people.peer(4)));
        let winner = same_in_every_order(&[base.clone(), remove.clone(), remove_other.clone()]);
        assert!(winner == remove || winner == remove_other);

        // A removed admin's change made afterwards from the roster before their removal,
        // removing the one who removed them: it loses to a removal that does not name them
        // the other way round only by the tie rules; a plain change of theirs loses outright.
        let removes_admin = people.change(&base, 0, RosterChange::Remove(people.peer(1)));
        let late = people.change(&base, 1, RosterChange::Rename("mine".into()));
        assert_eq!(
            same_in_every_order(&[base.clone(), removes_admin.clone(), late]),
            removes_admin
        );
    }

    #[test]
    fn key_plans() {
        let people = People::new(4);
        let me = people.peer(0);
        let base = created(&people, 3, &[]);
        let added = people.change(&base, 0, RosterChange::Add(vec![people.peer(3)]));
        assert_eq!(key_plan(&me, None, &base.body, None), KeyPlan::NewKey);
        assert_eq!(
            key_plan(&me, Some(&base.body), &added.body, Some(base.body.epoch)),
            KeyPlan::ShareWith(vec![people.peer(3)])
        );
        let renamed = people.change(&base, 0, RosterChange::Rename("x".into()));
        assert_eq!(
            key_plan(&me, Some(&base.body), &renamed.body, Some(base.body.epoch)),
            KeyPlan::Nothing
        );
        let removed = people.change(&base, 0, RosterChange::Remove(people.peer(1)));
        assert_eq!(
            key_plan(&me, Some(&base.body), &removed.body, Some(base.body.epoch)),
            KeyPlan::NewKey
        );
        assert_eq!(
            key_plan(
                &people.peer(1),
                Some(&base.body),
                &removed.body,
                Some(base.body.epoch)
            ),
            KeyPlan::Forget
        );
        assert!(rotation_due(100, 0, 1));
        assert!(rotation_due(0, 0, ROTATE_AFTER_MS));
        assert!(!rotation_due(99, 0, ROTATE_AFTER_MS - 1));
    }
}
