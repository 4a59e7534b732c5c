//! Group chats on the wire: the signed [`Roster`], the [`GroupUpdate`] that carries it (and a
//! member's sender key) over the 1:1 sessions, and the [`GroupEnvelope`] that carries one
//! group message, sealed once with its sender's key, to every member.
//!
//! The rules that decide which roster wins and who may change it are the node's
//! (`paperplane_node::group_rules`); this module holds the records and their limits.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    encoding::{decode, encode},
    error::{DecodeError, ValidationError},
    records::{Record, Signed},
    PeerId,
};

/// Most members a group may have.
pub const MAX_GROUP_MEMBERS: usize = 256;
/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 100;
/// The first byte of a `SealedEnvelope` payload that holds a [`GroupEnvelope`]; a 1:1
/// envelope's payload starts with the encoding's version byte instead.
pub const GROUP_PAYLOAD_TAG: u8 = 0x47;
/// Largest encoded [`GroupEnvelope`] payload (a sealed message plus its framing).
pub const MAX_GROUP_PAYLOAD_BYTES: usize = crate::dm::MAX_SEALED_BYTES + 512;

crate::ids::random_id!(
    /// A group chat's id: 16 random bytes chosen by its creator.
    GroupId
);

/// A key epoch: who could read the group's messages. A new one starts whenever someone
/// leaves or is removed; every member then seals with a new sender key. The nonce tells two
/// epochs of the same number apart (two admins removing people at the same moment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Epoch {
    /// Counts up from 0.
    pub number: u64,
    /// Random, chosen by the admin who started it.
    pub nonce: [u8; 8],
}

/// One member of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Who.
    pub peer: PeerId,
    /// Whether they may change the roster.
    pub admin: bool,
}

/// What a roster version changed, for the chat's history ("Ana added Ben") and for an
/// admin's node to apply again when a concurrent change won.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RosterChange {
    /// The group was created.
    Create,
    /// These people were added.
    Add(Vec<PeerId>),
    /// This member was removed.
    Remove(PeerId),
    /// The author left.
    Leave,
    /// This member was made an admin.
    MakeAdmin(PeerId),
    /// The group was renamed.
    Rename(String),
}

/// Who is in a group, who may change that, and its name: signed by an admin (or, for
/// [`RosterChange::Leave`], by the member leaving). Each change is a new version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// The group.
    pub group: GroupId,
    /// 0 at creation, one more per change.
    pub version: u64,
    /// The record id of the roster this one was made from (none for version 0).
    pub parent: Option<crate::RecordId>,
    /// The key epoch this version belongs to.
    pub epoch: Epoch,
    /// The group's name.
    pub name: String,
    /// The members, sorted by peer id, each once; the author of a `Create` among them.
    pub members: Vec<Member>,
    /// Who signed this version.
    pub author: PeerId,
    /// The author's clock (Unix ms).
    pub changed_at: u64,
    /// What this version changed.
    pub change: RosterChange,
}

impl Roster {
    /// Whether `peer` is a member.
    pub fn is_member(&self, peer: &PeerId) -> bool {
        self.member(peer).is_some()
    }

    /// Whether `peer` is an admin.
    pub fn is_admin(&self, peer: &PeerId) -> bool {
        self.member(peer).is_some_and(|m| m.admin)
    }

    /// `peer`'s entry.
    pub fn member(&self, peer: &PeerId) -> Option<&Member> {
        self.members
            .binary_search_by(|m| m.peer.to_bytes().cmp(&peer.to_bytes()))
            .ok()
            .map(|i| &self.members[i])
    }

    /// Every member's peer id.
    pub fn peers(&self) -> impl Iterator<Item = &PeerId> + '_ {
        self.members.iter().map(|m| &m.peer)
    }

    /// Puts `members` in the canonical order (by peer id bytes), keeping the first entry of
    /// each peer.
    pub fn canonical_members(mut members: Vec<Member>) -> Vec<Member> {
        members.sort_by_key(|m| m.peer.to_bytes());
        members.dedup_by(|a, b| a.peer == b.peer);
        members
    }
}

impl Record for Roster {
    const LABEL: &'static str = "roster";

    fn author(&self) -> &PeerId {
        &self.author
    }

    fn validate(&self, now_ms: u64) -> Result<(), ValidationError> {
        let name = self.name.chars().count();
        if name > MAX_GROUP_NAME_CHARS {
            return Err(ValidationError::TooLong {
                field: "group name",
                len: name,
                max: MAX_GROUP_NAME_CHARS,
            });
        }
        if self.name.trim().is_empty() {
            return Err(ValidationError::Inconsistent("a group needs a name"));
        }
        if self.members.len() > MAX_GROUP_MEMBERS {
            return Err(ValidationError::Count {
                field: "members",
                count: self.members.len(),
                min: 0,
                max: MAX_GROUP_MEMBERS,
            });
        }
        let sorted = self
            .members
            .windows(2)
            .all(|w| w[0].peer.to_bytes() < w[1].peer.to_bytes());
        if !sorted {
            return Err(ValidationError::Inconsistent(
                "roster members must be sorted and unique",
            ));
        }
        if !self.members.is_empty() && !self.members.iter().any(|m| m.admin) {
            return Err(ValidationError::Inconsistent("a group needs an admin"));
        }
        if (self.version == 0) != self.parent.is_none() {
            return Err(ValidationError::Inconsistent(
                "a roster names its parent, except the first",
            ));
        }
        match &self.change {
            RosterChange::Create if self.version != 0 => Err(ValidationError::Inconsistent(
                "only version 0 creates a group",
            )),
            RosterChange::Create if !self.is_admin(&self.author) => Err(
                ValidationError::Inconsistent("the creator must be an admin"),
            ),
            RosterChange::Leave if self.is_member(&self.author) => Err(
                ValidationError::Inconsistent("who leaves is no longer a member"),
            ),
            RosterChange::Add(p) if p.is_empty() || p.len() > MAX_GROUP_MEMBERS => Err(
                ValidationError::Inconsistent("an addition adds 1 to 256 people"),
            ),
            _ if self.version == 0 && self.change != RosterChange::Create => {
                Err(ValidationError::Inconsistent("version 0 creates the group"))
            }
            _ if self.changed_at > now_ms.saturating_add(crate::limits::MAX_CLOCK_SKEW_MS) => {
                Err(ValidationError::FromTheFuture {
                    at: self.changed_at,
                    now: now_ms,
                })
            }
            _ => Ok(()),
        }
    }
}

/// A member's sender key for one epoch, as the other members get it: the epoch, the key's
/// id (random, unique per sender), and the key share (`paperplane-crypto`'s
/// `SenderKeyShare` encoding: chain key, index, verifying key).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupKey {
    /// The epoch the key seals in.
    pub epoch: Epoch,
    /// Which of the sender's keys.
    pub key_id: u64,
    /// The encoded share. Secret.
    pub share: Vec<u8>,
}

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKey")
            .field("epoch", &self.epoch)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Sent over a 1:1 session to a member: a roster (its author sends it to every member; a
/// member passes it on to those who may not have it yet, e.g. with its key to a joiner),
/// and the sender's key for an epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUpdate {
    /// The group.
    pub group: GroupId,
    /// A roster, signed by whoever made that change.
    pub roster: Option<Signed<Roster>>,
    /// The sender's key, if it sends one.
    pub key: Option<GroupKey>,
}

impl GroupUpdate {
    /// Checks that the parts agree and are within their limits (timestamps are checked where
    /// the roster is adopted).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(roster) = &self.roster {
            if roster.body.group != self.group {
                return Err(ValidationError::Inconsistent(
                    "the roster is for another group",
                ));
            }
            roster.body.validate(u64::MAX)?;
        }
        if self.roster.is_none() && self.key.is_none() {
            return Err(ValidationError::Inconsistent("an empty group update"));
        }
        if self.key.as_ref().is_some_and(|k| k.share.len() > 256) {
            return Err(ValidationError::Inconsistent(
                "a key share is under 256 bytes",
            ));
        }
        Ok(())
    }
}

/// One group message, sealed once by its sender with their sender key and sent to every
/// member as the payload of a `SealedEnvelope` (after [`GROUP_PAYLOAD_TAG`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEnvelope {
    /// The group.
    pub group: GroupId,
    /// Which of the sender's keys sealed it.
    pub key_id: u64,
    /// The sealed message (`paperplane-crypto`'s `GroupCiphertext` encoding).
    pub sealed: Vec<u8>,
}

impl GroupEnvelope {
    /// The payload bytes: the tag, then the encoding.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = vec![GROUP_PAYLOAD_TAG];
        out.extend_from_slice(&encode(self));
        out
    }

    /// Whether a payload holds a group envelope.
    pub fn is_group_payload(payload: &[u8]) -> bool {
        payload.first() == Some(&GROUP_PAYLOAD_TAG)
    }

    /// Decodes a payload made by [`GroupEnvelope::to_payload`].
    pub fn from_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        match payload.split_first() {
            Some((&GROUP_PAYLOAD_TAG, rest)) => decode(rest, MAX_GROUP_PAYLOAD_BYTES),
            Some(_) => Err(DecodeError::Malformed("not a group envelope".into())),
            None => Err(DecodeError::Empty),
        }
    }

    /// The associated data its seal binds: the group, the sender, the key id and the
    /// message id (which the outer envelope repeats).
    pub fn associated_data(
        group: &GroupId,
        sender: &PeerId,
        key_id: u64,
        id: &crate::MessageId,
    ) -> Vec<u8> {
        let sender = sender.to_bytes();
        let mut out = Vec::with_capacity(16 + 1 + sender.len() + 8 + 16);
        out.extend_from_slice(&group.0);
        out.push(sender.len() as u8);
        out.extend_from_slice(&sender);
        out.extend_from_slice(&key_id.to_be_bytes());
        out.extend_from_slice(&id.0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(i: u8) -> PeerId {
        any_peer([i; 32])
    }

    fn any_peer(seed: [u8; 32]) -> PeerId {
        let key = libp2p_identity::Keypair::ed25519_from_bytes(seed).expect("32 bytes");
        key.public().to_peer_id()
    }

    fn seeded(i: usize) -> PeerId {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64 + 1000).to_be_bytes());
        any_peer(seed)
    }

    fn roster(members: Vec<Member>) -> Roster {
        Roster {
            group: GroupId([1; 16]),
            version: 1,
            parent: Some(crate::RecordId([3; 32])),
            epoch: Epoch {
                number: 0,
                nonce: [0; 8],
            },
            name: "hikers".into(),
            members: Roster::canonical_members(members),
            author: peer(1),
            changed_at: 1,
            change: RosterChange::Rename("hikers".into()),
        }
    }

    #[test]
    fn roster_limits() {
        let admin = Member {
            peer: peer(1),
            admin: true,
        };
        let r = roster(vec![admin]);
        assert!(r.validate(10).is_ok());
        assert!(r.is_admin(&peer(1)) && !r.is_member(&peer(2)));

        let mut unsorted = r.clone();
        unsorted.members = vec![
            Member {
                peer: peer(2),
                admin: false,
            },
            admin,
        ];
        unsorted.members = if unsorted.members[0].peer.to_bytes() < admin.peer.to_bytes() {
            vec![admin, unsorted.members[0]]
        } else {
            unsorted.members
        };
        assert!(unsorted.validate(10).is_err());

        let mut no_admin = r.clone();
        no_admin.members[0].admin = false;
        assert!(no_admin.validate(10).is_err());

        let mut long = r.clone();
        long.name = "x".repeat(MAX_GROUP_NAME_CHARS + 1);
        assert!(long.validate(10).is_err());

        let mut blank = r.clone();
        blank.name = "  ".into();
        assert!(blank.validate(10).is_err());

        let mut crowd = r.clone();
        crowd.members = Roster::canonical_members(
            (0..=MAX_GROUP_MEMBERS)
                .map(|i| Member {
                    peer: seeded(i),
                    admin: i == 0,
                })
                .collect(),
        );
        assert!(crowd.validate(10).is_err());

        let mut create = r.clone();
        create.change = RosterChange::Create;
        assert!(create.validate(10).is_err(), "create at version 1");
        create.version = 0;
        assert!(
            create.validate(10).is_err(),
            "the first roster has no parent"
        );
        create.parent = None;
        assert!(create.validate(10).is_ok());
        let mut orphan = r.clone();
        orphan.parent = None;
        assert!(
            orphan.validate(10).is_err(),
            "a later roster names its parent"
        );

        let mut leave = r;
        leave.change = RosterChange::Leave;
        assert!(leave.validate(10).is_err(), "the leaver is still a member");
    }

    #[test]
    fn a_full_roster_fits_in_one_sealed_message() {
        let members = Roster::canonical_members(
            (0..MAX_GROUP_MEMBERS)
                .map(|i| Member {
                    peer: seeded(i),
                    admin: i < 10,
                })
                .collect(),
        );
        let mut r = roster(members);
        r.name = "é".repeat(MAX_GROUP_NAME_CHARS);
        let update = GroupUpdate {
            group: GroupId([1; 16]),
            roster: Some(Signed {
                body: r,
                signature: vec![0; 64],
            }),
            key: Some(GroupKey {
                epoch: Epoch {
                    number: 9,
                    nonce: [9; 8],
                },
                key_id: u64::MAX,
                share: vec![0; 80],
            }),
        };
        let size = encode(&update).len();
        assert!(size + 64 < crate::dm::MAX_SEALED_BYTES, "{size} bytes");
    }

    #[test]
    fn group_payloads_are_told_apart_from_one_to_one_envelopes() {
        let env = GroupEnvelope {
            group: GroupId([7; 16]),
            key_id: 3,
            sealed: vec![1, 2, 3],
        };
        let payload = env.to_payload();
        assert!(GroupEnvelope::is_group_payload(&payload));
        assert_eq!(
            GroupEnvelope::from_payload(&payload).expect("round trip"),
            env
        );
        assert!(!GroupEnvelope::is_group_payload(&encode(&1u8)));
        assert!(GroupEnvelope::from_payload(&[]).is_err());
        assert!(GroupEnvelope::from_payload(&[GROUP_PAYLOAD_TAG, 9, 9]).is_err());
        let id: GroupId = env.group.to_hex().parse().expect("round trip");
        assert_eq!(id, env.group);
    }
}
