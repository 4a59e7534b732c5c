//! `paperplane daemon`: runs a [`Node`] and serves its local API in the foreground until
//! SIGINT or SIGTERM, then stops both and removes `<home>/api.addr`. With a notification
//! command it also runs that for each new message ([`super::notify`]).

use anyhow::Context;
use clap::Args;
use paperplane::{
    api::{server::parse_api_addr, Server, DEFAULT_API_ADDR},
    config::NodeConfig,
    home::Home,
    node::Node,
};

use super::notify::Notifier;

/// Options of `paperplane daemon`; each overrides the config file.
#[derive(Debug, Clone, Default, Args)]
pub struct DaemonArgs {
    /// Multiaddr to listen on (repeatable). Default: an ephemeral TCP and QUIC port on all
    /// interfaces, or `listen` in the config file.
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Peer to dial at start (repeatable).
    #[arg(long, value_name = "MULTIADDR")]
    pub connect: Vec<String>,
    /// Bootstrap peer, `…/p2p/<peer-id>` (repeatable); replaces `bootstrap` in the config.
    #[arg(long, value_name = "MULTIADDR")]
    pub bootstrap: Vec<String>,
    /// Turn off LAN discovery by mDNS.
    #[arg(long)]
    pub no_mdns: bool,
    /// Relay for peers that are not publicly reachable (relay v2, with limits on
    /// reservations, circuits, their duration and bytes); also makes the node a DHT server.
    /// Off by default, or `relay_server` in the config file.
    #[arg(long)]
    pub relay_server: bool,
    /// Address of the local API, loopback only; port 0 picks a free port.
    /// Default: `api` in the config file, else 127.0.0.1:7878.
    #[arg(long, value_name = "HOST:PORT")]
    pub api: Option<String>,
    /// Run no notification command, not even the config file's `notify_command`.
    #[arg(long, conflicts_with = "notify_command")]
    pub no_notify: bool,
    /// Command to run for each new message, after `--`, e.g.
    /// `paperplane daemon -- notify-send -- {sender} {preview}`. It runs without a shell;
    /// in each argument {sender} (@handle), {preview} (the first 100 characters), {kind}
    /// (message or request), {peer} (peer id) and {id} (message id) are replaced, and the
    /// text always stays one argument; put `--` before the placeholders so that a text
    /// starting with `-` is not taken for an option (the values are also in the environment
    /// as PAPERPLANE_SENDER, PAPERPLANE_PREVIEW, …). Replaces `notify_command` in the config file (the
    /// same list there: `notify_command = ["notify-send", "--", "{sender}", "{preview}"]`).
    #[arg(last = true, value_name = "NOTIFY_COMMAND")]
    pub notify_command: Vec<String>,
}

/// Runs the daemon until a signal (or until the node stops by itself).
pub async fn run(home: Home, args: DaemonArgs, json: bool) -> anyhow::Result<()> {
    let file = home.load_config()?;
    let api = args
        .api
        .or(file.api)
        .unwrap_or_else(|| DEFAULT_API_ADDR.to_owned());
    // Refuse a bad API address before the node starts.
    parse_api_addr(&api)?;
    let mut config = NodeConfig::from_home(home.clone())?;
    if !args.listen.is_empty() {
        config.listen = args.listen;
    }
    if !args.bootstrap.is_empty() {
        config.bootstrap = args.bootstrap;
    }
    config.connect = args.connect;
    if args.no_mdns {
        config.mdns = false;
    }
    if args.relay_server {
        config.relay_server = true;
    }
    let notify_command = if args.no_notify {
        Vec::new()
    } else if args.notify_command.is_empty() {
        file.notify_command
    } else {
        args.notify_command
    };
    let mut signals = Signals::new().context("cannot install the signal handlers")?;

    let node = Node::start(config).await?;
    let server = match serve_prepare(&node, &home, &api).await {
        Ok(s) => s,
        Err(e) => {
            let _ = node.shutdown().await;
            return Err(e);
        }
    };
    let addr = server.local_addr();
    let shown_notify = format!("{notify_command:?}");
    let notifier = Notifier::new(notify_command).map(|n| n.spawn(node.clone()));
    match node.status().await {
        Ok(status) if json => {
            let banner = serde_json::json!({
                "peer_id": status.peer_id,
                "handle": status.handle,
                "api": addr.to_string(),
                "listen_addrs": status.listen_addrs,
            });
            println!("{banner}");
        }
        Ok(status) => {
            println!(
                "paperplane daemon for @{} ({})",
                status.handle, status.peer_id
            );
            println!(
                "api        http://{addr} (token in {})",
                home.token_path().display()
            );
            for (i, a) in status.listen_addrs.iter().enumerate() {
                println!("{}  {a}", if i == 0 { "listening" } else { "         " });
            }
            if notifier.is_some() {
                println!("notify     {shown_notify}");
            }
            println!("stop with Ctrl-C");
        }
        Err(e) => tracing::warn!(error = %e, "no status at start"),
    }

    let stopped = node.clone();
    let shutdown = async move {
        let signalled = tokio::select! {
            () = signals.recv() => true,
            () = stopped.stopped() => false,
        };
        if signalled {
            // A second signal stops at once, without waiting for a clean shutdown.
            tokio::spawn(async move {
                signals.recv().await;
                eprintln!("error: stopped without a clean shutdown");
                std::process::exit(130);
            });
        }
    };
    server.run(shutdown).await;
    let result = node.shutdown().await;
    if let Some(task) = notifier {
        // The task ends when the node has stopped.
        let _ = task.await;
    }
    home.clear_api_addr();
    result?;
    if !json {
        println!("paperplane daemon stopped");
    }
    Ok(())
}

/// Binds the API and records its address for the CLI.
async fn serve_prepare(node: &Node, home: &Home, api: &str) -> anyhow::Result<Server> {
    let server = Server::bind(node.clone(), api).await?;
    home.write_api_addr(&server.local_addr().to_string())?;
    Ok(server)
}

/// SIGINT and SIGTERM, installed up front so none is missed during start-up.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the next SIGINT or SIGTERM.
    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
