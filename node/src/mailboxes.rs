//! Mailboxes for the [`Node`] handle: name the nodes that keep your mail while you are
//! offline (published in your profile), keep mail for someone else, fetch yours now, and
//! see both lists. The wire is `protocol::mailbox`; the rules `mailbox_rules`; the work is
//! the actor's (`actor/mailbox.rs`); the trees are `store/mailbox.rs`.

use paperplane_protocol::{mailbox::validate_mailboxes, PeerId};
use serde::{Deserialize, Serialize};

use crate::{
    actor::Command,
    error::{Error, Result},
    node::Node,
};

/// Someone this node keeps mail for, with what it holds for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailClientView {
    /// The recipient.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer: PeerId,
    /// Envelopes waiting for them.
    pub messages: u64,
    /// Their size in bytes.
    pub bytes: u64,
}

/// Both sides of mailboxes on this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailboxView {
    /// The nodes keeping the user's mail (named in their profile).
    #[schema(value_type = Vec<crate::api::schema::PeerIdText>)]
    pub mailboxes: Vec<PeerId>,
    /// The people this node keeps mail for.
    pub keeping_for: Vec<MailClientView>,
}

impl Node {
    /// The user's mailboxes and the people this node keeps mail for.
    pub fn mailboxes(&self) -> Result<MailboxView> {
        let store = self.store();
        Ok(MailboxView {
            mailboxes: store.my_mailboxes()?,
            keeping_for: store
                .mail_clients()?
                .into_iter()
                .map(|(peer, usage)| MailClientView {
                    peer,
                    messages: usage.items,
                    bytes: usage.bytes,
                })
                .collect(),
        })
    }

    /// Names the nodes that keep the user's mail (at most four; none to stop), publishes
    /// them in a new profile version, and fetches from them. Each must have agreed to keep
    /// mail for the user (`keep_mail_for` on their node), or senders' deposits are refused
    /// there and wait for the user instead.
    pub async fn set_mailboxes(&self, mailboxes: Vec<PeerId>) -> Result<MailboxView> {
        validate_mailboxes(&self.peer_id(), &mailboxes).map_err(Error::Invalid)?;
        self.ask(|reply| Command::SetMailboxes { mailboxes, reply })
            .await?;
        self.mailboxes()
    }

    /// Starts or stops keeping mail for `peer`: envelopes others leave here for them while
    /// they are offline (ciphertext only, with quotas and a 30-day expiry). Stopping
    /// deletes what is held for them.
    pub async fn keep_mail_for(&self, peer: PeerId, keep: bool) -> Result<MailboxView> {
        if peer == self.peer_id() {
            return Err(Error::SelfAction("keep mail for yourself"));
        }
        self.ask(|reply| Command::KeepMailFor { peer, keep, reply })
            .await?;
        self.mailboxes()
    }

    /// Asks every mailbox of the user for mail now (it also happens whenever one connects
    /// and every few minutes). Returns how many mailboxes were asked; the messages arrive
    /// as [`crate::Event::Message`]s.
    pub async fn fetch_mail(&self) -> Result<usize> {
        self.ask(Command::FetchMail).await
    }
}
