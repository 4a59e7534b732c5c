//! The errors of sealing and opening messages, one enum per operation.

use crate::{dh::NonContributory, x3dh::HandshakeError, x3dh::SessionId};

/// Why a message could not be encrypted. The session state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// There is no session to send on: start one from the peer's published keys first.
    #[error("no session with this peer yet")]
    NoSession,
    /// The plaintext is larger than [`MAX_PLAINTEXT_BYTES`](crate::MAX_PLAINTEXT_BYTES).
    #[error("plaintext of {len} bytes exceeds the limit of {max}")]
    PlaintextTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The sending chain has used every counter (2³² − 1 messages without a reply).
    #[error("sending chain exhausted")]
    ChainExhausted,
    /// The peer's ratchet key has low order.
    #[error(transparent)]
    NonContributory(#[from] NonContributory),
    /// The session state is internally inconsistent (e.g. a corrupted store).
    #[error("corrupt session state: {0}")]
    CorruptState(&'static str),
}

/// Why a message could not be decrypted. The caller's state is unchanged: decryption works on
/// a copy and only an authenticated message yields a new state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The envelope breaks a size or format bound.
    #[error("malformed envelope: {0}")]
    Malformed(&'static str),
    /// The envelope names a session this conversation does not have, and carries no handshake.
    #[error("unknown session {0}")]
    UnknownSession(SessionId),
    /// The envelope's handshake could not be answered.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// A handshake already answered: of a session this conversation dropped, or of a deleted
    /// conversation's session retired into the caller's [`ReplayCache`](crate::ReplayCache),
    /// on a message already read there. A replay.
    #[error("replayed handshake for session {0}")]
    ReplayedHandshake(SessionId),
    /// This message's key was already used (a replay or duplicate) or was deleted (too old).
    #[error("message key already used or deleted (replay, duplicate or too old)")]
    ReplayedOrExpired,
    /// The counter lies further ahead than the skip bound: rejected before deriving anything.
    #[error("message would skip {skip} keys; at most {max} per step")]
    TooManySkipped {
        /// How many keys it would skip.
        skip: u64,
        /// The bound.
        max: u32,
    },
    /// The peer's ratchet key has low order.
    #[error(transparent)]
    NonContributory(#[from] NonContributory),
    /// The tag did not verify: wrong key, tampered, or addressed to someone else.
    #[error("message authentication failed")]
    AuthenticationFailed,
    /// A group message's signature did not verify under its sender's key: forged by someone
    /// else in the group, or tampered with (ciphertext, nonce, index or associated data).
    #[error("group message signature did not verify")]
    BadSignature,
}
