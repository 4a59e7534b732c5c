//! A typed async client of the local API, one method per route; the CLI is built on it.
//!
//! [`Client::for_home`] finds the running daemon of a home directory through
//! `<home>/api.addr` and `<home>/api.token`. Every error becomes one [`ClientError`] whose
//! message is a single line meant for people.

mod business;

use std::{collections::VecDeque, time::Duration};

use base64::Engine;
use futures::{stream::BoxStream, StreamExt};
use paperplane::mailboxes::MailboxView;
use paperplane::{
    api::types::{
        BlockState, BlockedPeer, Bootstrapped, Candidate, ConnectRequest, Connected, Created,
        Deleted, ErrorBody, FollowState, LikeState, MailFetch, NewChatPhoto, NewComment,
        NewMessage, NewPost, NodeStatus, ProfilePatch, RequestDecision, Resolved, SafetyNumber,
        WebLink,
    },
    api::{server::parse_api_addr, BindError},
    event::Event,
    home::{ApiToken, Home},
    views::{ChatView, FollowView, MessageView, PostView, ProfileView},
};
use reqwest::{header, Method, RequestBuilder, Response, Url};
use serde::{de::DeserializeOwned, Serialize};

/// How many times an upload is tried again while the daemon is busy with others (about a
/// second apart).
const UPLOAD_TURNS: u32 = 120;

/// Why a request to the daemon failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No daemon runs for the home (no `api.addr`, or nothing listens there).
    #[error("no paperplane daemon is running for {home}; start one with `paperplane --home {home} daemon`")]
    NoDaemon {
        /// The home directory, as shown to people.
        home: String,
    },
    /// The daemon runs but its API token cannot be read.
    #[error("cannot read the API token {path}; is this the daemon's home directory?")]
    NoToken {
        /// Where the token should be.
        path: String,
    },
    /// The daemon's address is not on this machine: the token is not sent there.
    #[error("refusing to send the API token to {addr}: it is not a loopback address (127.0.0.1, [::1] or localhost); check {home}/api.addr")]
    NotLoopback {
        /// The address found.
        addr: String,
        /// The home directory, as shown to people.
        home: String,
    },
    /// The daemon answered with an error.
    #[error("{message}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The daemon's one-line message.
        message: String,
        /// For an ambiguous `@handle`: the peers it matches.
        candidates: Vec<Candidate>,
    },
    /// The request did not get through, or the answer could not be read.
    #[error("talking to the paperplane daemon at {addr}: {reason}")]
    Transport {
        /// The daemon's API address.
        addr: String,
        /// What went wrong.
        reason: String,
    },
}

/// A connection to one daemon's API.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: ApiToken,
    home: String,
}

impl Client {
    /// The client of the daemon running for `home`.
    pub fn for_home(home: &Home) -> Result<Self, ClientError> {
        let shown = home.root().display().to_string();
        let addr = home.read_api_addr().ok_or_else(|| ClientError::NoDaemon {
            home: shown.clone(),
        })?;
        let token = home.read_api_token().ok_or_else(|| ClientError::NoToken {
            path: home.token_path().display().to_string(),
        })?;
        Self::new(&addr, token, shown)
    }

    /// A client of the API at `addr` (`HOST:PORT` on loopback: the token is never sent
    /// elsewhere) with `token`; `home` names the daemon's home in messages.
    pub fn new(addr: &str, token: ApiToken, home: String) -> Result<Self, ClientError> {
        let transport = |reason: String| ClientError::Transport {
            addr: addr.to_owned(),
            reason,
        };
        let socket = parse_api_addr(addr).map_err(|e| match e {
            BindError::NotLoopback(_) => ClientError::NotLoopback {
                addr: addr.to_owned(),
                home: home.clone(),
            },
            other => transport(format!("bad address in api.addr: {other}")),
        })?;
        let base = Url::parse(&format!("http://{socket}/"))
            .map_err(|e| transport(format!("bad address in api.addr: {e}")))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| transport(chain(&e)))?;
        Ok(Self {
            http,
            base,
            token,
            home,
        })
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<NodeStatus, ClientError> {
        self.call(Method::GET, &["status"], None::<&()>).await
    }

    /// `GET /v1/profile`, or `GET /v1/profiles/{peer}` with a peer.
    pub async fn profile(&self, peer: Option<&str>) -> Result<ProfileView, ClientError> {
        match peer {
            None => self.call(Method::GET, &["profile"], None::<&()>).await,
            Some(p) => self.call(Method::GET, &["profiles", p], None::<&()>).await,
        }
    }

    /// `GET /v1/profiles`.
    pub async fn profiles(&self) -> Result<Vec<ProfileView>, ClientError> {
        self.call(Method::GET, &["profiles"], None::<&()>).await
    }

    /// `PUT /v1/profile`.
    pub async fn set_profile(&self, patch: &ProfilePatch) -> Result<ProfileView, ClientError> {
        self.call(Method::PUT, &["profile"], Some(patch)).await
    }

    /// `GET /v1/resolve/{reference}`.
    pub async fn resolve(&self, reference: &str) -> Result<Resolved, ClientError> {
        self.call(Method::GET, &["resolve", reference], None::<&()>)
            .await
    }

    /// `POST /v1/connect`.
    pub async fn connect(&self, addr: &str) -> Result<Connected, ClientError> {
        let body = ConnectRequest::new(addr);
        self.call(Method::POST, &["connect"], Some(&body)).await
    }

    /// `GET /v1/mailboxes`.
    pub async fn mailboxes(&self) -> Result<MailboxView, ClientError> {
        self.call(Method::GET, &["mailboxes"], None::<&()>).await
    }

    /// `PUT /v1/mailboxes`.
    pub async fn set_mailboxes(&self, peers: &[String]) -> Result<MailboxView, ClientError> {
        let body = serde_json::json!({ "mailboxes": peers });
        self.call(Method::PUT, &["mailboxes"], Some(&body)).await
    }

    /// `PUT` or `DELETE /v1/mailboxes/keep/{peer}`.
    pub async fn keep_mail_for(&self, peer: &str, keep: bool) -> Result<MailboxView, ClientError> {
        let method = if keep { Method::PUT } else { Method::DELETE };
        self.call(method, &["mailboxes", "keep", peer], None::<&()>)
            .await
    }

    /// `POST /v1/mailboxes/fetch`.
    pub async fn fetch_mail(&self) -> Result<MailFetch, ClientError> {
        self.call(Method::POST, &["mailboxes", "fetch"], None::<&()>)
            .await
    }

    /// `POST /v1/bootstrap`.
    pub async fn bootstrap(&self) -> Result<Bootstrapped, ClientError> {
        self.call(Method::POST, &["bootstrap"], None::<&()>).await
    }

    /// `POST /v1/web/link`: a one-time link that signs a browser in to the web app.
    pub async fn web_link(&self) -> Result<WebLink, ClientError> {
        self.call(Method::POST, &["web", "link"], None::<&()>).await
    }

    /// `POST /v1/posts`: the photos' bytes are sent as base64.
    pub async fn post(
        &self,
        photos: &[impl AsRef<[u8]>],
        caption: &str,
    ) -> Result<Created, ClientError> {
        let body = NewPost {
            caption: caption.into(),
            photos_base64: photos.iter().map(|p| encode_base64(p.as_ref())).collect(),
        };
        // The daemon runs few uploads at once and answers 429 to more: wait for a turn.
        let mut turns = 0;
        loop {
            match self.call(Method::POST, &["posts"], Some(&body)).await {
                Err(ClientError::Api { status: 429, .. }) if turns < UPLOAD_TURNS => {
                    turns += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                other => return other,
            }
        }
    }

    /// `GET /v1/posts/{id}` (a full id or a unique prefix).
    pub async fn post_view(&self, id: &str) -> Result<PostView, ClientError> {
        self.call(Method::GET, &["posts", id], None::<&()>).await
    }

    /// `GET /v1/profiles/{peer}/posts?limit=N`: one author's posts this node holds.
    pub async fn posts_of(
        &self,
        peer: &str,
        limit: Option<usize>,
    ) -> Result<Vec<PostView>, ClientError> {
        let mut url = self.url(&["profiles", peer, "posts"])?;
        if let Some(limit) = limit {
            url.query_pairs_mut()
                .append_pair("limit", &limit.to_string());
        }
        self.send(self.http.get(url), None::<&()>).await
    }

    /// `GET /v1/feed?limit=N`.
    pub async fn feed(&self, limit: Option<usize>) -> Result<Vec<PostView>, ClientError> {
        let mut url = self.url(&["feed"])?;
        if let Some(limit) = limit {
            url.query_pairs_mut()
                .append_pair("limit", &limit.to_string());
        }
        self.send(self.http.get(url), None::<&()>).await
    }

    /// `POST /v1/follow/{peer}`.
    pub async fn follow(&self, peer: &str) -> Result<FollowState, ClientError> {
        self.call(Method::POST, &["follow", peer], None::<&()>)
            .await
    }

    /// `DELETE /v1/follow/{peer}`.
    pub async fn unfollow(&self, peer: &str) -> Result<FollowState, ClientError> {
        self.call(Method::DELETE, &["follow", peer], None::<&()>)
            .await
    }

    /// `GET /v1/following`.
    pub async fn following(&self) -> Result<Vec<FollowView>, ClientError> {
        self.call(Method::GET, &["following"], None::<&()>).await
    }

    /// `GET /v1/followers`.
    pub async fn followers(&self) -> Result<Vec<FollowView>, ClientError> {
        self.call(Method::GET, &["followers"], None::<&()>).await
    }

    /// `POST /v1/posts/{id}/like`.
    pub async fn like(&self, post: &str) -> Result<LikeState, ClientError> {
        self.call(Method::POST, &["posts", post, "like"], None::<&()>)
            .await
    }

    /// `DELETE /v1/posts/{id}/like`.
    pub async fn unlike(&self, post: &str) -> Result<LikeState, ClientError> {
        self.call(Method::DELETE, &["posts", post, "like"], None::<&()>)
            .await
    }

    /// `POST /v1/posts/{id}/comments`.
    pub async fn comment(&self, post: &str, text: &str) -> Result<Created, ClientError> {
        let body = NewComment { text: text.into() };
        self.call(Method::POST, &["posts", post, "comments"], Some(&body))
            .await
    }

    /// `DELETE /v1/comments/{id}`.
    pub async fn delete_comment(&self, comment: &str) -> Result<Deleted, ClientError> {
        self.call(Method::DELETE, &["comments", comment], None::<&()>)
            .await
    }

    /// `GET /v1/photos/{hash}`: the bytes and their MIME type.
    pub async fn photo(&self, hash: &str) -> Result<(Vec<u8>, String), ClientError> {
        let url = self.url(&["photos", hash])?;
        let response = self.checked(self.http.get(url)).await?;
        let mime = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        Ok((bytes.to_vec(), mime))
    }

    /// `POST /v1/messages`: sends `text` to `to` (a peer id or `@handle`). `wait_ms` overrides
    /// how long the daemon waits for the acknowledgement before answering (see
    /// [`NewMessage::wait_ms`]).
    pub async fn send_message(
        &self,
        to: &str,
        text: &str,
        wait_ms: Option<u64>,
    ) -> Result<MessageView, ClientError> {
        let body = NewMessage {
            to: to.into(),
            text: text.into(),
            wait_ms,
            reply_to: None,
        };
        self.call(Method::POST, &["messages"], Some(&body)).await
    }

    /// `POST /v1/chats/{peer}/photos`: sends a photo (its bytes as base64) with a caption
    /// to `peer`; `wait_ms` as for [`Client::send_message`]. Waits for an upload turn like
    /// [`Client::post`].
    pub async fn send_chat_photo(
        &self,
        peer: &str,
        photo: &[u8],
        text: &str,
        wait_ms: Option<u64>,
    ) -> Result<MessageView, ClientError> {
        let body = NewChatPhoto {
            photo_base64: encode_base64(photo),
            text: text.into(),
            wait_ms,
        };
        let mut turns = 0;
        loop {
            match self
                .call(Method::POST, &["chats", peer, "photos"], Some(&body))
                .await
            {
                Err(ClientError::Api { status: 429, .. }) if turns < UPLOAD_TURNS => {
                    turns += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                other => return other,
            }
        }
    }

    /// `GET /v1/messages/{id}/photo`: the bytes of a message's photo and their MIME type.
    pub async fn chat_photo(&self, id: &str) -> Result<(Vec<u8>, String), ClientError> {
        let url = self.url(&["messages", id, "photo"])?;
        let response = self.checked(self.http.get(url)).await?;
        let mime = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        Ok((bytes.to_vec(), mime))
    }

    /// `GET /v1/messages/{id}`.
    pub async fn message(&self, id: &str) -> Result<MessageView, ClientError> {
        self.call(Method::GET, &["messages", id], None::<&()>).await
    }

    /// `GET /v1/inbox`.
    pub async fn inbox(&self) -> Result<Vec<ChatView>, ClientError> {
        self.call(Method::GET, &["inbox"], None::<&()>).await
    }

    /// `GET /v1/requests`.
    pub async fn requests(&self) -> Result<Vec<ChatView>, ClientError> {
        self.call(Method::GET, &["requests"], None::<&()>).await
    }

    /// `GET /v1/chats/{peer}?limit=N&before=ID`: oldest first; marks the chat read.
    pub async fn chat(
        &self,
        peer: &str,
        limit: Option<usize>,
        before: Option<&str>,
    ) -> Result<Vec<MessageView>, ClientError> {
        let mut url = self.url(&["chats", peer])?;
        let limit = limit.map(|l| l.to_string());
        let pairs: Vec<(&str, &str)> = [("limit", limit.as_deref()), ("before", before)]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        self.send(self.http.get(url), None::<&()>).await
    }

    /// `POST /v1/requests/{peer}/accept`.
    pub async fn accept(&self, peer: &str) -> Result<RequestDecision, ClientError> {
        self.call(Method::POST, &["requests", peer, "accept"], None::<&()>)
            .await
    }

    /// `DELETE /v1/requests/{peer}`.
    pub async fn decline(&self, peer: &str) -> Result<RequestDecision, ClientError> {
        self.call(Method::DELETE, &["requests", peer], None::<&()>)
            .await
    }

    /// `POST /v1/blocked/{peer}`.
    pub async fn block(&self, peer: &str) -> Result<BlockState, ClientError> {
        self.call(Method::POST, &["blocked", peer], None::<&()>)
            .await
    }

    /// `DELETE /v1/blocked/{peer}`.
    pub async fn unblock(&self, peer: &str) -> Result<BlockState, ClientError> {
        self.call(Method::DELETE, &["blocked", peer], None::<&()>)
            .await
    }

    /// `GET /v1/blocked`.
    pub async fn blocked(&self) -> Result<Vec<BlockedPeer>, ClientError> {
        self.call(Method::GET, &["blocked"], None::<&()>).await
    }

    /// `GET /v1/safety-number/{peer}`.
    pub async fn safety_number(&self, peer: &str) -> Result<SafetyNumber, ClientError> {
        self.call(Method::GET, &["safety-number", peer], None::<&()>)
            .await
    }

    /// `GET /v1/openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.call(Method::GET, &["openapi.json"], None::<&()>).await
    }

    /// `GET /v1/events`: the daemon's live events, until it stops. Events of kinds this
    /// build does not know are skipped.
    pub async fn events(
        &self,
    ) -> Result<BoxStream<'static, Result<Event, ClientError>>, ClientError> {
        let url = self.url(&["events"])?;
        let response = self
            .checked(
                self.http
                    .get(url)
                    .header(header::ACCEPT, "text/event-stream"),
            )
            .await?;
        let addr = self.addr();
        let state = (
            response.bytes_stream(),
            SseParser::default(),
            VecDeque::<String>::new(),
        );
        let stream = futures::stream::unfold(state, move |(mut bytes, mut parser, mut ready)| {
            let addr = addr.clone();
            async move {
                loop {
                    if let Some(data) = ready.pop_front() {
                        match serde_json::from_str::<Event>(&data) {
                            Ok(event) => return Some((Ok(event), (bytes, parser, ready))),
                            Err(e) => {
                                tracing::debug!(error = %e, %data, "unknown event skipped");
                                continue;
                            }
                        }
                    }
                    match bytes.next().await {
                        Some(Ok(chunk)) => ready.extend(parser.push(&chunk)),
                        Some(Err(e)) => {
                            let error = ClientError::Transport {
                                addr,
                                reason: chain(&e),
                            };
                            return Some((Err(error), (bytes, parser, ready)));
                        }
                        None => return None,
                    }
                }
            }
        });
        Ok(stream.boxed())
    }

    fn addr(&self) -> String {
        let host = self.base.host_str().unwrap_or_default();
        match self.base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    fn transport(&self, e: &reqwest::Error) -> ClientError {
        if e.is_connect() {
            ClientError::NoDaemon {
                home: self.home.clone(),
            }
        } else {
            ClientError::Transport {
                addr: self.addr(),
                reason: chain(e),
            }
        }
    }

    fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::Transport {
                addr: self.addr(),
                reason: "the API address cannot be a base URL".into(),
            })?
            .push("v1")
            .extend(segments);
        Ok(url)
    }

    /// Like [`Client::call`], with a query string of the `pairs` given (`None` ones left
    /// out).
    pub(crate) async fn call_with_query<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        pairs: &[(&str, Option<&str>)],
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let mut url = self.url(segments)?;
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .filter_map(|(k, v)| Some((*k, (*v)?)))
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        self.send(self.http.request(method, url), body).await
    }

    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let url = self.url(segments)?;
        self.send(self.http.request(method, url), body).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let request = match body {
            Some(b) => request.json(b),
            None => request,
        };
        let response = self.checked(request).await?;
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Transport {
            addr: self.addr(),
            reason: format!("unreadable response: {e}"),
        })
    }

    /// Sends with the token; an error status becomes [`ClientError::Api`].
    async fn checked(&self, request: RequestBuilder) -> Result<Response, ClientError> {
        let response = request
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let bytes = response.bytes().await.unwrap_or_default();
        let (message, candidates) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => (body.error, body.candidates),
            Err(_) => (format!("the daemon answered {status}"), Vec::new()),
        };
        Err(ClientError::Api {
            status: status.as_u16(),
            message,
            candidates,
        })
    }
}

/// Base64 as the API expects it (standard alphabet, padded).
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Splits a Server-Sent Events byte stream into the `data` of each event.
#[derive(Debug, Default)]
struct SseParser {
    line: Vec<u8>,
    data: Option<String>,
}

impl SseParser {
    /// Feeds a chunk; returns the data of every event it completes.
    fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut done = Vec::new();
        for &b in chunk {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    done.push(data);
                }
                continue;
            }
            let line = String::from_utf8_lossy(&line);
            let (field, value) = line.split_once(':').unwrap_or((&line, ""));
            if field == "data" {
                let value = value.strip_prefix(' ').unwrap_or(value);
                match &mut self.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                }
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_parser_joins_split_chunks_and_skips_comments() {
        let mut p = SseParser::default();
        assert!(p.push(b": keep-alive\n\n").is_empty());
        assert!(p.push(b"data: {\"type\":").is_empty());
        assert_eq!(
            p.push(b"\"x\"}\n\ndata: a\r\ndata: b\r\n"),
            vec!["{\"type\":\"x\"}"]
        );
        assert_eq!(p.push(b"\r\n"), vec!["a\nb"]);
        assert!(p.push(b"event: x\nid: 1\n\n").is_empty());
    }

    #[test]
    fn no_daemon_message_names_the_home_and_how_to_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let err = Client::for_home(&home).expect_err("no daemon");
        let shown = dir.path().display().to_string();
        assert_eq!(
            err.to_string(),
            format!(
                "no paperplane daemon is running for {shown}; start one with \
                 `paperplane --home {shown} daemon`"
            )
        );
    }

    #[tokio::test]
    async fn a_stale_address_means_no_daemon() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        drop(listener);
        let client = Client::new(&addr, ApiToken::new("t"), "/h".into()).expect("client");
        let err = client.status().await.expect_err("refused");
        assert!(matches!(err, ClientError::NoDaemon { .. }), "{err:?}");
    }

    #[test]
    fn the_token_goes_to_loopback_only_and_never_shows() {
        for addr in ["192.168.1.2:7878", "10.0.0.1:80", "0.0.0.0:7878", "[::]:1"] {
            let err = Client::new(addr, ApiToken::new("t"), "/h".into()).expect_err("refused");
            assert!(
                matches!(err, ClientError::NotLoopback { .. }),
                "{addr}: {err:?}"
            );
            assert!(
                err.to_string().contains("refusing to send the API token"),
                "{err}"
            );
        }
        let secret = "5ec2e7a11ce0ffee";
        let client =
            Client::new("localhost:7878", ApiToken::new(secret), "/h".into()).expect("client");
        assert_eq!(client.base.as_str(), "http://127.0.0.1:7878/");
        let shown = format!("{client:?} {:?}", ApiToken::new(secret));
        assert!(!shown.contains(secret), "{shown}");
    }
}
