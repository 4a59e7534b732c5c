//! Several hosts on one machine, in Linux network namespaces: a public "internet" with a
//! bootstrap and relay node, and two hosts each behind its own NAT router, all running the
//! real `paperplane` binary. The tests drive NAT traversal end to end: finding a peer by its
//! id through the DHT, relayed connections, hole punching (DCUtR) and mailboxes.
//!
//! ```text
//!                       pub (10.77.0.1, bridge br0)
//!                      /                          \
//!   natA wan 10.77.0.2                              natB wan 10.77.0.3
//!   natA lan 10.78.1.1                              natB lan 10.78.2.1
//!          |                                                |
//!   hostA 10.78.1.2                                 hostB 10.78.2.2
//! ```
//!
//! Each NAT masquerades what leaves by its wan and forwards back only replies (conntrack
//! ESTABLISHED/RELATED), so nothing outside can open a connection to a host behind it. An
//! "easy" NAT keeps source ports where it can (hole punching works); a "hard" one maps every
//! flow to a random port (`--random-fully`; hole punching fails, traffic stays relayed).
//! Nothing is connected to the machine's real interfaces: the veth pairs are created
//! directly between the namespaces.
//!
//! The tests need root, `ip` and `iptables`; without them they print why and pass.

use std::{
    ffi::OsString,
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{
        atomic::{AtomicU32, Ordering},
        Once,
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use tempfile::TempDir;

use crate::common_cli::{
    self, cli_wrapped, command_wrapped, eventually_within, expect_err, expect_ok, parse_json,
    with_json,
};

/// Every namespace these tests create starts with this, then `<pid>-<n>-`.
const PREFIX: &str = "ppnet-";
/// The port every daemon listens on (TCP and QUIC); each namespace has its own ports.
const PORT: u16 = 4001;
/// How long a wait for the network (relay reservations, DHT, hole punching) may take.
const NET_PATIENCE: Duration = Duration::from_secs(45);

/// The topologies this process created so far, for unique names.
static NEXT: AtomicU32 = AtomicU32::new(0);
/// Stale namespaces are removed once per process.
static CLEAN_STALE: Once = Once::new();

/// How the NAT routers map ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nat {
    /// Plain `MASQUERADE`: source ports are kept where possible; hole punching works.
    Easy,
    /// `MASQUERADE --random-fully`: every flow gets a random port; hole punching fails.
    Hard,
}

/// Where a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The public internet, 10.77.0.1.
    Pub,
    /// Behind `natA`, 10.78.1.2.
    HostA,
    /// Behind `natB`, 10.78.2.2.
    HostB,
}

impl Place {
    fn ns_suffix(self) -> &'static str {
        match self {
            Self::Pub => "pub",
            Self::HostA => "hostA",
            Self::HostB => "hostB",
        }
    }

    /// The node's own address in its namespace.
    pub(crate) fn ip(self) -> &'static str {
        match self {
            Self::Pub => "10.77.0.1",
            Self::HostA => "10.78.1.2",
            Self::HostB => "10.78.2.2",
        }
    }
}

/// The tools the topology needs.
#[derive(Clone, Debug)]
struct Tools {
    ip: PathBuf,
    iptables: PathBuf,
    /// `ss` (iproute2, like `ip`), for looking at sockets; optional.
    ss: Option<PathBuf>,
}

/// Finds `name` on `PATH` or in the usual sbin directories (not always on a user's `PATH`).
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Whether this process runs as root (its effective uid, from `/proc`).
fn is_root() -> bool {
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// Runs a program to completion; its output, or why it could not start.
fn run(program: &Path, args: &[&str]) -> Result<Output, String> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))
}

/// Runs a program that must succeed.
fn must(program: &Path, args: &[&str]) {
    let out = run(program, args).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{} {} failed: {}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// The namespaces currently present.
fn namespaces(ip: &Path) -> Vec<String> {
    let Ok(out) = run(ip, &["netns", "list"]) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // `ip netns list` prints `NAME (id: N)` for some.
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Deletes namespaces of earlier runs that were killed before their `Drop` ran: those named
/// after a process that no longer exists, or after this process (a reused pid; none of this
/// process's own exist yet when this runs, the first time a topology is built).
fn remove_stale_namespaces(ip: &Path) {
    let me = std::process::id();
    for ns in namespaces(ip) {
        let Some(pid) = ns
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me || !Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("netns: removing the stale namespace {ns}");
            let _ = run(ip, &["netns", "del", &ns]);
        }
    }
}

/// The namespaces of one test: `pub`, `natA`, `natB`, `hostA`, `hostB`, wired as the module
/// documentation shows. Dropping it deletes them (and with them their interfaces).
pub(crate) struct Topology {
    tools: Tools,
    /// `ppnet-<pid>-<n>-`.
    prefix: String,
    /// The namespaces created, in order.
    created: Vec<String>,
    /// How the NATs map ports.
    pub(crate) nat: Nat,
}

impl Topology {
    /// Builds the topology, or prints why it cannot and returns `None` (the test then passes):
    /// not root, no `ip` or `iptables`, or `ip netns add` refused. Any later failure panics.
    pub(crate) fn new(test: &str, nat: Nat) -> Option<Topology> {
        let skip = |why: &str| {
            eprintln!("SKIPPED {test}: {why}; these tests need root, `ip` and `iptables` (network namespaces)");
            None
        };
        if !is_root() {
            return skip("not running as root");
        }
        let Some(ip) = find_tool("ip") else {
            return skip("no `ip` command (iproute2)");
        };
        let Some(iptables) = find_tool("iptables") else {
            return skip("no `iptables` command");
        };
        CLEAN_STALE.call_once(|| remove_stale_namespaces(&ip));
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut topology = Topology {
            tools: Tools {
                ip,
                iptables,
                ss: find_tool("ss"),
            },
            prefix: format!("{PREFIX}{}-{n}-", std::process::id()),
            created: Vec::new(),
            nat,
        };
        let first = topology.ns("pub");
        match run(&topology.tools.ip, &["netns", "add", &first]) {
            Ok(out) if out.status.success() => topology.created.push(first),
            Ok(out) => {
                return skip(&format!(
                    "`ip netns add` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
            Err(e) => return skip(&e),
        }
        topology.wire();
        Some(topology)
    }

    /// The full name of the namespace `short`.
    fn ns(&self, short: &str) -> String {
        format!("{}{short}", self.prefix)
    }

    /// The namespace a node at `place` runs in.
    pub(crate) fn namespace(&self, place: Place) -> String {
        self.ns(place.ns_suffix())
    }

    fn ip(&self, args: &[&str]) {
        must(&self.tools.ip, args);
    }

    /// Runs `PROGRAM ARGS…` inside namespace `short`; it must succeed.
    fn exec(&self, short: &str, program: &Path, args: &[&str]) {
        let ns = self.ns(short);
        let program = program.to_str().expect("a UTF-8 path");
        let mut all = vec!["netns", "exec", &ns, program];
        all.extend_from_slice(args);
        must(&self.tools.ip, &all);
    }

    fn iptables(&self, short: &str, args: &[&str]) {
        let iptables = self.tools.iptables.clone();
        self.exec(short, &iptables, args);
    }

    /// Creates the other namespaces and wires everything (the `pub` namespace exists).
    fn wire(&mut self) {
        for short in ["natA", "natB", "hostA", "hostB"] {
            let ns = self.ns(short);
            self.ip(&["netns", "add", &ns]);
            self.created.push(ns);
        }
        for short in ["pub", "natA", "natB", "hostA", "hostB"] {
            self.ip(&["-n", &self.ns(short), "link", "set", "lo", "up"]);
        }
        // The internet: a bridge in `pub`.
        let public = self.ns("pub");
        self.ip(&["-n", &public, "link", "add", "br0", "type", "bridge"]);
        self.ip(&["-n", &public, "addr", "add", "10.77.0.1/24", "dev", "br0"]);
        self.ip(&["-n", &public, "link", "set", "br0", "up"]);
        for (nat, host, port, wan, lan, host_ip) in [
            (
                "natA",
                "hostA",
                "toA",
                "10.77.0.2/24",
                "10.78.1.1",
                "10.78.1.2/24",
            ),
            (
                "natB",
                "hostB",
                "toB",
                "10.77.0.3/24",
                "10.78.2.1",
                "10.78.2.2/24",
            ),
        ] {
            let nat_ns = self.ns(nat);
            let host_ns = self.ns(host);
            // The NAT's wan, plugged into the bridge; the veth is created inside the
            // namespaces, never in the machine's own.
            self.ip(&[
                "-n", &nat_ns, "link", "add", "wan", "type", "veth", "peer", "name", port, "netns",
                &public,
            ]);
            self.ip(&["-n", &public, "link", "set", port, "master", "br0"]);
            self.ip(&["-n", &public, "link", "set", port, "up"]);
            self.ip(&["-n", &nat_ns, "addr", "add", wan, "dev", "wan"]);
            self.ip(&["-n", &nat_ns, "link", "set", "wan", "up"]);
            // The NAT's lan and the host behind it.
            self.ip(&[
                "-n", &nat_ns, "link", "add", "lan", "type", "veth", "peer", "name", "eth0",
                "netns", &host_ns,
            ]);
            self.ip(&[
                "-n",
                &nat_ns,
                "addr",
                "add",
                &format!("{lan}/24"),
                "dev",
                "lan",
            ]);
            self.ip(&["-n", &nat_ns, "link", "set", "lan", "up"]);
            self.ip(&["-n", &host_ns, "addr", "add", host_ip, "dev", "eth0"]);
            self.ip(&["-n", &host_ns, "link", "set", "eth0", "up"]);
            self.ip(&["-n", &host_ns, "route", "add", "default", "via", lan]);
            // Routing and NAT.
            self.exec(
                nat,
                Path::new("/bin/sh"),
                &["-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"],
            );
            let mut masquerade = vec![
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-o",
                "wan",
                "-j",
                "MASQUERADE",
            ];
            if self.nat == Nat::Hard {
                masquerade.push("--random-fully");
            }
            self.iptables(nat, &masquerade);
            self.iptables(nat, &["-P", "FORWARD", "DROP"]);
            self.iptables(
                nat,
                &["-A", "FORWARD", "-i", "lan", "-o", "wan", "-j", "ACCEPT"],
            );
            self.iptables(
                nat,
                &[
                    "-A",
                    "FORWARD",
                    "-i",
                    "wan",
                    "-o",
                    "lan",
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "ESTABLISHED,RELATED",
                    "-j",
                    "ACCEPT",
                ],
            );
            // Like a home router: what nobody inside asked for is dropped silently, also
            // when it is addressed to the router itself (an answering RST would tear down
            // the mapping a hole punch is opening).
            self.iptables(
                nat,
                &[
                    "-A",
                    "INPUT",
                    "-i",
                    "wan",
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "NEW",
                    "-j",
                    "DROP",
                ],
            );
        }
    }

    /// The established TCP connections in the namespace of `place`, as (local, remote)
    /// `IP:PORT` pairs; `None` without `ss`.
    pub(crate) fn tcp_connections(&self, place: Place) -> Option<Vec<(String, String)>> {
        let ss = self.tools.ss.as_ref()?.to_str().expect("a UTF-8 path");
        let ns = self.namespace(place);
        let out = run(
            &self.tools.ip,
            &["netns", "exec", &ns, ss, "-Htn", "state", "established"],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "ss failed");
        let text = String::from_utf8(out.stdout).expect("utf-8 output");
        Some(
            text.lines()
                .filter_map(|l| {
                    // Recv-Q Send-Q Local Peer (the state is left out with a state filter).
                    let mut fields = l.split_whitespace().skip(2);
                    Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
                })
                .collect(),
        )
    }

    /// `paperplane init --handle HANDLE` in a new home, for a node at `place`; `daemon_args`
    /// are added to every start of its daemon.
    pub(crate) fn node(&self, place: Place, handle: &str, daemon_args: &[&str]) -> NsNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        let mut node = NsNode {
            wrapper: vec![
                self.tools.ip.clone().into_os_string(),
                "netns".into(),
                "exec".into(),
                self.namespace(place).into(),
            ],
            place,
            dir,
            home,
            peer_id: String::new(),
            daemon: None,
            daemon_args: daemon_args.iter().map(|a| (*a).to_owned()).collect(),
            starts: 0,
        };
        let init = node.json(&["init", "--handle", handle, "--name", handle]);
        node.peer_id = init["peer_id"].as_str().expect("peer id").to_owned();
        node
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            if let Err(e) = run(&self.tools.ip, &["netns", "del", ns]).and_then(|out| {
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).into_owned())
                }
            }) {
                eprintln!("netns: cannot delete {ns}: {e}");
            }
        }
    }
}

/// A `paperplane` home and, while it runs, its daemon inside a namespace; the CLI runs in the
/// same namespace (each has its own loopback, where the API listens). The daemon is killed
/// when this is dropped.
pub(crate) struct NsNode {
    /// `ip netns exec NS`.
    wrapper: Vec<OsString>,
    /// Where it runs.
    pub(crate) place: Place,
    dir: TempDir,
    /// The home directory.
    pub(crate) home: PathBuf,
    /// The peer id.
    pub(crate) peer_id: String,
    daemon: Option<Child>,
    daemon_args: Vec<String>,
    starts: u32,
}

impl NsNode {
    /// Starts the daemon (TCP and QUIC on port 4001 of every interface, no mDNS, the API on
    /// an ephemeral loopback port) and waits until its API answers.
    pub(crate) fn start(&mut self) {
        assert!(self.daemon.is_none(), "already running");
        // A daemon killed with SIGKILL leaves its address behind.
        let _ = fs::remove_file(self.home.join("api.addr"));
        self.starts += 1;
        let log_path = self.log_path(self.starts);
        let log = fs::File::create(&log_path).expect("log file");
        let tcp = format!("/ip4/0.0.0.0/tcp/{PORT}");
        let quic = format!("/ip4/0.0.0.0/udp/{PORT}/quic-v1");
        let child = command_wrapped(&self.wrapper)
            .arg("--home")
            .arg(&self.home)
            .args([
                "daemon",
                "--no-mdns",
                "--api",
                "127.0.0.1:0",
                "--listen",
                &tcp,
                "--listen",
                &quic,
            ])
            .args(&self.daemon_args)
            .env_remove("PAPERPLANE_HOME")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start the daemon");
        self.daemon = Some(child);
        common_cli::eventually("the daemon's API answers", || {
            if let Some(status) = self.daemon.as_mut().and_then(|c| c.try_wait().ok()?) {
                panic!(
                    "the daemon exited ({status}):\n{}",
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            self.home.join("api.addr").exists().then_some(())?;
            self.cli(&["status"]).status.success().then_some(())
        });
    }

    /// Stops the daemon cleanly (SIGTERM; SIGKILL if it has not stopped within 10 s).
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.daemon.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().expect("wait for the daemon").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "netns: the daemon of {} ignored SIGTERM",
            self.home.display()
        );
        child.kill().expect("SIGKILL the daemon");
        child.wait().expect("reap the daemon");
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

    /// Runs a CLI command in the node's namespace.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        cli_wrapped(&self.wrapper, &self.home, args)
    }

    /// A command that must succeed; its standard output.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        expect_ok(args, self.cli(args))
    }

    /// A command with `--json` that must succeed; its parsed output.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(&with_json(args));
        parse_json(args, &text)
    }

    /// A command that must fail; its standard error.
    pub(crate) fn err(&self, args: &[&str]) -> String {
        expect_err(args, self.cli(args))
    }

    /// `status --json`.
    pub(crate) fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// Its TCP address on its own interface, `/ip4/<ip>/tcp/4001/p2p/<id>` (reachable from
    /// outside only for the node in `pub`).
    pub(crate) fn tcp_addr(&self) -> String {
        format!("/ip4/{}/tcp/{PORT}/p2p/{}", self.place.ip(), self.peer_id)
    }

    /// The peers it is connected to (`status`'s `peers`).
    pub(crate) fn peers(&self) -> Vec<String> {
        strings(&self.status()["peers"])
    }

    /// Waits until it is connected to `other`.
    pub(crate) fn wait_connected_to(&self, other: &NsNode) {
        eventually_within(NET_PATIENCE, "a connection to the peer", || {
            self.peers().contains(&other.peer_id).then_some(())
        });
    }

    /// Its addresses through relays (`status`'s `relayed_addrs`).
    pub(crate) fn relayed_addrs(&self) -> Vec<String> {
        strings(&self.status()["relayed_addrs"])
    }

    /// Waits until it has an address through a relay; that address.
    pub(crate) fn wait_relayed_addr(&self) -> String {
        eventually_within(NET_PATIENCE, "the node has a relayed address", || {
            self.relayed_addrs().into_iter().next()
        })
    }

    /// Its connections to `peer` (`status`'s `connections`).
    pub(crate) fn connections_to(&self, peer: &str) -> Vec<Connection> {
        let status = self.status();
        let Some(all) = status["connections"].as_array() else {
            panic!("status has no `connections` array: {status}");
        };
        all.iter()
            .map(|c| Connection {
                peer: c["peer"].as_str().expect("a connection's peer").to_owned(),
                address: c["address"]
                    .as_str()
                    .expect("a connection's address")
                    .to_owned(),
                relayed: c["relayed"].as_bool().expect("a connection's `relayed`"),
            })
            .filter(|c| c.peer == peer)
            .collect()
    }

    /// Waits until its node holds `other`'s profile with messaging keys.
    pub(crate) fn wait_for_keys_of(&self, other: &NsNode) {
        eventually_within(
            NET_PATIENCE,
            "a profile with messaging keys arrives",
            || {
                let out = self.cli(&["profile", "show", &other.peer_id, "--json"]);
                let p: Value = serde_json::from_slice(&out.stdout).ok()?;
                (p["messaging_keys"] == true).then_some(())
            },
        );
    }

    /// `chat PEER --json`: the messages with `other`, oldest first.
    pub(crate) fn chat(&self, other: &NsNode) -> Vec<Value> {
        let chat = self.json(&["chat", &other.peer_id, "--limit", "1000"]);
        chat.as_array().expect("an array of messages").clone()
    }
}

impl Drop for NsNode {
    fn drop(&mut self) {
        self.kill();
        // To read a passing run's logs: PAPERPLANE_NETNS_LOGS=DIR keeps them there.
        if let Some(keep) = std::env::var_os("PAPERPLANE_NETNS_LOGS") {
            for start in 1..=self.starts {
                let to = PathBuf::from(&keep)
                    .join(format!("{:?}-{}-{start}.log", self.place, self.peer_id));
                let _ = fs::copy(self.log_path(start), to);
            }
        }
        if std::thread::panicking() {
            for start in 1..=self.starts {
                let Ok(file) = fs::File::open(self.log_path(start)) else {
                    continue;
                };
                let lines: Vec<String> =
                    BufReader::new(file).lines().map_while(Result::ok).collect();
                let tail = &lines[lines.len().saturating_sub(40)..];
                eprintln!(
                    "--- daemon log of {:?} {} (start {start}), last lines:\n{}",
                    self.place,
                    self.home.display(),
                    tail.join("\n")
                );
            }
        }
    }
}

/// One entry of `status`'s `connections`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Connection {
    /// The peer.
    pub(crate) peer: String,
    /// The remote address.
    pub(crate) address: String,
    /// Whether it goes through a relay.
    pub(crate) relayed: bool,
}

/// A JSON array of strings.
fn strings(v: &Value) -> Vec<String> {
    let Some(items) = v.as_array() else {
        panic!("not an array of strings: {v}");
    };
    items
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

/// The texts of messages.
fn texts(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect()
}

/// The `p`-th percentile (0–100) of sorted durations, by the nearest rank.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    assert!(!sorted.is_empty(), "no samples");
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Prints min, p50, p99 and max of `samples`.
fn print_percentiles(what: &str, samples: &mut [Duration]) {
    samples.sort();
    println!(
        "{what}: n={} min={:?} p50={:?} p99={:?} max={:?}",
        samples.len(),
        samples[0],
        percentile(samples, 50),
        percentile(samples, 99),
        samples[samples.len() - 1]
    );
}

/// Pub (bootstrap node and relay) and the nodes on hostA and hostB, all running; the hosts
/// bootstrap from pub.
fn relay_setup(topology: &Topology) -> (NsNode, NsNode, NsNode) {
    let mut public = topology.node(Place::Pub, "relay", &["--relay-server"]);
    public.start();
    let bootstrap = public.tcp_addr();
    let host_args = ["--bootstrap", bootstrap.as_str()];
    let mut a = topology.node(Place::HostA, "alice", &host_args);
    let mut b = topology.node(Place::HostB, "bob", &host_args);
    a.start();
    b.start();
    a.wait_connected_to(&public);
    b.wait_connected_to(&public);
    (public, a, b)
}

/// `connect <PEER-ID>` with a bare peer id: the node must find the peer itself.
fn connect_by_id(from: &NsNode, to: &NsNode) {
    let connected = from.json(&["connect", &to.peer_id]);
    assert_eq!(connected["peer_id"], to.peer_id.as_str(), "{connected}");
}

/// Runs today: the namespaces, the NATs and the daemons in them. The hosts reach the public
/// node, which sees them at their NAT's public address; nothing reaches the hosts from
/// outside, neither by their private addresses nor through their NAT's public address; the
/// two hosts cannot reach each other directly. An easy NAT keeps the host's source port, a
/// hard one does not.
fn check_topology(test: &str, nat: Nat) {
    let Some(topology) = Topology::new(test, nat) else {
        return;
    };
    let mut public = topology.node(Place::Pub, "relay", &[]);
    let mut a = topology.node(Place::HostA, "alice", &[]);
    let mut b = topology.node(Place::HostB, "bob", &[]);
    public.start();
    a.start();
    b.start();
    let status = a.status();
    assert_eq!(status["peer_id"], a.peer_id.as_str());
    assert_eq!(status["handle"], "alice");

    // From outside: not by the private address (no route), not through the NAT (no new
    // inbound connections; nothing is forwarded), neither by TCP nor by QUIC.
    let through_nat_a = format!("/ip4/10.77.0.2/tcp/{PORT}/p2p/{}", a.peer_id);
    let through_nat_a_quic = format!("/ip4/10.77.0.2/udp/{PORT}/quic-v1/p2p/{}", a.peer_id);
    for (from, addr) in [
        (&public, a.tcp_addr()),
        (&public, through_nat_a.clone()),
        (&public, through_nat_a_quic),
        // Nor from the other host, behind its own NAT.
        (&b, a.tcp_addr()),
        (&b, through_nat_a),
    ] {
        let started = Instant::now();
        from.err(&["connect", &addr]);
        println!(
            "netns: {:?} -> {addr} refused after {:?}",
            from.place,
            started.elapsed()
        );
    }
    assert!(!public.peers().contains(&a.peer_id));

    // Out to the internet: both hosts reach pub, A by TCP and B by QUIC.
    let connected = a.json(&["connect", &public.tcp_addr()]);
    assert_eq!(connected["peer_id"], public.peer_id.as_str(), "{connected}");
    let quic = format!("/ip4/10.77.0.1/udp/{PORT}/quic-v1/p2p/{}", public.peer_id);
    let connected = b.json(&["connect", &quic]);
    assert_eq!(connected["peer_id"], public.peer_id.as_str(), "{connected}");
    common_cli::eventually("pub sees both hosts", || {
        let peers = public.peers();
        (peers.contains(&a.peer_id) && peers.contains(&b.peer_id)).then_some(())
    });
    assert!(a.peers().contains(&public.peer_id));
    assert!(b.peers().contains(&public.peer_id));
    // The hosts only know pub.
    assert!(!a.peers().contains(&b.peer_id));

    check_masquerading(&topology);

    // The daemons restart on their fixed ports, after a clean stop and after SIGKILL.
    a.stop();
    a.start();
    a.json(&["connect", &public.tcp_addr()]);
    a.kill();
    a.start();
    a.json(&["connect", &public.tcp_addr()]);
    common_cli::eventually("pub sees hostA again", || {
        public.peers().contains(&a.peer_id).then_some(())
    });
}

/// The sockets: pub sees hostA (connected to it by TCP) at natA's public address; the port
/// is hostA's own behind an easy NAT, another behind a hard one.
fn check_masquerading(topology: &Topology) {
    let (Some(at_a), Some(at_pub)) = (
        topology.tcp_connections(Place::HostA),
        topology.tcp_connections(Place::Pub),
    ) else {
        println!("netns: no `ss`; the sockets are not checked");
        return;
    };
    let pub_tcp = format!("10.77.0.1:{PORT}");
    let (local, _) = at_a
        .iter()
        .find(|(_, remote)| *remote == pub_tcp)
        .unwrap_or_else(|| panic!("hostA has no TCP connection to pub: {at_a:?}"));
    let local_port = local.rsplit_once(':').expect("IP:PORT").1;
    let seen: Vec<&str> = at_pub
        .iter()
        .filter(|(l, _)| *l == pub_tcp)
        .map(|(_, remote)| remote.as_str())
        .collect();
    assert_eq!(seen.len(), 1, "pub's inbound TCP connections: {at_pub:?}");
    let (seen_ip, seen_port) = seen[0].rsplit_once(':').expect("IP:PORT");
    assert_eq!(seen_ip, "10.77.0.2", "masqueraded by natA");
    match topology.nat {
        Nat::Easy => assert_eq!(seen_port, local_port, "an easy NAT keeps the port"),
        // A random port could be the same by chance, about once in 30,000 runs.
        Nat::Hard => assert_ne!(seen_port, local_port, "a hard NAT changes the port"),
    }
}

#[test]
fn netns_topology_hides_hosts_behind_easy_nats() {
    check_topology("netns_topology_hides_hosts_behind_easy_nats", Nat::Easy);
}

#[test]
fn netns_topology_hides_hosts_behind_hard_nats() {
    check_topology("netns_topology_hides_hosts_behind_hard_nats", Nat::Hard);
}

/// Finding a peer by its id alone: both hosts behind NATs, pub their only bootstrap node and
/// relay. hostA gets a relayed address and sees itself as private; hostB re-runs the DHT
/// bootstrap, then connects to hostA by peer id.
#[test]
fn netns_peer_found_by_id_through_the_dht_and_the_relay() {
    let Some(topology) = Topology::new(
        "netns_peer_found_by_id_through_the_dht_and_the_relay",
        Nat::Easy,
    ) else {
        return;
    };
    let (public, a, b) = relay_setup(&topology);
    let relayed = a.wait_relayed_addr();
    assert!(
        relayed.contains("/p2p-circuit")
            && relayed.contains(&public.peer_id)
            && relayed.contains("10.77.0.1"),
        "hostA's relayed address goes through pub: {relayed}"
    );
    for node in [&public, &a, &b] {
        let status = node.status();
        let reachability = status["reachability"].as_str().expect("reachability");
        assert!(
            ["public", "private", "unknown"].contains(&reachability),
            "{status}"
        );
    }
    eventually_within(NET_PATIENCE, "hostA finds itself private", || {
        (a.status()["reachability"] == "private").then_some(())
    });
    // pub never sees itself as private (it is reachable).
    assert_ne!(public.status()["reachability"], "private");

    b.ok(&["bootstrap"]);
    let started = Instant::now();
    connect_by_id(&b, &a);
    println!(
        "netns: lookup by peer id + connect: {:?}",
        started.elapsed()
    );
    let connections = b.connections_to(&a.peer_id);
    assert!(!connections.is_empty(), "no connection to hostA listed");
    for c in &connections {
        assert_eq!(
            c.relayed,
            c.address.contains("/p2p-circuit"),
            "`relayed` says whether the address is a circuit: {c:?}"
        );
    }
    a.wait_connected_to(&b);
}

/// 50 lookups by peer id, each from a freshly started daemon on hostB (the cheapest honest
/// way to drop every connection and the DHT's cache in memory); prints p50 and p99 of the
/// `connect <PEER-ID>` time alone.
#[test]
fn netns_lookup_by_peer_id_50_times() {
    const RUNS: usize = 50;
    let Some(topology) = Topology::new("netns_lookup_by_peer_id_50_times", Nat::Easy) else {
        return;
    };
    let (public, a, mut b) = relay_setup(&topology);
    a.wait_relayed_addr();
    let mut samples = Vec::with_capacity(RUNS);
    let all = Instant::now();
    for run in 0..RUNS {
        if run > 0 {
            b.kill();
            b.start();
            b.wait_connected_to(&public);
        }
        let started = Instant::now();
        connect_by_id(&b, &a);
        samples.push(started.elapsed());
    }
    print_percentiles("netns: lookup by peer id + connect", &mut samples);
    println!("netns: {RUNS} runs with restarts took {:?}", all.elapsed());
}

/// A direct message over the relay, with hard NATs so that it stays relayed: hostB finds
/// hostA by id, sends with `--wait` (delivered), and hostA has it. The connection stays
/// relayed while messages flow for 10 s (hole punching fails against `--random-fully`).
/// Prints the round trip of `send --wait`.
#[test]
fn netns_direct_messages_over_the_relay_behind_hard_nats() {
    let Some(topology) = Topology::new(
        "netns_direct_messages_over_the_relay_behind_hard_nats",
        Nat::Hard,
    ) else {
        return;
    };
    let (_public, a, b) = relay_setup(&topology);
    a.wait_relayed_addr();
    connect_by_id(&b, &a);
    b.wait_for_keys_of(&a);
    a.wait_for_keys_of(&b);
    // Alice follows Bob: a stranger's messages are limited to 30 a minute (message
    // requests), which a burst of sends would meet.
    a.ok(&["follow", &b.peer_id]);

    let assert_relayed_only = |when: &str| {
        let connections = b.connections_to(&a.peer_id);
        assert!(!connections.is_empty(), "{when}: no connection to hostA");
        assert!(
            connections.iter().all(|c| c.relayed),
            "{when}: a direct connection through hard NATs: {connections:?}"
        );
    };
    assert_relayed_only("after connecting");

    let mut samples = Vec::new();
    let mut sent = Vec::new();
    let window = Instant::now();
    // At least 10 messages, and for at least 10 s: time for every hole punching attempt.
    while sent.len() < 10 || window.elapsed() < Duration::from_secs(10) {
        let text = format!("over the relay {}", sent.len());
        let started = Instant::now();
        let m = b.json(&["send", &a.peer_id, &text, "--wait"]);
        samples.push(started.elapsed());
        assert_eq!(m["state"], "delivered", "{m}");
        assert_relayed_only(&format!("after message {}", sent.len()));
        sent.push(text);
        if sent.len() > 200 {
            break;
        }
    }
    print_percentiles(
        "netns: DM round trip over the relay (send --wait)",
        &mut samples,
    );

    let expected: Vec<&str> = sent.iter().map(String::as_str).collect();
    let chat = eventually_within(NET_PATIENCE, "hostA has every message", || {
        let chat = a.chat(&b);
        (chat.len() >= sent.len()).then_some(chat)
    });
    assert_eq!(texts(&chat), expected);
    for m in &chat {
        assert_eq!(m["from"], b.peer_id.as_str());
        assert_eq!(m["state"], "received");
    }
    let mine = b.chat(&a);
    assert_eq!(texts(&mine), expected);
    for m in &mine {
        assert!(
            m["state"] == "delivered" || m["state"] == "seen",
            "hostB's view: {m}"
        );
    }
}

/// Hole punching behind easy NATs: the first connection goes through the relay, and hostB
/// eventually holds a direct (not relayed) connection to hostA, through natA's public
/// address; messages flow.
#[test]
fn netns_hole_punching_upgrades_the_relayed_connection_behind_easy_nats() {
    let Some(topology) = Topology::new(
        "netns_hole_punching_upgrades_the_relayed_connection_behind_easy_nats",
        Nat::Easy,
    ) else {
        return;
    };
    let (_public, a, b) = relay_setup(&topology);
    a.wait_relayed_addr();
    connect_by_id(&b, &a);
    let started = Instant::now();
    let direct = eventually_within(NET_PATIENCE, "a direct connection to hostA", || {
        b.connections_to(&a.peer_id)
            .into_iter()
            .find(|c| !c.relayed)
    });
    println!(
        "netns: direct connection {:?} after {:?}",
        direct.address,
        started.elapsed()
    );
    assert!(
        direct.address.contains("/ip4/10.77.0.2/") && !direct.address.contains("/p2p-circuit"),
        "the direct connection goes to natA's public address: {direct:?}"
    );
    b.wait_for_keys_of(&a);
    a.wait_for_keys_of(&b);
    // Not a stranger's burst (see the relay test).
    a.ok(&["follow", &b.peer_id]);
    let m = b.json(&["send", &a.peer_id, "punched through", "--wait"]);
    assert_eq!(m["state"], "delivered", "{m}");
    eventually_within(NET_PATIENCE, "hostA has the message", || {
        let chat = a.chat(&b);
        (texts(&chat) == ["punched through"]).then_some(())
    });
    // The relayed connection is closed once the direct one is up.
    eventually_within(NET_PATIENCE, "only the direct connection is left", || {
        let connections = b.connections_to(&a.peer_id);
        (!connections.is_empty() && connections.iter().all(|c| !c.relayed)).then_some(())
    });
    let mut samples = Vec::new();
    for i in 0..50 {
        let started = Instant::now();
        let m = b.json(&["send", &a.peer_id, &format!("direct {i}"), "--wait"]);
        samples.push(started.elapsed());
        assert_eq!(m["state"], "delivered", "{m}");
    }
    print_percentiles(
        "netns: DM round trip direct after hole punching (send --wait)",
        &mut samples,
    );
}

/// Mailboxes: pub keeps mail for hostA, and hostA's profile names pub as its mailbox. With
/// hostA offline, 5 messages from hostB end "stored" at the mailbox; hostB goes offline
/// too; hostA comes back and gets all 5 exactly once, in order; hostB comes back and sees
/// them delivered.
#[test]
fn netns_mailbox_keeps_mail_while_the_recipient_is_offline() {
    const MAIL: usize = 5;
    let Some(topology) = Topology::new(
        "netns_mailbox_keeps_mail_while_the_recipient_is_offline",
        Nat::Easy,
    ) else {
        return;
    };
    let (public, mut a, mut b) = relay_setup(&topology);
    public.ok(&["mailbox", "keep-for", &a.peer_id]);
    // Before hostB ever sees hostA's profile, so every copy it gets names the mailbox.
    a.ok(&["mailbox", "use", &public.peer_id]);
    a.wait_relayed_addr();
    connect_by_id(&b, &a);
    b.wait_for_keys_of(&a);
    a.wait_for_keys_of(&b);
    b.ok(&["follow", &a.peer_id]);
    let first = b.json(&["send", &a.peer_id, "are you there?", "--wait"]);
    assert_eq!(first["state"], "delivered", "{first}");

    a.stop();
    let sent: Vec<String> = (1..=MAIL).map(|i| format!("mail {i} of {MAIL}")).collect();
    for text in &sent {
        let m = b.json(&["send", &a.peer_id, text, "--no-wait"]);
        assert_ne!(m["state"], "failed", "{m}");
    }
    let states = |node: &NsNode, peer: &NsNode| -> Vec<String> {
        node.chat(peer)
            .iter()
            .skip(1)
            .map(|m| m["state"].as_str().expect("state").to_owned())
            .collect()
    };
    eventually_within(
        NET_PATIENCE,
        "the 5 messages are stored by the mailbox",
        || {
            let states = states(&b, &a);
            (states.len() == MAIL && states.iter().all(|s| s == "stored")).then_some(())
        },
    );
    b.stop();

    let back = Instant::now();
    a.start();
    // The node fetches by itself at start; this only makes sure.
    a.ok(&["mailbox", "fetch"]);
    let mut expected = vec!["are you there?"];
    expected.extend(sent.iter().map(String::as_str));
    let chat = eventually_within(NET_PATIENCE, "hostA gets its mail", || {
        let chat = a.chat(&b);
        (chat.len() >= expected.len()).then_some(chat)
    });
    println!(
        "netns: {MAIL} messages from the mailbox stored {:?} after the recipient's daemon \
         started (start included)",
        back.elapsed()
    );
    a.wait_connected_to(&public);
    assert_eq!(texts(&chat), expected, "all of it, in order, once");
    // Fetching again brings no second copy.
    a.ok(&["mailbox", "fetch"]);
    let again = a.chat(&b);
    assert_eq!(
        texts(&again),
        expected,
        "no duplicates after a second fetch"
    );
    for m in &again {
        assert_eq!(m["from"], b.peer_id.as_str());
        assert_eq!(m["state"], "received");
    }

    b.start();
    eventually_within(NET_PATIENCE, "hostB sees its mail delivered", || {
        let states = states(&b, &a);
        (states.len() == MAIL && states.iter().all(|s| s == "delivered" || s == "seen"))
            .then_some(())
    });
    let mine = b.chat(&a);
    assert_eq!(texts(&mine), expected);
}
