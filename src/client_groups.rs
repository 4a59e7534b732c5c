//! [`Client`] methods for the group routes (`/v1/groups/…`). A group is named by its id, a
//! unique prefix of at least 6 hex digits, or its exact name.

use paperplane::{
    api::{
        chat_types::{MessageEdit, NewReaction},
        group_types::{
            GroupAdmin, GroupMembers, GroupRename, GroupShare, NewGroup, NewGroupMessage,
        },
    },
    views::MessageView,
    GroupView,
};
use reqwest::Method;

use crate::client::{Client, ClientError};

impl Client {
    /// `GET /v1/groups`.
    pub async fn groups(&self) -> Result<Vec<GroupView>, ClientError> {
        self.call(Method::GET, &["groups"], None::<&()>).await
    }

    /// `POST /v1/groups`: a group named `name` with `members` (peer ids or `@handle`s).
    pub async fn create_group(
        &self,
        name: &str,
        members: &[String],
    ) -> Result<GroupView, ClientError> {
        let body = NewGroup {
            name: name.into(),
            members: members.to_vec(),
        };
        self.call(Method::POST, &["groups"], Some(&body)).await
    }

    /// `GET /v1/groups/{group}`.
    pub async fn group(&self, group: &str) -> Result<GroupView, ClientError> {
        self.call(Method::GET, &["groups", group], None::<&()>)
            .await
    }

    /// `PATCH /v1/groups/{group}`: renames it.
    pub async fn rename_group(&self, group: &str, name: &str) -> Result<GroupView, ClientError> {
        let body = GroupRename { name: name.into() };
        self.call(Method::PATCH, &["groups", group], Some(&body))
            .await
    }

    /// `POST /v1/groups/{group}/members`.
    pub async fn add_to_group(
        &self,
        group: &str,
        peers: &[String],
    ) -> Result<GroupView, ClientError> {
        let body = GroupMembers {
            peers: peers.to_vec(),
        };
        self.call(Method::POST, &["groups", group, "members"], Some(&body))
            .await
    }

    /// `DELETE /v1/groups/{group}/members/{peer}`.
    pub async fn remove_from_group(
        &self,
        group: &str,
        peer: &str,
    ) -> Result<GroupView, ClientError> {
        self.call(
            Method::DELETE,
            &["groups", group, "members", peer],
            None::<&()>,
        )
        .await
    }

    /// `POST /v1/groups/{group}/admins`.
    pub async fn make_group_admin(
        &self,
        group: &str,
        peer: &str,
    ) -> Result<GroupView, ClientError> {
        let body = GroupAdmin { peer: peer.into() };
        self.call(Method::POST, &["groups", group, "admins"], Some(&body))
            .await
    }

    /// `POST /v1/groups/{group}/leave`.
    pub async fn leave_group(&self, group: &str) -> Result<GroupView, ClientError> {
        self.call(Method::POST, &["groups", group, "leave"], None::<&()>)
            .await
    }

    /// `POST /v1/groups/{group}/accept`.
    pub async fn accept_group(&self, group: &str) -> Result<GroupView, ClientError> {
        self.call(Method::POST, &["groups", group, "accept"], None::<&()>)
            .await
    }

    /// `GET /v1/groups/{group}/messages?limit=N` (read only), or with `open`,
    /// `POST /v1/groups/{group}/read?limit=N` (marks it read and sends a receipt).
    pub async fn group_chat(
        &self,
        group: &str,
        limit: Option<usize>,
        open: bool,
    ) -> Result<Vec<MessageView>, ClientError> {
        let (method, last) = if open {
            (Method::POST, "read")
        } else {
            (Method::GET, "messages")
        };
        let limit = limit.map(|l| l.to_string());
        self.call_with_query(
            method,
            &["groups", group, last],
            &[("limit", limit.as_deref())],
            None::<&()>,
        )
        .await
    }

    /// `GET /v1/groups/{group}/messages?before=ID&limit=N`: the page of messages older than
    /// message `before` (read only).
    pub async fn group_chat_before(
        &self,
        group: &str,
        before: &str,
        limit: Option<usize>,
    ) -> Result<Vec<MessageView>, ClientError> {
        let limit = limit.map(|l| l.to_string());
        self.call_with_query(
            Method::GET,
            &["groups", group, "messages"],
            &[("limit", limit.as_deref()), ("before", Some(before))],
            None::<&()>,
        )
        .await
    }

    /// `GET /v1/groups/{group}/messages/{id}`: one message as shown now.
    pub async fn group_message(&self, group: &str, id: &str) -> Result<MessageView, ClientError> {
        self.call(Method::GET, &["groups", group, "messages", id], None::<&()>)
            .await
    }

    /// `POST /v1/groups/{group}/messages`: a text, or with `reply_to` a reply; `wait_ms` as
    /// for [`NewGroupMessage::wait_ms`].
    pub async fn send_group_message(
        &self,
        group: &str,
        text: &str,
        reply_to: Option<&str>,
        wait_ms: Option<u64>,
    ) -> Result<MessageView, ClientError> {
        let body = NewGroupMessage {
            text: text.into(),
            reply_to: reply_to.map(str::to_owned),
            wait_ms,
        };
        self.call(Method::POST, &["groups", group, "messages"], Some(&body))
            .await
    }

    /// `POST /v1/groups/{group}/messages/{id}/reactions` (❤️ if `emoji` is `None`), or
    /// with `remove`, `DELETE` of it.
    pub async fn react_in_group(
        &self,
        group: &str,
        id: &str,
        emoji: Option<&str>,
        remove: bool,
    ) -> Result<MessageView, ClientError> {
        let path = ["groups", group, "messages", id, "reactions"];
        if remove {
            return self.call(Method::DELETE, &path, None::<&()>).await;
        }
        let body = NewReaction {
            emoji: emoji.map(str::to_owned),
        };
        self.call(Method::POST, &path, Some(&body)).await
    }

    /// `DELETE /v1/groups/{group}/messages/{id}`: unsends one of the user's messages.
    pub async fn unsend_in_group(&self, group: &str, id: &str) -> Result<MessageView, ClientError> {
        self.call(
            Method::DELETE,
            &["groups", group, "messages", id],
            None::<&()>,
        )
        .await
    }

    /// `PATCH /v1/groups/{group}/messages/{id}`: edits one of the user's messages.
    pub async fn edit_in_group(
        &self,
        group: &str,
        id: &str,
        text: &str,
    ) -> Result<MessageView, ClientError> {
        let body = MessageEdit { text: text.into() };
        self.call(
            Method::PATCH,
            &["groups", group, "messages", id],
            Some(&body),
        )
        .await
    }

    /// `POST /v1/groups/{group}/shares`: sends post `post` into the group.
    pub async fn share_to_group(
        &self,
        group: &str,
        post: &str,
        text: &str,
    ) -> Result<MessageView, ClientError> {
        let body = GroupShare {
            post: post.into(),
            text: text.into(),
        };
        self.call(Method::POST, &["groups", group, "shares"], Some(&body))
            .await
    }
}
