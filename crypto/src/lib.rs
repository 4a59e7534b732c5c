//! paperplane's cryptography: the identity key and record signatures (and, as the messaging
//! work lands, key agreement, the 1:1 session ratchet and group sender keys).
//!
//! Pure: no I/O, no clock (callers pass `now`), randomness injected by the caller.
//!
//! Layout:
//! - [`identity`]: the ed25519 identity key (its libp2p `PeerId` is the user's id), signing
//!   and verifying [`Signed`](paperplane_protocol::Signed) records.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod identity;

pub use identity::{public_key_of, verify_record, Identity, IdentityError};
