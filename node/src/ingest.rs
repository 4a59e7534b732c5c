//! Acceptance of records from the network (gossip and sync alike): verify, check that the
//! record belongs where it was found, store it, and say what changed.
//!
//! The outcome maps onto gossipsub's validation verdicts: a new record is accepted (and
//! forwarded), a stale or duplicate one ignored, an invalid or forged one rejected (its sender
//! penalised).

use paperplane_protocol::{FeedMessage, PeerId, Profile, Record, Signed};

use crate::{
    event::Event,
    feed::{comment_view, handle_of, post_view},
    store::{PostInsert, Store, StoreError},
    views::ProfileView,
};

/// The verdict on one record.
#[derive(Debug)]
pub enum Outcome {
    /// New: stored, and this event tells what changed.
    Accepted(Event),
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

fn verified<T: Record>(r: &Signed<T>, now: u64) -> Result<(), Outcome> {
    paperplane_crypto::verify_record(r, now).map_err(|e| Outcome::Rejected(e.to_string()))
}

impl Ingest<'_> {
    /// A profile: the newest version wins.
    pub fn profile(&self, p: &Signed<Profile>) -> Result<Outcome, StoreError> {
        if let Err(o) = verified(p, self.now) {
            return Ok(o);
        }
        Ok(if self.store.put_profile_if_newer(p)? {
            Outcome::Accepted(Event::Profile {
                profile: ProfileView::from(p),
            })
        } else {
            Outcome::Ignored
        })
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
                PostInsert::New => Outcome::Accepted(Event::Post {
                    post: post_view(s, p, &self.me)?,
                }),
                PostInsert::Duplicate => Outcome::Ignored,
                PostInsert::Conflict => {
                    Outcome::Rejected("a different post with this sequence number exists".into())
                }
            },
            FeedMessage::Like(l) => {
                if s.put_like_if_newer(l)? {
                    Outcome::Accepted(Event::Like {
                        post: l.body.post,
                        by: l.body.author,
                        liked: l.body.liked,
                    })
                } else {
                    Outcome::Ignored
                }
            }
            FeedMessage::Comment(c) => {
                if s.insert_comment(c)? {
                    let handle = handle_of(s, &c.body.author)?;
                    Outcome::Accepted(Event::Comment {
                        comment: comment_view(c, handle),
                    })
                } else {
                    Outcome::Ignored
                }
            }
            FeedMessage::CommentDelete(d) => {
                if s.delete_comment(d)? {
                    Outcome::Accepted(Event::CommentDeleted {
                        post: d.body.post,
                        comment: d.body.comment,
                    })
                } else {
                    Outcome::Ignored
                }
            }
            FeedMessage::Follow(f) => {
                if s.put_follow_if_newer(f)? {
                    Outcome::Accepted(Event::Follow {
                        follower: f.body.author,
                        followee: f.body.followee,
                        following: f.body.following,
                    })
                } else {
                    Outcome::Ignored
                }
            }
        })
    }
}
