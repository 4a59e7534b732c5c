//! Helpers for tests that run the real `paperplane` binary (the one cargo builds for these
//! tests, `CARGO_BIN_EXE_paperplane`; `PAPERPLANE_BIN` overrides it): homes in temporary
//! directories, daemons on loopback (no mDNS, ephemeral ports) killed when dropped, CLI
//! commands with their output, and polling with a deadline instead of sleeping.

use std::{
    ffi::OsString,
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use tempfile::TempDir;

/// A 1×1 PNG.
pub(crate) const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// How long any one wait in these tests may take.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// The `paperplane` binary under test.
pub(crate) fn binary() -> PathBuf {
    std::env::var_os("PAPERPLANE_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_paperplane")),
        PathBuf::from,
    )
}

/// Runs `paperplane --home HOME ARGS…` to completion.
pub(crate) fn cli(home: &Path, args: &[&str]) -> Output {
    cli_wrapped(&[], home, args)
}

/// Runs `WRAPPER… paperplane --home HOME ARGS…` to completion: the wrapper is a command that
/// runs the one after it (e.g. `ip netns exec NS`); empty, the binary runs directly.
pub(crate) fn cli_wrapped(wrapper: &[OsString], home: &Path, args: &[&str]) -> Output {
    command_wrapped(wrapper)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("PAPERPLANE_HOME")
        .stdin(Stdio::null())
        .output()
        .expect("run paperplane")
}

/// A [`Command`] that runs the binary under test through `wrapper` (see [`cli_wrapped`]).
pub(crate) fn command_wrapped(wrapper: &[OsString]) -> Command {
    match wrapper.split_first() {
        Some((first, rest)) => {
            let mut command = Command::new(first);
            command.args(rest).arg(binary());
            command
        }
        None => Command::new(binary()),
    }
}

/// Runs a command that must succeed and returns its standard output.
pub(crate) fn cli_ok(home: &Path, args: &[&str]) -> String {
    expect_ok(args, cli(home, args))
}

/// The standard output of `paperplane ARGS…`, which must have succeeded.
pub(crate) fn expect_ok(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "paperplane {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `args` with `--json` at the end.
pub(crate) fn with_json<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    with_json
}

/// Parses the JSON output of `paperplane ARGS…`.
pub(crate) fn parse_json(args: &[&str], text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

/// Runs a command with `--json` that must succeed and parses its output.
pub(crate) fn cli_json(home: &Path, args: &[&str]) -> Value {
    let text = cli_ok(home, &with_json(args));
    parse_json(args, &text)
}

/// Runs a command that must fail and returns its standard error.
pub(crate) fn cli_err(home: &Path, args: &[&str]) -> String {
    expect_err(args, cli(home, args))
}

/// The standard error of `paperplane ARGS…`, which must have failed.
pub(crate) fn expect_err(args: &[&str], out: Output) -> String {
    assert!(
        !out.status.success(),
        "paperplane {args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).expect("utf-8 error")
}

/// Polls `check` (every 25 ms) until it gives a value, for at most [`PATIENCE`].
pub(crate) fn eventually<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    eventually_within(PATIENCE, what, check)
}

/// Polls `check` (every 25 ms) until it gives a value, for at most `patience`.
pub(crate) fn eventually_within<T>(
    patience: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(t) = check() {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A user: a home directory and, while it runs, their daemon.
pub(crate) struct User {
    dir: TempDir,
    /// The home directory.
    pub(crate) home: PathBuf,
    /// The user's peer id.
    pub(crate) peer_id: String,
    daemon: Option<Child>,
    /// Extra arguments of every `daemon` start.
    daemon_args: Vec<String>,
    starts: u32,
}

impl User {
    /// `paperplane init --handle HANDLE` in a new home.
    pub(crate) fn init(handle: &str) -> User {
        Self::init_with(handle, &[])
    }

    /// Like [`User::init`]; `daemon_args` are added to every start of the daemon.
    pub(crate) fn init_with(handle: &str, daemon_args: &[&str]) -> User {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        let init = cli_json(&home, &["init", "--handle", handle, "--name", handle]);
        let peer_id = init["peer_id"].as_str().expect("peer id").to_owned();
        User {
            dir,
            home,
            peer_id,
            daemon: None,
            daemon_args: daemon_args.iter().map(|a| (*a).to_owned()).collect(),
            starts: 0,
        }
    }

    /// A file in this user's scratch space (outside the home).
    pub(crate) fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts the daemon on loopback and waits until its API answers.
    pub(crate) fn start(&mut self) {
        assert!(self.daemon.is_none(), "already running");
        // A daemon killed with SIGKILL leaves its address behind.
        let _ = fs::remove_file(self.home.join("api.addr"));
        self.starts += 1;
        let log = fs::File::create(self.log_path(self.starts)).expect("log file");
        let mut args: Vec<String> = [
            "daemon",
            "--no-mdns",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api",
            "127.0.0.1:0",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.extend(self.daemon_args.iter().cloned());
        let child = Command::new(binary())
            .arg("--home")
            .arg(&self.home)
            .args(&args)
            .env_remove("PAPERPLANE_HOME")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start the daemon");
        self.daemon = Some(child);
        let log_path = self.log_path(self.starts);
        eventually("the daemon's API answers", || {
            if let Some(status) = self.daemon.as_mut().and_then(|c| c.try_wait().ok()?) {
                panic!(
                    "the daemon exited ({status}):\n{}",
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            self.home.join("api.addr").exists().then_some(())?;
            cli(&self.home, &["status"]).status.success().then_some(())
        });
    }

    /// The running daemon's process id.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(Child::id)
    }

    /// Kills the daemon with SIGKILL (no clean shutdown) and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            child.kill().expect("SIGKILL the daemon");
            child.wait().expect("reap the daemon");
        }
    }

    fn log_path(&self, start: u32) -> PathBuf {
        self.dir.path().join(format!("daemon-{start}.log"))
    }

    /// Runs a CLI command against this user's daemon.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        cli(&self.home, args)
    }

    /// A command that must succeed; its standard output.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        cli_ok(&self.home, args)
    }

    /// A command with `--json` that must succeed; its parsed output.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        cli_json(&self.home, args)
    }

    /// A command that must fail; its standard error.
    pub(crate) fn err(&self, args: &[&str]) -> String {
        cli_err(&self.home, args)
    }

    /// The daemon's first listen address (with `/p2p/<id>`), from `status --json`.
    pub(crate) fn addr(&self) -> String {
        let status = self.json(&["status"]);
        status["listen_addrs"][0]
            .as_str()
            .expect("a listen address")
            .to_owned()
    }

    /// Dials `other`, then waits until both hold each other's profile with messaging keys.
    pub(crate) fn meet(&self, other: &User) {
        self.ok(&["connect", &other.addr()]);
        self.wait_for_keys_of(other);
        other.wait_for_keys_of(self);
    }

    /// Waits until this user's node holds `other`'s profile with messaging keys.
    pub(crate) fn wait_for_keys_of(&self, other: &User) {
        eventually("a profile with messaging keys arrives", || {
            let out = self.cli(&["profile", "show", &other.peer_id, "--json"]);
            let p: Value = serde_json::from_slice(&out.stdout).ok()?;
            (p["messaging_keys"] == true).then_some(())
        });
    }

    /// `status --json`'s outbox count.
    pub(crate) fn outbox(&self) -> u64 {
        self.json(&["status"])["outbox"]
            .as_u64()
            .expect("outbox count")
    }
}

impl Drop for User {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            for start in 1..=self.starts {
                let Ok(file) = fs::File::open(self.log_path(start)) else {
                    continue;
                };
                let lines: Vec<String> =
                    BufReader::new(file).lines().map_while(Result::ok).collect();
                let tail = &lines[lines.len().saturating_sub(30)..];
                eprintln!(
                    "--- daemon log of {} (start {start}), last lines:\n{}",
                    self.home.display(),
                    tail.join("\n")
                );
            }
        }
    }
}
