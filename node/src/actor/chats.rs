//! The user's changes to chats: opening (read), accepting and declining requests, blocking.
//! The actor is the only writer of the store, so each check and its change happen without
//! a message arriving in between; each change that a user can see is announced.

use paperplane_protocol::PeerId;

use super::Actor;
use crate::{
    delivery::Folder,
    error::{Error, Result},
    event::Event,
};

impl Actor {
    pub(super) fn mark_read(&mut self, peer: PeerId) -> Result<()> {
        if self.store.mark_read(&peer)? {
            self.emit(Event::ChatRead { peer });
        }
        self.send_receipt(peer)
    }

    pub(super) fn accept(&mut self, peer: PeerId) -> Result<()> {
        match self.store.chat(&peer)? {
            None => Err(Error::NoConversation(peer)),
            Some(c) if c.folder == Folder::Inbox => Ok(()),
            Some(_) => {
                self.store.accept_request(&peer)?;
                self.emit(Event::RequestAccepted { peer });
                Ok(())
            }
        }
    }

    pub(super) fn decline(&mut self, peer: PeerId) -> Result<()> {
        match self.store.chat(&peer)? {
            Some(c) if c.folder == Folder::Requests => {
                self.delete_chat(peer)?;
                self.emit(Event::RequestDeclined { peer });
                Ok(())
            }
            Some(_) => Err(Error::NotARequest(peer)),
            None => Err(Error::NoRequest(peer)),
        }
    }

    /// Deletes the chat with `peer`, retiring its sessions into the replay cache first (in
    /// the same transaction), so its handshakes replayed later open nothing already read.
    pub(super) fn delete_chat(&mut self, peer: PeerId) -> Result<()> {
        let mut replays = self.replays.clone();
        if let Some(conversation) = self.store.conversation(&peer)? {
            replays.retire(&conversation, self.now());
        }
        self.store.delete_chat(&peer, Some(&replays))?;
        self.replays = replays;
        Ok(())
    }

    pub(super) fn set_blocked(&mut self, peer: PeerId, blocked: bool) -> Result<()> {
        if peer == self.me {
            return Err(Error::SelfAction("block"));
        }
        let now = self.now();
        self.store.set_blocked(&peer, blocked, now)?;
        if blocked && matches!(self.store.chat(&peer)?, Some(c) if c.folder == Folder::Requests) {
            self.delete_chat(peer)?;
        }
        self.emit(Event::Blocked { peer, blocked });
        Ok(())
    }
}
