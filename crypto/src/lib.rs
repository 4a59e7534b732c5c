//! paperplane's cryptography: the identity key and record signatures, and the end-to-end
//! encryption of 1:1 messages (key agreement and the session ratchet) and of group messages
//! (sender keys).
//!
//! Pure: no I/O, no clock (callers pass `now`), randomness injected by the caller as any
//! [`CryptoRng`] (rand_core 0.10; e.g. `rand::rng()`).
//!
//! Layout:
//! - [`identity`]: the ed25519 identity key (its libp2p `PeerId` is the user's id), signing
//!   and verifying [`Signed`](paperplane_protocol::Signed) records.
//!
//! # Design (end-to-end encryption)
//!
//! Signal's X3DH and Double Ratchet, with one module per concept:
//! - [`keys`]: the long-term X25519 identity key ([`MessagingIdentity`]), certified by the
//!   ed25519 identity; signed prekeys (id, public key, expiry); verification of a peer's
//!   published [`MessagingKeys`](paperplane_protocol::MessagingKeys) into a
//!   [`PeerPrekeyBundle`].
//! - [`prekeys`]: the user's own [`PrekeyStore`], rotated weekly at the caller's clock, keeping
//!   the two previous prekeys, producing the keys to publish in the profile. A prekey answers
//!   handshakes until its expiry plus [`PREKEY_EXPIRY_GRACE_MS`].
//! - [`replay`]: the [`ReplayCache`] of the sessions of deleted conversations, so a stored
//!   handshake envelope replayed later cannot open a session again with a message already
//!   read.
//! - [`dh`]: contributory X25519 (every DH refuses low-order keys).
//! - [`x3dh`]: the handshake from a published prekey: three DHs, HKDF-SHA256 with an info
//!   string binding both PeerIds, both X25519 identity keys and the prekey id; the public
//!   [`HandshakeHeader`] and [`SessionId`].
//! - [`ratchet`]: the Double Ratchet (HKDF root KDF, HMAC-SHA256 chain KDF, a DH turn per
//!   reply) with bounded skipping ([`MAX_SKIP`], [`MAX_STORED_SKIPPED`],
//!   [`MAX_RECEIVING_CHAINS`]).
//! - [`envelope`]: the sealed message on the wire ([`Envelope`]) and its XChaCha20-Poly1305
//!   AEAD with a random nonce and associated data binding label, version, both PeerIds, the
//!   session id and the headers.
//! - [`session`]: one [`Session`]: handshake + ratchet + envelopes. Encrypt and decrypt take
//!   `&self` and return the new state, so the caller commits state and message atomically and
//!   a failed decryption changes nothing.
//! - [`conversation`]: every session with one peer ([`Conversation`]) and the deterministic
//!   rule choosing the one to send on when both peers start at once. The responder passes
//!   its clock and its replay cache ([`Conversation::decrypt_at`]).
//! - [`sender_key`]: group messages under Signal's Sender Keys: each sender's own
//!   [`SenderKey`] (an HMAC-SHA256 chain and an ed25519 signing key), the [`SenderKeyShare`]
//!   the other members get over their 1:1 sessions (the chain key at the current index, so a
//!   member who joins later cannot read earlier messages), and the [`ReceiverChain`] they keep,
//!   with bounded skipping ([`MAX_GROUP_SKIP`], [`MAX_GROUP_STORED_SKIPPED`]). A
//!   [`GroupCiphertext`] is XChaCha20-Poly1305 with associated data binding
//!   [`GROUP_AD_LABEL`], the caller's associated data and the index, signed by its sender:
//!   receivers check the signature first, and a failed opening changes nothing.
//! - [`safety`]: safety numbers users compare to verify each other's keys.
//! - [`error`]: [`EncryptError`] and [`DecryptError`].
//!
//! - [`attachment`]: attachments (a photo sent in a chat) sealed under a fresh random key
//!   ([`seal_attachment`], [`open_attachment`]); the key travels in the message.
//! - [`stored`]: [`encode_secret`], the protocol encoding of secret state into a buffer that
//!   is wiped.
//!
//! Secrets are wiped on drop and never appear in `Debug` output: keys and KDF outputs live in
//! a wiping 32-byte container from the moment they are produced, and the SHA-256, HMAC,
//! HKDF, X25519 and AEAD states wipe themselves (their crates' `zeroize` features). Session
//! state is `serde` (bincode 2 friendly: no array longer than 32) so the node can persist it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod attachment;
pub mod conversation;
pub mod dh;
pub mod envelope;
pub mod error;
pub mod identity;
pub mod keys;
pub mod prekeys;
pub mod ratchet;
pub mod replay;
pub mod safety;
pub mod sender_key;
pub mod session;
pub mod stored;
#[cfg(test)]
mod test_support;
pub mod x3dh;

pub use attachment::{
    open_attachment, seal_attachment, AttachmentError, AttachmentKey, ATTACHMENT_OVERHEAD,
};
pub use conversation::{Conversation, MAX_REMEMBERED_SESSION_IDS, MAX_SESSIONS_PER_PEER};
pub use dh::{is_low_order, NonContributory};
pub use envelope::{Envelope, MAX_ENVELOPE_BYTES, MAX_PLAINTEXT_BYTES};
pub use error::{DecryptError, EncryptError};
pub use identity::{public_key_of, verify_record, Identity, IdentityError};
pub use keys::{verify_messaging_keys, KeyError, MessagingIdentity, PeerPrekeyBundle};
pub use prekeys::{PrekeyStore, PREKEY_EXPIRY_GRACE_MS, PREKEY_LIFETIME_MS, PREKEY_ROTATION_MS};
pub use rand_core::CryptoRng;
pub use ratchet::{RatchetHeader, MAX_RECEIVING_CHAINS, MAX_SKIP, MAX_STORED_SKIPPED};
pub use replay::{ReplayCache, MAX_RETIRED_SESSIONS, REPLAY_CACHE_TTL_MS};
pub use safety::safety_number;
pub use sender_key::{
    GroupCiphertext, ReceiverChain, SenderKey, SenderKeyShare, GROUP_AD_LABEL, MAX_GROUP_SKIP,
    MAX_GROUP_STORED_SKIPPED,
};
pub use session::{Role, Session};
pub use stored::encode_secret;
pub use x3dh::{HandshakeError, HandshakeHeader, SessionId};
