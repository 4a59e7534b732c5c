//! The delivery core: the rules of sending and receiving direct messages as pure state
//! machines. Time comes in as an argument (Unix ms), randomness from a seed; nothing here
//! touches the store, the network, a runtime or the clock, so every rule has unit tests with a
//! fake clock.
//!
//! - [`outbox`]: what to send next, in which batches, how many at once, when to retry
//!   (exponential backoff with jitter), when to give up (30 days).
//! - [`inbox`]: who may write and into which folder (blocked, requests), how fast (per sender
//!   and overall), what is refused before any cryptography, and how far ahead a received
//!   timestamp may be.
//!
//! The actor (`crate::actor`) carries out their decisions against the store and the swarm.

pub(crate) mod inbox;
pub(crate) mod outbox;

pub use inbox::Folder;
pub(crate) use outbox::Outcome;
