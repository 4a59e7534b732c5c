//! What travels over gossipsub, and the topic names.
//!
//! - `paperplane/profiles/1` carries [`Signed<Profile>`](crate::Signed) frames.
//! - `paperplane/feed/<peer-id>/1` carries [`FeedMessage`]s about that author: their posts,
//!   and likes, comments and follows aimed at them or their posts.

use serde::{Deserialize, Serialize};

use crate::{
    records::{Comment, CommentDelete, Follow, Like, Post, Signed},
    PeerId,
};

/// A gossipsub topic of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `paperplane/profiles/1`.
    Profiles,
    /// `paperplane/feed/<peer-id>/1`.
    Feed(PeerId),
}

const PROFILES: &str = "paperplane/profiles/1";

impl Topic {
    /// The topic string.
    pub fn name(&self) -> String {
        match self {
            Self::Profiles => PROFILES.to_owned(),
            Self::Feed(peer) => format!("paperplane/feed/{peer}/1"),
        }
    }

    /// Parses a topic string; `None` for topics that are not the protocol's.
    pub fn parse(s: &str) -> Option<Self> {
        if s == PROFILES {
            return Some(Self::Profiles);
        }
        let peer = s.strip_prefix("paperplane/feed/")?.strip_suffix("/1")?;
        peer.parse().ok().map(Self::Feed)
    }
}

/// A message on an author's feed topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedMessage {
    /// A new post by the topic's author.
    Post(Signed<Post>),
    /// A like or unlike of one of the author's posts.
    Like(Signed<Like>),
    /// A comment on one of the author's posts.
    Comment(Signed<Comment>),
    /// A comment's deletion.
    CommentDelete(Signed<CommentDelete>),
    /// Someone follows or unfollows the topic's author.
    Follow(Signed<Follow>),
}

impl FeedMessage {
    /// The peer who signed the record inside.
    pub fn author(&self) -> &PeerId {
        match self {
            Self::Post(r) => &r.body.author,
            Self::Like(r) => &r.body.author,
            Self::Comment(r) => &r.body.author,
            Self::CommentDelete(r) => &r.body.author,
            Self::Follow(r) => &r.body.author,
        }
    }

    /// The peer whose feed topic this message belongs on.
    pub fn topic_author(&self) -> &PeerId {
        match self {
            Self::Post(p) => &p.body.author,
            Self::Like(l) => &l.body.post_author,
            Self::Comment(c) => &c.body.post_author,
            Self::CommentDelete(d) => &d.body.post_author,
            Self::Follow(f) => &f.body.followee,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_round_trip() {
        let peer = libp2p_identity::Keypair::ed25519_from_bytes([7u8; 32])
            .expect("valid seed")
            .public()
            .to_peer_id();
        for t in [Topic::Profiles, Topic::Feed(peer)] {
            assert_eq!(Topic::parse(&t.name()), Some(t));
        }
        assert_eq!(Topic::parse("paperplane/feed/nonsense/1"), None);
        assert_eq!(Topic::parse("other"), None);
    }
}
