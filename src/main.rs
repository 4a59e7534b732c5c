//! The `paperplane` binary: the daemon and the CLI (see `paperplane --help`).

use std::{io::IsTerminal, process::ExitCode};

use clap::Parser;
use paperplane_cli::cli::{self, Cli};
use tracing_subscriber::EnvFilter;

/// sled copies a small tree node on every write; mimalloc makes those allocations about
/// a quarter of the CPU cheaper per message than glibc's malloc (see README, Benchmarks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One thread runs the node: its actor is one task anyway, and cross-thread wake-ups cost
/// more than they give on a personal node (about 0.1 ms of the message round trip; see
/// README, Benchmarks). Flushes and the store's own I/O still run on their own threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                // Kademlia warns on every periodic bootstrap while it knows no peers.
                .unwrap_or_else(|_| EnvFilter::new("warn,libp2p_kad=error")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::error_line(&e));
            ExitCode::FAILURE
        }
    }
}
