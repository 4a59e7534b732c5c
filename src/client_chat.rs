//! [`Client`] methods for the chat routes beyond text: replies, reactions, unsend, edit,
//! shared posts, typing and read receipts.

use paperplane::{
    api::{
        chat_types::{
            ChatReadReceipts, ChatReceiptsState, MessageEdit, NewReaction, NewShare, ReadReceipts,
            TypingSent, TypingState,
        },
        types::NewMessage,
    },
    views::MessageView,
    ShareTarget,
};
use reqwest::Method;

use crate::client::{Client, ClientError};

impl Client {
    /// `POST /v1/messages` with `reply_to`: answers message `original` (an id or unique
    /// prefix) in the chat with `to`.
    pub async fn send_reply(
        &self,
        to: &str,
        text: &str,
        original: &str,
        wait_ms: Option<u64>,
    ) -> Result<MessageView, ClientError> {
        let body = NewMessage {
            to: to.into(),
            text: text.into(),
            wait_ms,
            reply_to: Some(original.into()),
        };
        self.call(Method::POST, &["messages"], Some(&body)).await
    }

    /// `POST /v1/messages/{id}/reactions`: `emoji` (❤️ if `None`); the same again takes it
    /// back.
    pub async fn react(&self, id: &str, emoji: Option<&str>) -> Result<MessageView, ClientError> {
        let body = NewReaction {
            emoji: emoji.map(str::to_owned),
        };
        self.call(Method::POST, &["messages", id, "reactions"], Some(&body))
            .await
    }

    /// `DELETE /v1/messages/{id}/reactions`.
    pub async fn unreact(&self, id: &str) -> Result<MessageView, ClientError> {
        self.call(Method::DELETE, &["messages", id, "reactions"], None::<&()>)
            .await
    }

    /// `DELETE /v1/messages/{id}`: unsends one of the user's messages.
    pub async fn unsend(&self, id: &str) -> Result<MessageView, ClientError> {
        self.call(Method::DELETE, &["messages", id], None::<&()>)
            .await
    }

    /// `PATCH /v1/messages/{id}`: edits one of the user's messages.
    pub async fn edit(&self, id: &str, text: &str) -> Result<MessageView, ClientError> {
        let body = MessageEdit { text: text.into() };
        self.call(Method::PATCH, &["messages", id], Some(&body))
            .await
    }

    /// `POST /v1/shares`: sends post `post` to `to`.
    pub async fn share(
        &self,
        post: &str,
        to: &str,
        text: &str,
        wait_ms: Option<u64>,
    ) -> Result<MessageView, ClientError> {
        let body = NewShare {
            post: post.into(),
            to: to.into(),
            text: text.into(),
            wait_ms,
        };
        self.call(Method::POST, &["shares"], Some(&body)).await
    }

    /// `GET /v1/share-targets`.
    pub async fn share_targets(&self) -> Result<Vec<ShareTarget>, ClientError> {
        self.call(Method::GET, &["share-targets"], None::<&()>)
            .await
    }

    /// `POST /v1/chats/{peer}/typing`.
    pub async fn typing(&self, peer: &str, active: bool) -> Result<TypingSent, ClientError> {
        self.call(
            Method::POST,
            &["chats", peer, "typing"],
            Some(&TypingState { active }),
        )
        .await
    }

    /// `GET /v1/settings/read-receipts`.
    pub async fn read_receipts(&self) -> Result<ReadReceipts, ClientError> {
        self.call(Method::GET, &["settings", "read-receipts"], None::<&()>)
            .await
    }

    /// `PUT /v1/settings/read-receipts`.
    pub async fn set_read_receipts(&self, on: bool) -> Result<ReadReceipts, ClientError> {
        self.call(
            Method::PUT,
            &["settings", "read-receipts"],
            Some(&ReadReceipts { on }),
        )
        .await
    }

    /// `PUT /v1/chats/{peer}/read-receipts`.
    pub async fn set_chat_read_receipts(
        &self,
        peer: &str,
        on: Option<bool>,
    ) -> Result<ChatReceiptsState, ClientError> {
        self.call(
            Method::PUT,
            &["chats", peer, "read-receipts"],
            Some(&ChatReadReceipts { on }),
        )
        .await
    }
}
