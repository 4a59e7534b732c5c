//! The daemon's local HTTP API.
