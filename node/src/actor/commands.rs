//! The user's actions: each builds a record, signs it, stores it, publishes it and emits the
//! matching event before answering.

use libp2p::{
    multiaddr::Protocol,
    swarm::{dial_opts::DialOpts, DialError},
    Multiaddr,
};
use paperplane_protocol::{
    encode, Comment, CommentDelete, FeedMessage, Follow, Like, PeerId, PhotoRef, Post, Record,
    RecordId, Topic,
};

use super::{Actor, Command};
use crate::{
    error::{Error, IdKind, Result},
    event::Event,
    feed::{handle_of, post_view},
    profile,
    views::{CommentView, ProfileView},
};

impl Actor {
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Status(reply) => {
                let _ = reply.send(Ok(self.status()));
            }
            Command::Connect { addr, reply } => self.connect(addr, reply),
            Command::Bootstrap(reply) => self.bootstrap(reply),
            Command::SetMailboxes { mailboxes, reply } => {
                let result = self.set_my_mailboxes(mailboxes);
                let ok = result.is_ok();
                let _ = reply.send(result);
                if ok {
                    self.fetch_mail();
                }
            }
            Command::KeepMailFor { peer, keep, reply } => {
                let _ = reply.send(self.store.keep_mail_for(&peer, keep).map_err(Into::into));
            }
            Command::FetchMail(reply) => {
                let _ = reply.send(Ok(self.fetch_mail()));
            }
            Command::SetProfile { update, reply } => {
                let _ = reply.send(self.set_profile(&update));
            }
            Command::Post {
                photos,
                caption,
                reply,
            } => {
                let _ = reply.send(self.post(photos, caption));
            }
            Command::Follow {
                peer,
                following,
                reply,
            } => {
                let _ = reply.send(self.follow(peer, following));
            }
            Command::Like { post, liked, reply } => {
                let _ = reply.send(self.like(post, liked));
            }
            Command::Comment { post, text, reply } => {
                let _ = reply.send(self.comment(post, text));
            }
            Command::DeleteComment { comment, reply } => {
                let _ = reply.send(self.delete_comment(comment));
            }
            Command::Send { peer, body, reply } => {
                self.send_messages(vec![super::dm::Outgoing { peer, body, reply }])
            }
            Command::Typing {
                peer,
                active,
                reply,
            } => {
                let _ = reply.send(self.send_typing(peer, active).map_err(Into::into));
            }
            Command::SetReceipts { peer, on, reply } => {
                let _ = reply.send(self.set_receipts(peer, on));
            }
            Command::SendPhoto {
                peer,
                photo,
                caption,
                reply,
            } => self.send_photo(peer, photo, caption, reply),
            Command::MarkRead { peer, reply } => {
                let _ = reply.send(self.mark_read(peer));
            }
            Command::Accept { peer, reply } => {
                let _ = reply.send(self.accept(peer));
            }
            Command::Decline { peer, reply } => {
                let _ = reply.send(self.decline(peer));
            }
            Command::SetBlocked {
                peer,
                blocked,
                reply,
            } => {
                let _ = reply.send(self.set_blocked(peer, blocked));
            }
            Command::FetchBlob { hash, reply } => self.fetch_blob(hash, Vec::new(), Some(reply)),
            Command::Business(request) => self.on_business(request),
            Command::Group(request) => self.on_group_request(request),
            Command::Shutdown(_) => unreachable!("handled by the run loop"),
        }
    }

    pub(super) fn connect(
        &mut self,
        addr: String,
        reply: tokio::sync::oneshot::Sender<Result<PeerId>>,
    ) {
        if let Ok(peer) = addr.trim().parse::<PeerId>() {
            // A bare peer id: found through the DHT.
            self.connect_by_id(peer, reply);
            return;
        }
        let text = addr.clone();
        let addr: Multiaddr = match addr.parse() {
            Ok(a) => a,
            Err(e) => {
                let _ = reply.send(Err(Error::BadAddress {
                    addr,
                    reason: e.to_string(),
                }));
                return;
            }
        };
        if let Err(reason) = dialable(&addr) {
            let _ = reply.send(Err(Error::BadAddress { addr: text, reason }));
            return;
        }
        let peer = match addr.iter().last() {
            Some(Protocol::P2p(p)) => Some(p),
            _ => None,
        };
        if peer == Some(self.me) {
            let _ = reply.send(Err(Error::DialSelf));
            return;
        }
        if let Some(p) = peer.filter(|p| self.connected.contains(p)) {
            let _ = reply.send(Ok(p));
            return;
        }
        // A fresh source port: with the listening port as source (libp2p's default), a dial
        // that meets the peer's own dial to us at the same moment becomes one TCP connection
        // with two initiators, and both Noise handshakes fail.
        let opts = match peer {
            Some(p) => DialOpts::peer_id(p)
                .addresses(vec![addr.clone()])
                .allocate_new_port()
                .build(),
            None => DialOpts::unknown_peer_id()
                .address(addr.clone())
                .allocate_new_port()
                .build(),
        };
        let id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                if let Some(p) = peer {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&p, addr);
                    }
                }
                self.pending_dials.insert(id, reply);
            }
            // The node is dialling that peer already (to deliver a message, say): the caller
            // waits for that dial.
            Err(DialError::DialPeerConditionFalse(_)) if peer.is_some() => {
                if let Some(p) = peer {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&p, addr);
                    }
                    self.awaiting_peer.entry(p).or_default().push((text, reply));
                }
            }
            Err(e) => {
                let _ = reply.send(Err(Error::Dial(format!("cannot dial {addr}: {e}"))));
            }
        }
    }

    fn set_profile(&mut self, update: &crate::profile::ProfileUpdate) -> Result<ProfileView> {
        let current = self
            .store
            .profile(&self.me)?
            .ok_or_else(|| Error::UnknownPeer(self.me.to_string()))?;
        let avatar = update
            .avatar
            .as_deref()
            .map(PhotoRef::for_bytes)
            .transpose()?;
        let body = profile::updated(&current.body, update, avatar, self.now())?;
        if let Some(bytes) = &update.avatar {
            self.store.put_blob(bytes)?;
        }
        let signed = self.identity.sign_record(body);
        self.store.put_profile_if_newer(&signed)?;
        // On disk before anyone sees it: a crash must not make the next version reuse this
        // version number with other content.
        self.store.flush_blocking()?;
        self.publish(Topic::Profiles, encode(&signed));
        let view = ProfileView::from(&signed);
        self.emit(Event::Profile {
            profile: view.clone(),
        });
        Ok(view)
    }

    fn post(&mut self, photos: Vec<Vec<u8>>, caption: String) -> Result<RecordId> {
        let refs = photos
            .iter()
            .map(|p| PhotoRef::for_bytes(p))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let now = self.now();
        let body = Post {
            author: self.me,
            seq: self.store.latest_seq(&self.me)? + 1,
            created_at: now,
            caption,
            photos: refs,
        };
        body.validate(now)?;
        for p in &photos {
            self.store.put_blob(p)?;
        }
        let signed = self.identity.sign_record(body);
        self.store.insert_post(&signed)?;
        // On disk before anyone sees it: after a crash, a lost post's sequence number would
        // be reused by the next one, which peers refuse as equivocation.
        self.store.flush_blocking()?;
        self.publish(
            Topic::Feed(self.me),
            encode(&FeedMessage::Post(signed.clone())),
        );
        self.emit(Event::Post {
            post: post_view(&self.store, &signed, &self.me)?,
        });
        Ok(signed.id())
    }

    fn follow(&mut self, peer: PeerId, following: bool) -> Result<()> {
        if peer == self.me {
            return Err(Error::SelfAction("follow"));
        }
        paperplane_crypto::public_key_of(&peer)?;
        // Newer than the last record, follow or unfollow, whatever the clock says.
        let prev = self.store.follow_record(&self.me, &peer)?;
        let at = self.now().max(prev.map_or(0, |p| p.body.at + 1));
        let signed = self.identity.sign_record(Follow {
            author: self.me,
            followee: peer,
            following,
            at,
        });
        self.store.put_follow_if_newer(&signed)?;
        if following {
            self.followees.insert(peer);
            let now = self.now();
            self.catch_up.track(peer, now);
            self.subscribe(Topic::Feed(peer));
        } else {
            self.followees.remove(&peer);
            self.catch_up.untrack(&peer);
        }
        self.publish(Topic::Feed(peer), encode(&FeedMessage::Follow(signed)));
        if following {
            self.sync_after_follow(peer);
        } else {
            self.unsubscribe(Topic::Feed(peer));
        }
        self.emit(Event::Follow {
            follower: self.me,
            followee: peer,
            following,
        });
        Ok(())
    }

    fn like(&mut self, post: RecordId, liked: bool) -> Result<()> {
        let p = self.store.post(&post)?.ok_or_else(|| Error::NoSuch {
            kind: IdKind::Post,
            id: post.to_string(),
        })?;
        let prev = self.store.like_of(&post, &self.me)?;
        let at = self.now().max(prev.map_or(0, |l| l.body.at + 1));
        let signed = self.identity.sign_record(Like {
            author: self.me,
            post,
            post_author: p.body.author,
            liked,
            at,
        });
        self.store.put_like_if_newer(&signed)?;
        self.publish(
            Topic::Feed(p.body.author),
            encode(&FeedMessage::Like(signed)),
        );
        self.emit(Event::Like {
            post,
            by: self.me,
            liked,
        });
        Ok(())
    }

    fn comment(&mut self, post: RecordId, text: String) -> Result<RecordId> {
        let p = self.store.post(&post)?.ok_or_else(|| Error::NoSuch {
            kind: IdKind::Post,
            id: post.to_string(),
        })?;
        let now = self.now();
        let body = Comment {
            author: self.me,
            post,
            post_author: p.body.author,
            created_at: now,
            text,
        };
        body.validate(now)?;
        let signed = self.identity.sign_record(body);
        self.store.insert_comment(&signed)?;
        let id = signed.id();
        let view = CommentView::new(&signed, handle_of(&self.store, &self.me)?);
        self.publish(
            Topic::Feed(p.body.author),
            encode(&FeedMessage::Comment(signed)),
        );
        self.emit(Event::Comment { comment: view });
        Ok(id)
    }

    fn delete_comment(&mut self, comment: RecordId) -> Result<()> {
        let c = self.store.comment(&comment)?.ok_or_else(|| Error::NoSuch {
            kind: IdKind::Comment,
            id: comment.to_string(),
        })?;
        if c.body.author != self.me {
            return Err(Error::NotTheAuthor);
        }
        let signed = self.identity.sign_record(CommentDelete {
            author: self.me,
            comment,
            post: c.body.post,
            post_author: c.body.post_author,
            at: self.now(),
        });
        self.store.delete_comment(&signed)?;
        self.publish(
            Topic::Feed(c.body.post_author),
            encode(&FeedMessage::CommentDelete(signed)),
        );
        self.emit(Event::CommentDeleted {
            post: c.body.post,
            comment,
        });
        Ok(())
    }
}

/// Whether the node has a transport for `addr`: an IP address, then TCP or QUIC, then
/// optionally the peer id.
pub(super) fn dialable(addr: &Multiaddr) -> std::result::Result<(), String> {
    let mut parts = addr.iter();
    let transport = "no transport in it: expected /ip4/ADDR/tcp/PORT or \
                     /ip4/ADDR/udp/PORT/quic-v1 (or /ip6/…), optionally followed by /p2p/PEER-ID";
    match parts.next() {
        Some(Protocol::Ip4(_) | Protocol::Ip6(_)) => {}
        _ => return Err(transport.into()),
    }
    match (parts.next(), parts.next()) {
        (Some(Protocol::Tcp(_)), None | Some(Protocol::P2p(_))) => {}
        (Some(Protocol::Udp(_)), Some(Protocol::QuicV1)) => match parts.next() {
            None | Some(Protocol::P2p(_)) => {}
            Some(_) => return Err(transport.into()),
        },
        _ => return Err(transport.into()),
    }
    match parts.next() {
        None => Ok(()),
        Some(_) => Err(transport.into()),
    }
}

#[cfg(test)]
mod dialable_tests {
    use super::*;

    #[test]
    fn only_addresses_with_a_transport_are_dialable() {
        let peer = paperplane_crypto::Identity::from_seed([1; 32]).peer_id();
        for good in [
            "/ip4/127.0.0.1/tcp/4001".to_owned(),
            format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}"),
            "/ip6/::1/udp/4001/quic-v1".to_owned(),
            format!("/ip4/127.0.0.1/udp/4001/quic-v1/p2p/{peer}"),
        ] {
            let addr: Multiaddr = good.parse().expect("multiaddr");
            assert!(dialable(&addr).is_ok(), "{good}");
        }
        for bad in [
            String::new(),
            format!("/p2p/{peer}"),
            "/ip4/127.0.0.1".to_owned(),
            "/ip4/127.0.0.1/udp/4001".to_owned(),
            "/dns4/example.com/tcp/4001".to_owned(),
            "/ip4/127.0.0.1/tcp/4001/ws".to_owned(),
            "/tcp/4001".to_owned(),
        ] {
            let addr: Multiaddr = bad.parse().expect("multiaddr");
            assert!(dialable(&addr).is_err(), "{bad:?}");
        }
    }
}
