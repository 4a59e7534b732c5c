//! Library errors (and malformed requests) as HTTP responses: a status code that says what
//! kind of failure it was and `{"error": "<one line>"}`.

use axum::{
    extract::rejection::{PathRejection, QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

use super::types::{Candidate, ErrorBody};
use crate::error::{Error, SendError};

/// A failed API request: its status code and body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// Any status with `message` (flattened to one line).
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: one_line(&message.into()),
                candidates: Vec::new(),
            },
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

/// The status code for a library error.
pub fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::Invalid(_)
        | Error::AmbiguousHandle { .. }
        | Error::NotAnId { .. }
        | Error::AmbiguousId { .. }
        | Error::NotARequest(_)
        | Error::NoMessagingKeys(_)
        | Error::SelfAction(_)
        | Error::NotTheAuthor
        | Error::BadAddress { .. }
        | Error::DialSelf
        | Error::NoOwnProfile(_)
        | Error::NotAnEmoji(_) => StatusCode::BAD_REQUEST,
        // A reference of the right shape that names no peer (`@` and 40 letters, say).
        Error::UnknownPeer(_)
        | Error::NotAPeerReference(_)
        | Error::NoSuch { .. }
        | Error::NoConversation(_)
        | Error::NoRequest(_)
        | Error::PhotoUnavailable(_)
        | Error::NotAPhoto(_)
        | Error::PeerNotFound(_) => StatusCode::NOT_FOUND,
        Error::ChatPhotoNotReady { .. } | Error::NoDhtPeers => StatusCode::CONFLICT,
        Error::Send(e) => send_status(e),
        Error::Business(crate::business::BusinessError::NoTemplate(_)) => StatusCode::NOT_FOUND,
        // The request is fine; the account's state does not allow it (yet).
        Error::Business(
            crate::business::BusinessError::NotABusiness
            | crate::business::BusinessError::NoAwayText,
        ) => StatusCode::CONFLICT,
        Error::Business(_) => StatusCode::BAD_REQUEST,
        Error::Group(e) => group_status(e),
        Error::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        Error::Dial(_) => StatusCode::BAD_GATEWAY,
        Error::DialTimedOut(_) => StatusCode::GATEWAY_TIMEOUT,
        Error::Store(_) | Error::Home(_) | Error::Listen { .. } | Error::Transport(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The status code for a failed send.
fn send_status(error: &SendError) -> StatusCode {
    match error {
        SendError::ToSelf
        | SendError::Blocked
        | SendError::NoMessagingKeys(_)
        | SendError::Handshake(_)
        | SendError::Encrypt(_)
        | SendError::Invalid(_)
        | SendError::Ephemeral => StatusCode::BAD_REQUEST,
        SendError::Refused(_) => StatusCode::CONFLICT,
        SendError::UnknownPeer(_) | SendError::NoSuchMessage(_) => StatusCode::NOT_FOUND,
        SendError::Group(e) => group_status(e),
        SendError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        SendError::Store(_) | SendError::NotDurable(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status code for a refused group action.
fn group_status(error: &crate::groups::GroupError) -> StatusCode {
    use crate::groups::GroupError;
    match error {
        GroupError::NoSuchGroup(_) => StatusCode::NOT_FOUND,
        GroupError::Ambiguous(_) | GroupError::NoMembers => StatusCode::BAD_REQUEST,
        GroupError::NotAMember | GroupError::Change(_) => StatusCode::CONFLICT,
    }
}

impl From<SendError> for ApiError {
    fn from(error: SendError) -> Self {
        Error::Send(error).into()
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = status_of(&error);
        if status.is_server_error() {
            tracing::error!(%error, "API request failed");
        }
        let candidates = match &error {
            Error::AmbiguousHandle { candidates, .. } => candidates
                .iter()
                .map(|(peer_id, fingerprint)| Candidate {
                    peer_id: *peer_id,
                    fingerprint: fingerprint.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            status,
            body: ErrorBody {
                error: one_line(&error.to_string()),
                candidates,
            },
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// `message` with its line breaks turned into spaces.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use paperplane_protocol::ValidationError;

    use super::*;
    use crate::{home::HomeError, store::StoreError};

    fn peer() -> paperplane_protocol::PeerId {
        paperplane_crypto::Identity::from_seed([7; 32]).peer_id()
    }

    #[test]
    fn every_error_kind_has_its_status() {
        let cases = [
            (Error::Invalid(ValidationError::NotAnImage), 400),
            (Error::NotAPeerReference("no".into()), 404),
            (Error::SelfAction("follow"), 400),
            (Error::NotARequest(peer()), 400),
            (Error::Send(SendError::Blocked), 400),
            (Error::Send(SendError::UnknownPeer(peer())), 404),
            (Error::Send(SendError::NotDurable("disk".into())), 500),
            (Error::Send(SendError::Stopped), 503),
            (
                Error::AmbiguousHandle {
                    handle: "@bob".into(),
                    candidates: vec![],
                },
                400,
            ),
            (Error::UnknownPeer("@bob".into()), 404),
            (
                Error::NoSuch {
                    kind: crate::IdKind::Post,
                    id: "ab".into(),
                },
                404,
            ),
            (Error::NoConversation(peer()), 404),
            (Error::PhotoUnavailable("ab".into()), 404),
            (Error::Stopped, 503),
            (Error::Store(StoreError::Locked("/x".into())), 500),
            (Error::Home(HomeError::NoHome), 500),
            (Error::Dial("refused".into()), 502),
            (Error::DialTimedOut("slow".into()), 504),
            (
                Error::BadAddress {
                    addr: "/p2p/x".into(),
                    reason: "no transport".into(),
                },
                400,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(status_of(&error).as_u16(), status, "{error:?}");
            assert_eq!(ApiError::from(error).status().as_u16(), status);
        }
    }

    #[test]
    fn ambiguous_handle_lists_its_candidates() {
        let p = peer();
        let e = ApiError::from(Error::AmbiguousHandle {
            handle: "@bob".into(),
            candidates: vec![(p, "abcdefgh".into())],
        });
        assert_eq!(e.body().candidates.len(), 1);
        assert_eq!(e.body().candidates[0].peer_id, p);
        assert!(e.body().error.contains("abcdefgh"), "{}", e.body().error);
        let json = serde_json::to_value(e.body()).expect("json");
        assert_eq!(json["candidates"][0]["fingerprint"], "abcdefgh");
    }

    #[test]
    fn messages_are_one_line_and_candidates_only_when_ambiguous() {
        let e = ApiError::from(Error::Dial("two\nlines".into()));
        assert_eq!(e.body().error, "network: two lines");
        let json = serde_json::to_value(e.body()).expect("json");
        assert_eq!(json, serde_json::json!({"error": "network: two lines"}));
    }
}
