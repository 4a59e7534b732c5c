//! The client's methods for the business and conversation tools' routes.

use paperplane::{
    business::bodies::{AwayChange, FaqChange, QuickReplySend, QuickReplyText},
    views::{ChatView, MessageView, ProfileView},
    AwayStatus, ChatMarks, FaqView, QuickReply,
};
use reqwest::Method;

use super::{Client, ClientError};

impl Client {
    /// `GET /v1/quick-replies`.
    pub async fn quick_replies(&self) -> Result<Vec<QuickReply>, ClientError> {
        self.call(Method::GET, &["quick-replies"], None::<&()>)
            .await
    }

    /// `PUT /v1/quick-replies/{name}`.
    pub async fn save_quick_reply(
        &self,
        name: &str,
        text: &str,
    ) -> Result<QuickReply, ClientError> {
        let body = QuickReplyText { text: text.into() };
        self.call(Method::PUT, &["quick-replies", name], Some(&body))
            .await
    }

    /// `DELETE /v1/quick-replies/{name}`.
    pub async fn remove_quick_reply(&self, name: &str) -> Result<QuickReply, ClientError> {
        self.call(Method::DELETE, &["quick-replies", name], None::<&()>)
            .await
    }

    /// `POST /v1/quick-replies/{name}/send`.
    pub async fn send_quick_reply(
        &self,
        name: &str,
        to: &str,
        wait_ms: Option<u64>,
    ) -> Result<MessageView, ClientError> {
        let body = QuickReplySend {
            to: to.into(),
            wait_ms,
        };
        self.call(Method::POST, &["quick-replies", name, "send"], Some(&body))
            .await
    }

    /// `GET /v1/away`.
    pub async fn away(&self) -> Result<AwayStatus, ClientError> {
        self.call(Method::GET, &["away"], None::<&()>).await
    }

    /// `PUT /v1/away`.
    pub async fn set_away(
        &self,
        away: bool,
        text: Option<&str>,
    ) -> Result<AwayStatus, ClientError> {
        let body = AwayChange {
            away,
            text: text.map(Into::into),
        };
        self.call(Method::PUT, &["away"], Some(&body)).await
    }

    /// `PUT /v1/faq`.
    pub async fn set_faq(&self, faq: Vec<FaqView>) -> Result<ProfileView, ClientError> {
        self.call(Method::PUT, &["faq"], Some(&FaqChange { faq }))
            .await
    }

    /// `POST /v1/chats/{peer}/labels/{label}`, or `DELETE` with `on` false.
    pub async fn label(&self, peer: &str, label: &str, on: bool) -> Result<ChatMarks, ClientError> {
        let method = if on { Method::POST } else { Method::DELETE };
        self.call(method, &["chats", peer, "labels", label], None::<&()>)
            .await
    }

    /// `GET /v1/labels/{label}/chats`.
    pub async fn labelled(&self, label: &str) -> Result<Vec<ChatView>, ClientError> {
        self.call(Method::GET, &["labels", label, "chats"], None::<&()>)
            .await
    }

    /// `POST /v1/chats/{peer}/mute`, or `DELETE` with `muted` false.
    pub async fn mute(&self, peer: &str, muted: bool) -> Result<ChatMarks, ClientError> {
        let method = if muted { Method::POST } else { Method::DELETE };
        self.call(method, &["chats", peer, "mute"], None::<&()>)
            .await
    }

    /// `GET /v1/search?text=…&limit=N`.
    pub async fn search(
        &self,
        text: &str,
        limit: Option<usize>,
    ) -> Result<Vec<MessageView>, ClientError> {
        let mut url = self.url(&["search"])?;
        url.query_pairs_mut().append_pair("text", text);
        if let Some(l) = limit {
            url.query_pairs_mut().append_pair("limit", &l.to_string());
        }
        self.send(self.http.get(url), None::<&()>).await
    }
}
