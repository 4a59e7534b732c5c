//! Acceptance of records from the network (gossip and sync alike): verify, check that the
//! record belongs where it was found, store it, and say what changed.
//!
//! The outcome maps onto gossipsub's validation verdicts: a new record is accepted (and
//! forwarded), a stale or duplicate one ignored, an invalid or forged one rejected (its sender
//! penalised).

use paperplane_protocol::{FeedMessage, PeerId, Profile, Record, Signed};

use crate::{
    event::Event,
    feed::{handle_of, post_view},
    store::{PostInsert, Store, StoreError},
    views::{CommentView, ProfileView},
};

/// The verdict on one record.
#[derive(Debug)]
pub enum Outcome {
    /// New: stored, and this event tells what changed.
    Accepted(Box<Event>),
    /// Valid but nothing new (duplicate, stale, not of interest).
    Ignored,
    /// Invalid, forged or misplaced.
    Rejected(String),
}

/// Ingests records for the node of user `me` at time `now` (Unix ms).
pub struct Ingest<'a> {
    /// The store records go into.
    pub store: &'a Store,
    /// This node's user.
    pub me: PeerId,
    /// The clock, for timestamp checks.
    pub now: u64,
}

/// Profiles of peers the user has nothing to do with that are kept (the most recent); they
/// let the user find someone by handle before following or writing to them.
pub const MAX_OTHER_PROFILES: usize = 1_000;

fn verified<T: Record>(r: &Signed<T>, now: u64) -> Result<(), Outcome> {
    paperplane_crypto::verify_record(r, now).map_err(|e| Outcome::Rejected(e.to_string()))
}

impl Ingest<'_> {
    /// A profile: the newest version wins. A new messaging identity key of someone the user
    /// has a conversation with is recorded and announced ([`Event::KeyChanged`]): their
    /// safety number changed, and it may not be them.
    pub fn profile(&self, p: &Signed<Profile>) -> Result<Outcome, StoreError> {
        if let Err(o) = verified(p, self.now) {
            return Ok(o);
        }
        let author = p.body.author;
        let identity_key = |p: &Profile| p.messaging.as_ref().map(|m| m.identity_key);
        let before = self
            .store
            .profile(&author)?
            .and_then(|o| identity_key(&o.body));
        if !self.store.put_profile_if_newer(p)? {
            return Ok(Outcome::Ignored);
        }
        if !self.is_relevant(&author)? {
            let removed = self
                .store
                .cache_other_profile(&author, MAX_OTHER_PROFILES, |p| self.is_relevant(p))?;
            if !removed.is_empty() {
                tracing::debug!(
                    count = removed.len(),
                    "dropped the oldest unrelated profiles"
                );
            }
        }
        let profile = ProfileView::from(p);
        let changed = matches!(
            (before, identity_key(&p.body)),
            (Some(old), Some(new)) if old != new
        );
        if changed && author != self.me && self.store.chat(&author)?.is_some() {
            self.store.note_key_change(&author, self.now)?;
            return Ok(Outcome::Accepted(Box::new(Event::KeyChanged { profile })));
        }
        Ok(Outcome::Accepted(Box::new(Event::Profile { profile })))
    }

    /// Whether `peer` is someone the user has to do with: themself, followed, a follower, or
    /// someone they have a conversation with. Other peers' profiles are kept only in a
    /// bounded cache ([`MAX_OTHER_PROFILES`]).
    pub fn is_relevant(&self, peer: &PeerId) -> Result<bool, StoreError> {
        Ok(*peer == self.me
            || self.store.follows(&self.me, peer)?
            || self.store.follows(peer, &self.me)?
            || self.store.chat(peer)?.is_some())
    }

    /// Whether records about `author`'s feed interest this node.
    fn cares_about(&self, author: &PeerId) -> Result<bool, StoreError> {
        Ok(*author == self.me || self.store.follows(&self.me, author)?)
    }

    /// A feed message, found on `topic_author`'s topic (`None` when it came through sync,
    /// where the caller checks the author).
    pub fn feed(
        &self,
        msg: &FeedMessage,
        topic_author: Option<&PeerId>,
    ) -> Result<Outcome, StoreError> {
        if let Some(t) = topic_author {
            if msg.topic_author() != t {
                return Ok(Outcome::Rejected(
                    "record published on another author's topic".into(),
                ));
            }
        }
        let check = match msg {
            FeedMessage::Post(r) => verified(r, self.now),
            FeedMessage::Like(r) => verified(r, self.now),
            FeedMessage::Comment(r) => verified(r, self.now),
            FeedMessage::CommentDelete(r) => verified(r, self.now),
            FeedMessage::Follow(r) => verified(r, self.now),
        };
        if let Err(o) = check {
            return Ok(o);
        }
        if self.store.is_blocked(msg.author())? {
            return Ok(Outcome::Ignored);
        }
        let involves_me = match msg {
            FeedMessage::Follow(f) => f.body.author == self.me,
            _ => false,
        };
        if !involves_me && !self.cares_about(msg.topic_author())? {
            return Ok(Outcome::Ignored);
        }
        let s = self.store;
        Ok(match msg {
            FeedMessage::Post(p) => match s.insert_post(p)? {
                PostInsert::New => Outcome::Accepted(Box::new(Event::Post {
                    post: post_view(s, p, &self.me)?,
                })),
                PostInsert::Duplicate => Outcome::Ignored,
                PostInsert::Conflict => {
                    Outcome::Rejected("a different post with this sequence number exists".into())
                }
            },
            FeedMessage::Like(l) => {
                if s.put_like_if_newer(l)? {
                    Outcome::Accepted(Box::new(Event::Like {
                        post: l.body.post,
                        by: l.body.author,
                        liked: l.body.liked,
                    }))
                } else {
                    Outcome::Ignored
                }
            }
            FeedMessage::Comment(c) => {
                if s.insert_comment(c)? {
                    let handle = handle_of(s, &c.body.author)?;
                    Outcome::Accepted(Box::new(Event::Comment {
                        comment: CommentView::new(c, handle),
                    }))
                } else {
                    Outcome::Ignored
                }
            }
            FeedMessage::CommentDelete(d) => {
                if s.delete_comment(d)? {
                    Outcome::Accepted(Box::new(Event::CommentDeleted {
                        post: d.body.post,
                        comment: d.body.comment,
                    }))
                } else {
                    Outcome::Ignored
                }
            }
            FeedMessage::Follow(f) => {
                if s.put_follow_if_newer(f)? {
                    Outcome::Accepted(Box::new(Event::Follow {
                        follower: f.body.author,
                        followee: f.body.followee,
                        following: f.body.following,
                    }))
                } else {
                    Outcome::Ignored
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperplane_crypto::Identity;
    use paperplane_protocol::{BlobHash, Follow, Handle, ImageKind, PhotoRef, Post};

    fn post(author: &Identity, signer: &Identity, seq: u64, caption: &str) -> Signed<Post> {
        signer.sign_record(Post {
            author: author.peer_id(),
            seq,
            created_at: 1_200_000, // 20 minutes after the epoch: beyond the clock skew from 0
            caption: caption.into(),
            photos: vec![PhotoRef {
                hash: BlobHash([1; 32]),
                size: 10,
                kind: ImageKind::Jpeg,
            }],
        })
    }

    fn setup() -> (tempfile::TempDir, Store, Identity, Identity) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db")).expect("open");
        let (me, bob) = (Identity::from_seed([1; 32]), Identity::from_seed([2; 32]));
        let follow = me.sign_record(Follow {
            author: me.peer_id(),
            followee: bob.peer_id(),
            following: true,
            at: 1,
        });
        store.put_follow_if_newer(&follow).expect("follow");
        (dir, store, me, bob)
    }

    fn verdict(o: Result<Outcome, StoreError>) -> &'static str {
        match o.expect("store ok") {
            Outcome::Accepted(_) => "accepted",
            Outcome::Ignored => "ignored",
            Outcome::Rejected(_) => "rejected",
        }
    }

    #[test]
    fn feed_records_are_judged_by_signature_topic_interest_and_sequence() {
        let (_d, store, me, bob) = setup();
        let mallory = Identity::from_seed([3; 32]);
        let ingest = Ingest {
            store: &store,
            me: me.peer_id(),
            now: 2_000_000,
        };
        let b = bob.peer_id();
        let good = FeedMessage::Post(post(&bob, &bob, 1, "hi"));
        assert_eq!(verdict(ingest.feed(&good, Some(&b))), "accepted");
        assert_eq!(verdict(ingest.feed(&good, Some(&b))), "ignored");
        let equivocation = FeedMessage::Post(post(&bob, &bob, 1, "changed"));
        assert_eq!(verdict(ingest.feed(&equivocation, Some(&b))), "rejected");
        let forged = FeedMessage::Post(post(&bob, &mallory, 2, "forged"));
        assert_eq!(verdict(ingest.feed(&forged, Some(&b))), "rejected");
        let misplaced = FeedMessage::Post(post(&mallory, &mallory, 1, "mine"));
        assert_eq!(verdict(ingest.feed(&misplaced, Some(&b))), "rejected");
        // Valid, on its own topic, but nobody here follows mallory.
        let m = mallory.peer_id();
        assert_eq!(verdict(ingest.feed(&misplaced, Some(&m))), "ignored");
        let long = FeedMessage::Post(post(&bob, &bob, 3, &"x".repeat(2_201)));
        assert_eq!(verdict(ingest.feed(&long, Some(&b))), "rejected");
        let future = Ingest { now: 0, ..ingest };
        let early = FeedMessage::Post(post(&bob, &bob, 4, "from the future"));
        assert_eq!(verdict(future.feed(&early, Some(&b))), "rejected");
    }

    #[test]
    fn profiles_need_a_valid_signature_and_a_higher_version() {
        let (_d, store, me, bob) = setup();
        let ingest = Ingest {
            store: &store,
            me: me.peer_id(),
            now: 2_000,
        };
        let profile = |signer: &Identity, version| {
            signer.sign_record(Profile {
                author: bob.peer_id(),
                version,
                updated_at: 1_000,
                handle: Handle::parse("bob").expect("handle"),
                display_name: "Bob".into(),
                bio: String::new(),
                avatar: None,
                business: None,
                messaging: None,
            })
        };
        assert_eq!(verdict(ingest.profile(&profile(&bob, 2))), "accepted");
        assert_eq!(verdict(ingest.profile(&profile(&bob, 1))), "ignored");
        assert_eq!(verdict(ingest.profile(&profile(&me, 3))), "rejected");
        assert_eq!(
            store
                .profile(&bob.peer_id())
                .expect("get")
                .map(|p| p.body.version),
            Some(2)
        );
    }
}
