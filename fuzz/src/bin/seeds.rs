//! Writes the seed corpora of every fuzz target under the directory given (default
//! `fuzz/corpus`), from the fixed world of real values. Built with the targets by
//! `cargo fuzz build`; `fuzz/run` calls it.

use std::{path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let root = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("fuzz/corpus"), PathBuf::from);
    match paperplane_fuzz::seeds::write_all(&root) {
        Ok(written) => {
            for (target, n) in written {
                println!("{n:3} seeds  {target}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seeds: {e}");
            ExitCode::FAILURE
        }
    }
}
