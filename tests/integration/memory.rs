//! The daemon's memory: what an idle node holds. (Figures under load are the DM benchmark's:
//! `cargo bench --bench dm`, see README, "Memory".)

use crate::common_cli::User;

/// Kibibytes of `field` (e.g. `RssAnon:`) in `/proc/PID/status`.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in the process status"))
}

/// An idle daemon's own memory (anonymous pages: heap and stacks, not the mapped binary)
/// stays small. The allocator used to back its arenas with transparent huge pages, which
/// put about 50 MiB of untouched memory into an idle daemon's resident set.
#[test]
fn an_idle_daemon_holds_little_memory() {
    let mut user = User::init("idle");
    user.start();
    // Up and answering; give it a moment's work more so its arenas exist.
    user.ok(&["status"]);
    user.ok(&["inbox"]);
    let pid = user.pid().expect("running");
    let anon = status_kib(pid, "RssAnon:");
    assert!(
        anon <= 24 * 1024,
        "an idle daemon holds {} MiB of anonymous memory",
        anon / 1024
    );
}
