//! The `paperplane` binary: the daemon and the CLI (see `paperplane --help`).

fn main() {}
