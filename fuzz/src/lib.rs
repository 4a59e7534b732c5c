//! What the fuzz targets share: a fixed world of real values ([`fixtures`]), the checks every
//! target makes on what it decoded ([`checks`]), the input format of the store loader's target
//! ([`store_input`]) and the seed corpora built from the world ([`seeds`]).
//!
//! The world is deterministic (fixed identities, a seeded RNG, a fixed clock), so the seeds
//! the `seeds` program writes are envelopes the targets' own state can open.

pub mod checks;
pub mod fixtures;
pub mod seeds;
pub mod store_input;
