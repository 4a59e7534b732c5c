//! The [`Node`] handle's business and conversation tools. Reads go to the store; every
//! change goes to the actor ([`Request`]), which writes it and announces it.

use paperplane_protocol::{FaqEntry, PeerId};

use super::{rules, AwayStatus, BusinessError, ChatMarks, FaqView, QuickReply, Request};
use crate::{
    actor::Command,
    error::{Error, Result, SendError},
    messaging::Wait,
    node::Node,
    profile::ProfileUpdate,
    views::{ChatView, MessageView, ProfileView},
};

impl Node {
    async fn business<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<Result<T>>) -> Request,
    ) -> Result<T>
    where
        T: Send,
    {
        self.ask(|reply| Command::Business(make(reply))).await
    }

    /// Saves a quick reply under `name` (replacing one of that name): 1–32 of
    /// `a-z 0-9 - _` (upper case folded), a text of at most 4,096 bytes once its emoji
    /// shortcodes (`:wave:`) are expanded. At most 100 quick replies.
    pub async fn save_quick_reply(&self, name: &str, text: &str) -> Result<QuickReply> {
        let name = rules::template_name(name)?;
        let text = rules::message_text("the quick reply", text)?;
        self.business(|reply| Request::SaveTemplate { name, text, reply })
            .await
    }

    /// The saved quick replies, by name.
    pub fn quick_replies(&self) -> Result<Vec<QuickReply>> {
        Ok(self
            .store()
            .quick_replies()?
            .into_iter()
            .map(|(name, text)| QuickReply { name, text })
            .collect())
    }

    /// One quick reply.
    pub fn quick_reply(&self, name: &str) -> Result<QuickReply> {
        let name = rules::template_name(name)?;
        match self.store().quick_reply(&name)? {
            Some(text) => Ok(QuickReply { name, text }),
            None => Err(BusinessError::NoTemplate(name).into()),
        }
    }

    /// Removes a quick reply.
    pub async fn remove_quick_reply(&self, name: &str) -> Result<()> {
        let name = rules::template_name(name)?;
        self.business(|reply| Request::RemoveTemplate { name, reply })
            .await
    }

    /// Sends the quick reply `name` to `peer`, as [`Node::send`] sends a text.
    pub async fn send_quick_reply(
        &self,
        peer: PeerId,
        name: &str,
        wait: Wait,
    ) -> Result<MessageView> {
        let template = self.quick_reply(name)?;
        self.send(peer, template.text, wait)
            .await
            .map_err(|e: SendError| Error::Send(e))
    }

    /// Whether the business is away, and its away text.
    pub fn away(&self) -> Result<AwayStatus> {
        let a = self.store().away()?;
        Ok(AwayStatus {
            away: a.away,
            text: a.text,
        })
    }

    /// Marks the business away (`away`, with `text`, or the last text if `None`) or back.
    /// While away, the first new message of each conversation gets the text back
    /// automatically, at most once in 24 hours per conversation. Business accounts only.
    pub async fn set_away(&self, away: bool, text: Option<&str>) -> Result<AwayStatus> {
        let text = text
            .map(|t| rules::message_text("the away text", t))
            .transpose()?;
        self.business(|reply| Request::SetAway { away, text, reply })
            .await
    }

    /// Publishes `faq` (at most 10 questions and answers; empty to remove them) in the
    /// user's signed profile. Business accounts only.
    pub async fn set_faq(&self, faq: Vec<FaqEntry>) -> Result<ProfileView> {
        self.set_profile(ProfileUpdate {
            faq: Some(faq),
            ..Default::default()
        })
        .await
    }

    /// The FAQ `peer` publishes (empty if none): what to show someone opening a first chat
    /// with a business.
    pub fn faq(&self, peer: PeerId) -> Result<Vec<FaqView>> {
        Ok(self.profile(Some(peer))?.faq)
    }

    /// Adds `label` (1–32 letters, digits, `-` or `_`; folded to lower case) to the chat
    /// with `peer`; at most 10 labels a chat.
    pub async fn label_chat(&self, peer: PeerId, label: &str) -> Result<ChatMarks> {
        let label = rules::label(label)?;
        self.business(|reply| Request::Label {
            peer,
            label,
            on: true,
            reply,
        })
        .await
    }

    /// Removes `label` from the chat with `peer` (nothing happens if it is not there).
    pub async fn unlabel_chat(&self, peer: PeerId, label: &str) -> Result<ChatMarks> {
        let label = rules::label(label)?;
        self.business(|reply| Request::Label {
            peer,
            label,
            on: false,
            reply,
        })
        .await
    }

    /// Mutes the chat with `peer`: its messages still arrive, but notify nobody.
    pub async fn mute(&self, peer: PeerId) -> Result<ChatMarks> {
        self.business(|reply| Request::Mute {
            peer,
            muted: true,
            reply,
        })
        .await
    }

    /// Unmutes the chat with `peer`.
    pub async fn unmute(&self, peer: PeerId) -> Result<ChatMarks> {
        self.business(|reply| Request::Mute {
            peer,
            muted: false,
            reply,
        })
        .await
    }

    /// Whether the chat with `peer` is muted.
    pub fn is_muted(&self, peer: PeerId) -> Result<bool> {
        Ok(self.store().is_muted(&peer)?)
    }

    /// The labels and muting of the chat with `peer`.
    pub fn chat_marks(&self, peer: PeerId) -> Result<ChatMarks> {
        Ok(ChatMarks {
            peer,
            labels: self.store().chat_labels(&peer)?,
            muted: self.store().is_muted(&peer)?,
        })
    }

    /// The inbox chats carrying `label`, newest activity first.
    pub fn inbox_labelled(&self, label: &str) -> Result<Vec<ChatView>> {
        let label = rules::label(label)?;
        Ok(self
            .inbox()?
            .into_iter()
            .filter(|c| c.labels.contains(&label))
            .collect())
    }

    /// `views` with each chat's labels and muting filled in.
    pub(crate) fn with_marks(&self, mut views: Vec<ChatView>) -> Result<Vec<ChatView>> {
        for v in &mut views {
            v.labels = self.store().chat_labels(&v.peer)?;
            v.muted = self.store().is_muted(&v.peer)?;
        }
        Ok(views)
    }

    /// The messages (both directions, every conversation) whose text contains `text`,
    /// ignoring case, newest first, at most `limit` (1–1,000). A scan of the whole history.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<MessageView>> {
        let folded = rules::query(text)?;
        if !(1..=rules::MAX_SEARCH_RESULTS).contains(&limit) {
            return Err(BusinessError::Invalid(format!(
                "the limit must be between 1 and {}",
                rules::MAX_SEARCH_RESULTS
            ))
            .into());
        }
        let me = self.peer_id();
        Ok(self
            .store()
            .search_messages(
                |m| m.body.is_shown() && rules::matches(&folded, m.body.text()),
                limit,
            )?
            .iter()
            .map(|m| MessageView::new(m, &me))
            .collect())
    }
}
