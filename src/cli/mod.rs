//! The command line: `paperplane init` and `paperplane daemon` work on the home directory
//! directly; every other command is a thin client of the daemon's local API
//! ([`crate::client::Client`]).
//!
//! Layout: this file parses arguments (clap) and runs each command; [`daemon`] hosts the node
//! and [`notify`] runs its notification command; [`print`] renders views for people;
//! [`format`] holds the pure formatting helpers.
//! Errors are `anyhow` here, at the binary's edge, and end as one line on stderr.

pub mod business;
mod chat;
mod chat_photo;
pub mod daemon;
pub mod format;
pub mod group;
pub mod notify;
mod open;
pub mod print;

use std::{
    collections::HashMap,
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{bail, Context};
use clap::{ArgGroup, Args, Parser, Subcommand};
use futures::StreamExt;
use paperplane::{
    api::types::{NewMessage, ProfilePatch},
    event::Event,
    home::Home,
    protocol::{limits::MAX_PHOTO_BYTES, PhotoRef, ValidationError},
};
use serde::Serialize;

use crate::client::{encode_base64, Client};

pub use daemon::DaemonArgs;

/// `paperplane`: a peer-to-peer photo feed and end-to-end encrypted messenger. Run
/// `paperplane init` once, keep `paperplane daemon` running, and use the other commands from
/// another terminal.
#[derive(Debug, Parser)]
#[command(
    name = "paperplane",
    version,
    about = "paperplane node: store, network, actor, library API, daemon and CLI.",
    max_term_width = 100
)]
pub struct Cli {
    /// Home directory (identity, store, API token). Default: $PAPERPLANE_HOME, else the
    /// platform data directory.
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Print JSON instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `paperplane mailbox …`.
#[derive(Debug, Clone, Subcommand)]
pub enum MailboxCommand {
    /// Name the nodes that keep your mail while you are offline (at most four; none to stop):
    /// your own always-on node, or people who agreed with `mailbox keep-for`. Published in
    /// your profile; senders who cannot reach you leave sealed messages there.
    Use {
        /// Peer ids or @handles.
        peers: Vec<String>,
    },
    /// Keep mail for PEER while they are offline (ciphertext only; quotas, 30-day expiry).
    KeepFor {
        /// Peer id or @handle.
        peer: String,
    },
    /// Stop keeping mail for PEER and delete what is held for them.
    StopKeeping {
        /// Peer id or @handle.
        peer: String,
    },
    /// Ask your mailboxes for mail now (it also happens when one connects, and every few
    /// minutes).
    Fetch,
}

/// The commands. PEER is a peer id or `@handle`; POST and COMMENT are ids or unique prefixes
/// of at least 6 hex digits. TARGET is a peer or a group: `#NAME` (or `#ID`) is always a
/// group, `@handle` or a peer id always a peer, and any other word a peer if a known profile
/// has that handle, else a group by name or id prefix.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an identity and its first profile in the home directory; prints the peer id.
    Init {
        /// Handle: 1–30 of a-z 0-9 . _
        #[arg(long)]
        handle: String,
        /// Display name.
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
    },
    /// Run the node and its local API in the foreground until Ctrl-C or SIGTERM.
    Daemon(DaemonArgs),
    /// Peer id, handle, listen addresses and connected peers.
    Status,
    /// Dial a peer (a multiaddr, e.g. one from its `status`).
    Connect {
        /// The address, ideally ending in /p2p/<peer-id>; or a bare peer id, looked up in
        /// the DHT (its signed address record, relayed addresses included).
        multiaddr: String,
    },
    /// Re-run the DHT bootstrap from the peers known; prints the routing table's size.
    Bootstrap,
    /// Open the web app (inbox, chats, feed) in your browser, signed in: through $BROWSER or
    /// the desktop's opener, with a one-time link that works for two minutes. Where no
    /// browser can be started, prints the link instead.
    Open {
        /// Print the link instead of starting a browser.
        #[arg(long)]
        print: bool,
    },
    /// Show or change profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Post 1–10 photos (JPEG, PNG or WebP, 8 MiB each at most); prints the post's id.
    Post {
        /// The photo files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The caption.
        #[arg(long, value_name = "TEXT", default_value = "")]
        caption: String,
    },
    /// Follow a peer: their posts join your feed.
    Follow {
        /// Peer id or @handle.
        peer: String,
    },
    /// Stop following a peer.
    Unfollow {
        /// Peer id or @handle.
        peer: String,
    },
    /// Whom you follow.
    Following,
    /// Who follows you.
    Followers,
    /// Your and followed people's posts, newest first, with likes and comments.
    Feed {
        /// How many posts at most (1–1000; default 50).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Like a post.
    Like {
        /// Post id or unique prefix.
        post: String,
    },
    /// Take back a like.
    Unlike {
        /// Post id or unique prefix.
        post: String,
    },
    /// Comment on a post; prints the comment's id.
    Comment {
        /// Post id or unique prefix.
        post: String,
        /// The comment.
        text: String,
    },
    /// Delete one of your comments.
    Uncomment {
        /// Comment id or unique prefix.
        comment: String,
    },
    /// Save the photo of a chat message (once fetched and decrypted) to a file.
    ChatPhoto {
        /// The message's id (as `chat` shows it in full with `--json`).
        id: String,
        /// Where to write it; `-` for standard output.
        #[arg(long, short, value_name = "FILE")]
        out: PathBuf,
    },
    /// Save a photo (fetched from peers if needed) to a file.
    Photo {
        /// Hex SHA-256 of the photo (as `feed` shows it).
        hash: String,
        /// Where to write it; `-` for standard output.
        #[arg(long, short, value_name = "FILE")]
        out: PathBuf,
    },
    /// Send an end-to-end encrypted direct message; prints its id and state.
    ///
    /// The state is `delivered` if the peer acknowledged it within a moment, else `pending`:
    /// it waits in the outbox, across restarts, until the peer is reachable. Exits non-zero
    /// if the message failed (refused by the peer).
    ///
    /// With `--photo FILE` it sends a photo (JPEG, PNG or WebP, at most 8 MiB), the text
    /// being its caption: sealed under a fresh key, fetched by the peer from this node;
    /// for a large photo the peer's progress is shown.
    ///
    /// TARGET may be a group (`#NAME`, its name or id prefix): the message goes to every
    /// member (texts and replies; not photos or quick replies).
    Send {
        /// Peer id, @handle, or a group (`#NAME`).
        #[arg(value_name = "TARGET")]
        peer: String,
        /// The text (4,096 bytes at most; any emoji); it may start with `-`. Optional with
        /// `--photo`.
        #[arg(allow_hyphen_values = true, required_unless_present_any = ["template", "photo"])]
        text: Option<String>,
        /// Send the quick reply NAME instead of a text (see `reply-template`).
        #[arg(long, value_name = "NAME", conflicts_with_all = ["text", "photo"])]
        template: Option<String>,
        /// A photo to send, with the text as its caption.
        #[arg(long, value_name = "FILE")]
        photo: Option<PathBuf>,
        /// Wait until the message is delivered or has failed.
        #[arg(long)]
        wait: bool,
        /// Return as soon as the message is queued, without waiting a moment for the
        /// acknowledgement (for scripts sending many messages).
        #[arg(long, conflicts_with = "wait")]
        no_wait: bool,
        /// Reply to this message (its id or a unique prefix, as `chat` shows it): the reply
        /// quotes it.
        #[arg(long, value_name = "MSG")]
        reply_to: Option<String>,
    },
    /// React to a message with one emoji (❤️ by default: a like); the same again takes it
    /// back. Shortcodes like :fire: work. A message of a group chat is found among your
    /// groups (or give --group).
    React {
        /// Message id or unique prefix (as `chat` shows it).
        message: String,
        /// One emoji or :shortcode:.
        #[arg(default_value = "❤️")]
        emoji: String,
        /// The group chat the message is in.
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
    },
    /// Take back your reaction to a message.
    Unreact {
        /// Message id or unique prefix.
        message: String,
        /// The group chat the message is in.
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
    },
    /// Unsend one of your messages, for everyone in the chat.
    Unsend {
        /// Message id or unique prefix.
        message: String,
        /// The group chat the message is in.
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
    },
    /// Edit one of your messages (within 15 minutes of sending it).
    Edit {
        /// Message id or unique prefix.
        message: String,
        /// The new text; it may start with `-`.
        #[arg(allow_hyphen_values = true)]
        text: String,
        /// The group chat the message is in.
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
    },
    /// Send a post into a chat (the paper plane). Without --to, lists the people you
    /// follow, most recently messaged first.
    Share {
        /// Post id or unique prefix.
        post: String,
        /// Peer id, @handle, or a group (`#NAME`).
        #[arg(long, value_name = "TARGET")]
        to: Option<String>,
        /// What to write with it.
        #[arg(long, value_name = "TEXT", default_value = "")]
        text: String,
    },
    /// Read receipts and typing indicators: show them, or switch them on or off, for
    /// every chat or (with --peer) for one.
    Receipts {
        /// `on`, `off`, or (with --peer) `default` to follow the global switch; nothing
        /// to show the global switch.
        #[arg(value_parser = ["on", "off", "default"])]
        switch: Option<String>,
        /// Only the chat with this peer.
        #[arg(long, value_name = "PEER")]
        peer: Option<String>,
    },
    /// Conversations, newest first, with unread counts and the last message.
    Inbox {
        /// Only the chats with this label.
        #[arg(long, value_name = "NAME")]
        label: Option<String>,
    },
    /// The messages with a peer or in a group, oldest first; marks the chat read. A group
    /// chat shows who wrote each message and who has seen yours.
    Chat {
        /// Peer id, @handle, or a group (`#NAME`).
        #[arg(value_name = "TARGET")]
        peer: String,
        /// How many of the newest messages (1–10000; default 50).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Only messages older than this one (a message id): the page before.
        #[arg(long, value_name = "ID")]
        before: Option<String>,
        /// Keep showing the chat live (new messages, reactions, edits, seen, typing) and
        /// send each line typed as a message, until Ctrl-D or Ctrl-C.
        #[arg(long, conflicts_with = "before")]
        follow: bool,
    },
    /// Message requests: first messages from people you don't follow (and groups they
    /// added you to).
    Requests,
    /// Group chats: create, change, show and list them.
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Mailboxes: nodes that keep your mail while you are offline, and keeping mail for
    /// others. Without a subcommand, shows both.
    Mailbox {
        /// What to do.
        #[command(subcommand)]
        command: Option<MailboxCommand>,
    },
    /// Accept a message request: the chat moves to the inbox.
    Accept {
        /// Peer id or @handle.
        peer: String,
    },
    /// Decline a message request: the chat and its messages are deleted.
    Decline {
        /// Peer id or @handle.
        peer: String,
    },
    /// Block a peer: their messages are refused, their follows, likes and comments ignored.
    Block {
        /// Peer id or @handle.
        peer: String,
    },
    /// Unblock a peer.
    Unblock {
        /// Peer id or @handle.
        peer: String,
    },
    /// The peers you blocked.
    Blocked,
    /// The safety number of your and a peer's keys.
    ///
    /// Compare it with the one the peer sees (in person, or over a channel you trust): if
    /// they match, nobody sits in the middle of your messages.
    SafetyNumber {
        /// Peer id or @handle.
        peer: String,
    },
    /// Saved quick replies (`send PEER --template NAME` sends one).
    #[command(subcommand)]
    ReplyTemplate(business::ReplyTemplateCommand),
    /// Away messages for business accounts: an automatic answer while you are away.
    #[command(subcommand)]
    Away(business::AwayCommand),
    /// Your business profile's frequently asked questions, shown to people opening a first
    /// chat with you.
    #[command(subcommand)]
    Faq(business::FaqCommand),
    /// Add a label to a chat (to sort inquiries; `inbox --label NAME` lists them).
    Label {
        /// Peer id or @handle.
        peer: String,
        /// 1–32 of a-z 0-9 - _
        name: String,
    },
    /// Remove a label from a chat.
    Unlabel {
        /// Peer id or @handle.
        peer: String,
        /// The label.
        name: String,
    },
    /// Mute a chat: its messages still arrive, but the daemon's notification command is
    /// not run for them.
    Mute {
        /// Peer id or @handle.
        peer: String,
    },
    /// Unmute a chat.
    Unmute {
        /// Peer id or @handle.
        peer: String,
    },
    /// Search your messages (every conversation, both directions) for TEXT, ignoring case;
    /// newest first.
    Search {
        /// The text to look for.
        #[arg(allow_hyphen_values = true)]
        text: String,
        /// How many messages at most (1–1000; default 50).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Print live events (messages, message requests, deliveries, posts, likes, comments,
    /// follows, peers) until interrupted.
    Watch,
}

/// `paperplane profile …`.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Change your profile; fields not given stay as they are.
    Set(ProfileSet),
    /// Show your profile, or a peer's.
    Show {
        /// Peer id or @handle; default: yours.
        peer: Option<String>,
    },
}

/// `paperplane profile set` options.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["name", "bio", "avatar", "business", "no_business"])
))]
pub struct ProfileSet {
    /// Display name.
    #[arg(long, value_name = "TEXT")]
    pub name: Option<String>,
    /// Bio (150 characters at most).
    #[arg(long, value_name = "TEXT")]
    pub bio: Option<String>,
    /// Profile photo (JPEG, PNG or WebP).
    #[arg(long, value_name = "FILE")]
    pub avatar: Option<PathBuf>,
    /// Make this a business account in CATEGORY.
    #[arg(long, value_name = "CATEGORY", conflicts_with = "no_business")]
    pub business: Option<String>,
    /// Make this a personal account.
    #[arg(long)]
    pub no_business: bool,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let home = Home::resolve(cli.home)?;
    let out = Output { json: cli.json };
    match cli.command {
        Command::Init { handle, name } => {
            let peer = paperplane::init(&home, &handle, name.as_deref())?;
            out.value(
                &serde_json::json!({ "id": peer, "peer_id": peer, "handle": handle }),
                || format!("{peer}\n"),
            )
        }
        Command::Daemon(args) => daemon::run(home, args, cli.json).await,
        command => {
            let client = Client::for_home(&home)?;
            run_client(&client, command, out).await
        }
    }
}

/// The commands that talk to the daemon.
async fn run_client(client: &Client, command: Command, out: Output) -> anyhow::Result<()> {
    let now = now_ms();
    match command {
        Command::Init { .. } | Command::Daemon(_) => {
            bail!("`init` and `daemon` work on the home directory, not through a daemon")
        }
        Command::Status => {
            let s = client.status().await?;
            out.value(&s, || print::status(&s))
        }
        Command::Connect { multiaddr } => {
            let c = client.connect(&multiaddr).await?;
            out.value(&c, || format!("connected to {}\n", c.peer_id))
        }
        Command::Open { print } => open::run(client, print, out).await,
        Command::Bootstrap => {
            let b = client.bootstrap().await?;
            out.value(&b, || {
                format!(
                    "{} in the DHT routing table\n",
                    format::count(b.dht_peers, "peer")
                )
            })
        }
        Command::Profile(ProfileCommand::Show { peer }) => {
            let p = client.profile(peer.as_deref()).await?;
            out.value(&p, || print::profile(&p, now))
        }
        Command::Profile(ProfileCommand::Set(set)) => {
            let avatar = set.avatar.as_deref().map(read_photo).transpose()?;
            let patch = ProfilePatch {
                display_name: set.name,
                bio: set.bio,
                avatar_base64: avatar.as_deref().map(encode_base64),
                business_category: match (set.business, set.no_business) {
                    (Some(c), _) => Some(Some(c)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
            };
            let p = client.set_profile(&patch).await?;
            out.value(&p, || print::profile(&p, now))
        }
        Command::Post { files, caption } => {
            let photos = files
                .iter()
                .map(|f| read_photo(f))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let created = client.post(&photos, &caption).await?;
            out.value(&created, || format!("{}\n", created.id))
        }
        Command::Follow { peer } => {
            let f = client.follow(&peer).await?;
            out.value(&f, || {
                format!(
                    "following {}\n",
                    print::peer(&f.peer_id, f.handle.as_deref())
                )
            })
        }
        Command::Unfollow { peer } => {
            let f = client.unfollow(&peer).await?;
            out.value(&f, || {
                format!(
                    "no longer following {}\n",
                    print::peer(&f.peer_id, f.handle.as_deref())
                )
            })
        }
        Command::Following => {
            let list = client.following().await?;
            out.value(&list, || {
                print::follows(&list, now, "you follow nobody yet")
            })
        }
        Command::Followers => {
            let list = client.followers().await?;
            out.value(&list, || {
                print::follows(&list, now, "nobody follows you yet")
            })
        }
        Command::Feed { limit } => {
            let posts = client.feed(limit).await?;
            out.value(&posts, || print::feed(&posts, now))
        }
        Command::Like { post } => {
            let l = client.like(&post).await?;
            out.value(&l, || {
                format!("liked {}\n", format::short_id(&l.post.to_hex()))
            })
        }
        Command::Unlike { post } => {
            let l = client.unlike(&post).await?;
            out.value(&l, || {
                format!("unliked {}\n", format::short_id(&l.post.to_hex()))
            })
        }
        Command::Comment { post, text } => {
            let created = client.comment(&post, &text).await?;
            out.value(&created, || format!("{}\n", created.id))
        }
        Command::Uncomment { comment } => {
            let d = client.delete_comment(&comment).await?;
            out.value(&d, || {
                format!("deleted comment {}\n", format::short_id(&d.id.to_hex()))
            })
        }
        Command::Photo { hash, out: path } => save_photo(client, &hash, &path, out).await,
        Command::Group(c) => group::run(client, c, out, now).await,
        Command::Mailbox { command } => {
            let view = match command {
                None => client.mailboxes().await?,
                Some(MailboxCommand::Use { peers }) => client.set_mailboxes(&peers).await?,
                Some(MailboxCommand::KeepFor { peer }) => client.keep_mail_for(&peer, true).await?,
                Some(MailboxCommand::StopKeeping { peer }) => {
                    client.keep_mail_for(&peer, false).await?
                }
                Some(MailboxCommand::Fetch) => {
                    let f = client.fetch_mail().await?;
                    return out.value(&f, || {
                        format!("asked {}\n", format::count(f.asked, "mailbox"))
                    });
                }
            };
            out.value(&view, || print::mailboxes(&view))
        }
        Command::Watch => watch(client, out).await,
        Command::Send {
            peer,
            text,
            template,
            photo,
            wait,
            no_wait,
            reply_to,
        } => {
            let how = match (wait, no_wait) {
                (true, _) => Wait::UntilSettled,
                (false, true) => Wait::No,
                (false, false) => Wait::Moment,
            };
            let peer = match group::target(client, &peer).await? {
                group::Target::Peer(p) => p,
                group::Target::Group(g) => {
                    if photo.is_some() || template.is_some() {
                        bail!("a group chat takes texts and replies, not photos or quick replies (yet)");
                    }
                    let Some(text) = text else {
                        bail!("give a text");
                    };
                    return send_to_group(client, &g, &text, reply_to.as_deref(), how, out).await;
                }
            };
            if let Some(path) = photo {
                if reply_to.is_some() {
                    bail!("--reply-to answers with a text, not a photo");
                }
                let text = text.unwrap_or_default();
                let sent =
                    chat_photo::send_photo(client, &peer, &path, &text, how.wait_ms(), out).await?;
                return settled(&sent, how);
            }
            let what = match (text, template, reply_to) {
                (Some(_), Some(_), _) => bail!("give a text or --template NAME, not both"),
                (_, Some(_), Some(_)) => bail!("--reply-to needs a text, not a template"),
                (_, Some(name), None) => Sending::Template(name),
                (Some(text), None, None) => Sending::Text(text),
                (Some(text), None, Some(original)) => Sending::Reply { text, original },
                (None, None, _) => bail!("give a text, or --template NAME"),
            };
            send(client, &peer, &what, how, out).await
        }
        Command::ChatPhoto { id, out: path } => {
            chat_photo::save_chat_photo(client, &id, &path, out).await
        }
        Command::React {
            message,
            emoji,
            group,
        } => {
            let change = group::Change::React(Some(&emoji));
            let m = group::change_message(client, &message, group.as_deref(), change).await?;
            out.value(&m, || chat::changed(&m))
        }
        Command::Unreact { message, group } => {
            let change = group::Change::Unreact;
            let m = group::change_message(client, &message, group.as_deref(), change).await?;
            out.value(&m, || chat::changed(&m))
        }
        Command::Unsend { message, group } => {
            let change = group::Change::Unsend;
            let m = group::change_message(client, &message, group.as_deref(), change).await?;
            out.value(&m, || chat::changed(&m))
        }
        Command::Edit {
            message,
            text,
            group,
        } => {
            let change = group::Change::Edit(&text);
            let m = group::change_message(client, &message, group.as_deref(), change).await?;
            out.value(&m, || chat::changed(&m))
        }
        Command::Share { post, to, text } => {
            chat::share(client, &post, to.as_deref(), &text, now, out).await
        }
        Command::Receipts { switch, peer } => {
            chat::receipts(client, switch.as_deref(), peer.as_deref(), out).await
        }
        Command::Inbox { label } => {
            let chats = match &label {
                Some(l) => client.labelled(l).await?,
                None => client.inbox().await?,
            };
            if out.json {
                return out.value(&chats, String::new);
            }
            let requests = client.requests().await?.len();
            out.value(&chats, || print::inbox(&chats, requests, now))
        }
        Command::Requests => {
            let chats = client.requests().await?;
            out.value(&chats, || print::requests(&chats, now))
        }
        Command::Chat {
            peer,
            limit,
            before,
            follow,
        } => {
            let peer = match group::target(client, &peer).await? {
                group::Target::Peer(p) => p,
                group::Target::Group(g) => {
                    if follow {
                        bail!("--follow is for 1:1 chats, not groups (yet)");
                    }
                    let id = g.id.to_hex();
                    let messages = match &before {
                        Some(before) => {
                            let before = client.group_message(&id, before).await?.id.to_hex();
                            client.group_chat_before(&id, &before, limit).await?
                        }
                        None => client.group_chat(&id, limit, true).await?,
                    };
                    return out.value(&messages, || group::chat(&g, &messages, now));
                }
            };
            if follow {
                return chat::follow(client, &peer, limit, out).await;
            }
            chat_with(client, &peer, limit, before, out, now).await
        }
        Command::Accept { peer } => {
            let d = client.accept(&peer).await?;
            out.value(&d, || {
                format!(
                    "accepted {}: the chat is in your inbox\n",
                    print::peer(&d.peer_id, d.handle.as_deref())
                )
            })
        }
        Command::Decline { peer } => {
            let d = client.decline(&peer).await?;
            out.value(&d, || {
                format!(
                    "declined {}: the request and its messages are deleted\n",
                    print::peer(&d.peer_id, d.handle.as_deref())
                )
            })
        }
        Command::Block { peer } => {
            let b = client.block(&peer).await?;
            out.value(&b, || {
                format!("blocked {}\n", print::peer(&b.peer_id, b.handle.as_deref()))
            })
        }
        Command::Unblock { peer } => {
            let b = client.unblock(&peer).await?;
            out.value(&b, || {
                format!(
                    "unblocked {}\n",
                    print::peer(&b.peer_id, b.handle.as_deref())
                )
            })
        }
        Command::Blocked => {
            let list = client.blocked().await?;
            out.value(&list, || print::blocked(&list))
        }
        Command::ReplyTemplate(c) => {
            business::run(client, business::BusinessCommand::Template(c), out, now).await
        }
        Command::Away(c) => {
            business::run(client, business::BusinessCommand::Away(c), out, now).await
        }
        Command::Faq(c) => business::run(client, business::BusinessCommand::Faq(c), out, now).await,
        Command::Label { peer, name } => {
            let c = business::BusinessCommand::Label {
                peer,
                name,
                on: true,
            };
            business::run(client, c, out, now).await
        }
        Command::Unlabel { peer, name } => {
            let c = business::BusinessCommand::Label {
                peer,
                name,
                on: false,
            };
            business::run(client, c, out, now).await
        }
        Command::Mute { peer } => {
            let c = business::BusinessCommand::Mute { peer, muted: true };
            business::run(client, c, out, now).await
        }
        Command::Unmute { peer } => {
            let c = business::BusinessCommand::Mute { peer, muted: false };
            business::run(client, c, out, now).await
        }
        Command::Search { text, limit } => {
            let c = business::BusinessCommand::Search { text, limit };
            business::run(client, c, out, now).await
        }
        Command::SafetyNumber { peer } => {
            let n = client.safety_number(&peer).await?;
            out.value(&n, || print::safety_number(&n))
        }
    }
}

/// How long `paperplane send` asks the daemon to wait for the acknowledgement: the library's
/// wait policy, passed through the API's `wait_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// Not at all (`--no-wait`): `wait_ms` 0.
    No,
    /// The daemon's "moment" (the default): no `wait_ms`.
    Moment,
    /// Until delivered or failed (`--wait`): the longest wait the API allows (24 h).
    UntilSettled,
}

impl Wait {
    fn wait_ms(self) -> Option<u64> {
        match self {
            Self::No => Some(0),
            Self::Moment => None,
            Self::UntilSettled => Some(NewMessage::MAX_WAIT_MS),
        }
    }
}

/// What `paperplane send` sends.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sending {
    /// A text.
    Text(String),
    /// A text answering message `original` (an id or unique prefix).
    Reply {
        /// The text.
        text: String,
        /// The message answered.
        original: String,
    },
    /// A quick reply, by name.
    Template(String),
}

/// `paperplane send`: prints the id and state; fails if the message did.
async fn send(
    client: &Client,
    peer: &str,
    what: &Sending,
    wait: Wait,
    out: Output,
) -> anyhow::Result<()> {
    let message = match what {
        Sending::Text(text) => client.send_message(peer, text, wait.wait_ms()).await?,
        Sending::Reply { text, original } => {
            client
                .send_reply(peer, text, original, wait.wait_ms())
                .await?
        }
        Sending::Template(name) => client.send_quick_reply(name, peer, wait.wait_ms()).await?,
    };
    if wait == Wait::UntilSettled && message.state == "pending" {
        bail!(
            "message {} is still pending (the daemon stopped, or 24 hours passed); it stays queued",
            format::short_id(&message.id.to_hex())
        );
    }
    out.value(&message, || print::sent(&message))?;
    settled(&message, wait)
}

/// `paperplane chat PEER`: the 1:1 chat, oldest first; marks it read.
async fn chat_with(
    client: &Client,
    peer: &str,
    limit: Option<usize>,
    before: Option<String>,
    out: Output,
    now: u64,
) -> anyhow::Result<()> {
    let messages = client.chat(peer, limit, before.as_deref()).await?;
    if out.json {
        return out.value(&messages, String::new);
    }
    let (handle, request, key_changed_at) = match messages.first() {
        Some(m) => {
            let id = m.peer.to_string();
            let handle = client.resolve(&id).await?.handle;
            let requests = client.requests().await?;
            let request = requests.iter().any(|c| c.peer == m.peer);
            let inbox = client.inbox().await?;
            let key_changed_at = requests
                .iter()
                .chain(&inbox)
                .find(|c| c.peer == m.peer)
                .and_then(|c| c.key_changed_at);
            (handle, request, key_changed_at)
        }
        None => (None, false, None),
    };
    if messages.is_empty() && before.is_none() {
        // A first chat: what a business answers before anyone asks.
        let faq = client.profile(Some(peer)).await?.faq;
        if !faq.is_empty() {
            let text = format!("frequently asked questions:\n{}", business::faq(&faq));
            write_stdout(text.as_bytes())?;
        }
    }
    out.value(&messages, || {
        print::chat(&messages, handle.as_deref(), request, key_changed_at, now)
    })
}

/// `paperplane send GROUP TEXT [--reply-to MSG]`: prints the id and state; fails if the
/// message failed for every member.
async fn send_to_group(
    client: &Client,
    g: &paperplane::GroupView,
    text: &str,
    reply_to: Option<&str>,
    wait: Wait,
    out: Output,
) -> anyhow::Result<()> {
    let wait_ms = match wait {
        Wait::Moment => None,
        other => other.wait_ms(),
    };
    let message = client
        .send_group_message(&g.id.to_hex(), text, reply_to, wait_ms)
        .await?;
    out.value(&message, || print::sent(&message))?;
    settled(&message, wait)
}

/// Fails if `message` failed, or is still pending after a wait until it settled.
fn settled(message: &paperplane::MessageView, wait: Wait) -> anyhow::Result<()> {
    if wait == Wait::UntilSettled && message.state == "pending" {
        bail!(
            "message {} is still pending (the daemon stopped, or 24 hours passed); it stays queued",
            format::short_id(&message.id.to_hex())
        );
    }
    if message.state == "failed" {
        bail!(
            "message {} was not delivered: {}",
            format::short_id(&message.id.to_hex()),
            message.error.as_deref().unwrap_or("no reason given")
        );
    }
    Ok(())
}

/// Reads a photo file and checks it with the library's rules, naming the file on failure.
fn read_photo(path: &Path) -> anyhow::Result<Vec<u8>> {
    let shown = path.display();
    let meta = fs::metadata(path).with_context(|| format!("{shown}"))?;
    if !meta.is_file() {
        bail!("{shown}: not a file");
    }
    if meta.len() > MAX_PHOTO_BYTES {
        let e = ValidationError::PhotoTooLarge {
            size: meta.len(),
            max: MAX_PHOTO_BYTES,
        };
        bail!("{shown}: {e}");
    }
    let bytes = fs::read(path).with_context(|| format!("{shown}"))?;
    PhotoRef::for_bytes(&bytes).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    Ok(bytes)
}

async fn save_photo(client: &Client, hash: &str, path: &Path, out: Output) -> anyhow::Result<()> {
    let (bytes, mime) = client.photo(hash).await?;
    if path == Path::new("-") {
        return write_stdout(&bytes);
    }
    fs::write(path, &bytes).with_context(|| format!("{}", path.display()))?;
    let saved = serde_json::json!({
        "hash": hash.to_ascii_lowercase(),
        "path": path,
        "size": bytes.len(),
        "mime": mime,
    });
    out.value(&saved, || {
        format!(
            "saved {} ({mime}, {}) to {}\n",
            format::short_id(hash),
            format::size(bytes.len() as u64),
            path.display()
        )
    })
}

async fn watch(client: &Client, out: Output) -> anyhow::Result<()> {
    let mut handles: HashMap<_, _> = client
        .profiles()
        .await?
        .into_iter()
        .map(|p| (p.peer_id, p.handle))
        .collect();
    let mut events = client.events().await?;
    if !out.json {
        eprintln!("watching events; stop with Ctrl-C");
    }
    while let Some(event) = events.next().await {
        let event = event?;
        match &event {
            Event::Profile { profile } => {
                handles.insert(profile.peer_id, profile.handle.clone());
            }
            Event::Post { post } => {
                if let Some(h) = &post.author_handle {
                    handles.insert(post.author, h.clone());
                }
            }
            _ => {}
        }
        if out.json {
            let mut line = serde_json::to_string(&event)?;
            line.push('\n');
            write_stdout(line.as_bytes())?;
        } else {
            write_stdout(print::event(&event, &handles).as_bytes())?;
        }
    }
    bail!("the daemon stopped, so the event stream ended")
}

/// The wall clock in milliseconds since the Unix epoch: the "now" of relative times.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// An error and its causes on one line, each cause only if the text before it does not
/// already say it.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut message = e.to_string();
    for cause in e.chain().skip(1).map(ToString::to_string) {
        if !message.contains(&cause) {
            message = format!("{message}: {cause}");
        }
    }
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How results are printed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    pub(crate) json: bool,
}

impl Output {
    /// Prints `value` as JSON with `--json`, else the text `human` makes.
    pub(crate) fn value<T: Serialize>(
        self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            let mut text = serde_json::to_string_pretty(value)?;
            text.push('\n');
            write_stdout(text.as_bytes())
        } else {
            write_stdout(human().as_bytes())
        }
    }
}

/// Writes to standard output; a closed pipe (`paperplane feed | head`) ends the process
/// quietly, as other command-line tools do.
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn profile_set_needs_a_change_and_one_business_flag() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        assert!(parse(&["paperplane", "profile", "set"]).is_err());
        assert!(parse(&[
            "paperplane",
            "profile",
            "set",
            "--business",
            "x",
            "--no-business"
        ])
        .is_err());
        assert!(parse(&["paperplane", "profile", "set", "--no-business"]).is_ok());
        assert!(parse(&["paperplane", "--json", "profile", "set", "--bio", "hi"]).is_ok());
        assert!(parse(&["paperplane", "post", "--caption", "x"]).is_err());
        let cli = parse(&["paperplane", "feed", "--limit", "3", "--home", "/h"]).expect("ok");
        assert_eq!(cli.home, Some(PathBuf::from("/h")));
    }

    #[test]
    fn message_commands_and_the_notification_command_parse() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let cli = parse(&["paperplane", "send", "@bob", "-- hi --wait", "--wait"]).expect("ok");
        assert!(matches!(
            cli.command,
            Command::Send { ref peer, ref text, wait: true, no_wait: false, photo: None, reply_to: None, .. }
                if peer == "@bob" && text.as_deref() == Some("-- hi --wait")
        ));
        assert!(parse(&["paperplane", "send", "@bob", "x", "--no-wait"]).is_ok());
        assert!(parse(&["paperplane", "send", "@bob", "x", "--no-wait", "--wait"]).is_err());
        assert!(parse(&["paperplane", "send", "@bob"]).is_err());
        let cli = parse(&["paperplane", "send", "@bob", "-1"]).expect("ok");
        assert!(matches!(
            cli.command,
            Command::Send { ref text, wait: false, .. } if text.as_deref() == Some("-1")
        ));
        // A photo needs no text; a caption may follow it.
        let cli = parse(&["paperplane", "send", "@bob", "--photo", "cat.png"]).expect("ok");
        assert!(matches!(
            cli.command,
            Command::Send { text: None, photo: Some(ref p), .. } if p == Path::new("cat.png")
        ));
        let cli = parse(&["paperplane", "send", "@bob", "--photo", "c.png", "hi"]).expect("ok");
        assert!(matches!(
            cli.command,
            Command::Send { text: Some(ref t), photo: Some(_), .. } if t == "hi"
        ));
        let cli = parse(&["paperplane", "chat-photo", "ab12", "--out", "-"]).expect("ok");
        assert!(matches!(cli.command, Command::ChatPhoto { ref id, .. } if id == "ab12"));
        let cli = parse(&["paperplane", "chat", "@bob", "--limit", "1000", "--json"]).expect("ok");
        assert!(cli.json);
        assert!(matches!(
            cli.command,
            Command::Chat {
                limit: Some(1000),
                ..
            }
        ));
        let cli = parse(&[
            "paperplane",
            "daemon",
            "--no-mdns",
            "--",
            "notify-send",
            "--urgency=low",
            "--",
            "{sender}",
            "{preview}",
        ])
        .expect("ok");
        let Command::Daemon(args) = cli.command else {
            panic!("not the daemon")
        };
        assert!(args.no_mdns);
        assert_eq!(
            args.notify_command,
            [
                "notify-send",
                "--urgency=low",
                "--",
                "{sender}",
                "{preview}"
            ],
            "the command's own `--` reaches it"
        );
        assert!(parse(&["paperplane", "daemon", "--no-notify", "--", "x"]).is_err());
        assert!(parse(&["paperplane", "safety-number", "@bob"]).is_ok());
    }

    #[test]
    fn group_commands_parse() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let cli =
            parse(&["paperplane", "group", "create", "climbing", "@ben", "@cleo"]).expect("ok");
        assert!(matches!(
            cli.command,
            Command::Group(group::GroupCommand::Create { ref name, ref peers })
                if name == "climbing" && peers.len() == 2
        ));
        assert!(parse(&["paperplane", "group", "create", "climbing"]).is_err());
        assert!(parse(&["paperplane", "group", "add", "climbing"]).is_err());
        assert!(parse(&["paperplane", "group", "info", "climbing", "--json"]).is_ok());
        assert!(parse(&["paperplane", "group", "list"]).is_ok());
        let cli = parse(&[
            "paperplane",
            "react",
            "ab12cd",
            "🔥",
            "--group",
            "#climbing",
        ])
        .expect("ok");
        assert!(matches!(
            cli.command,
            Command::React { group: Some(ref g), .. } if g == "#climbing"
        ));
        assert!(parse(&["paperplane", "edit", "ab12cd", "-x", "--group", "g"]).is_ok());
        assert!(parse(&["paperplane", "send", "#climbing", "hi"]).is_ok());
    }

    #[test]
    fn errors_become_one_line_without_repeated_causes() {
        let io = io::Error::new(io::ErrorKind::AddrInUse, "in use");
        let e = anyhow::Error::new(io).context("binding: in use");
        assert_eq!(error_line(&e), "binding: in use");
        let e = anyhow::anyhow!("root\ncause").context("reading a.png");
        assert_eq!(error_line(&e), "reading a.png: root cause");
    }

    #[test]
    fn photo_files_are_checked_and_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = dir.path().join("notes.txt");
        fs::write(&text, "hello").expect("write");
        let err = read_photo(&text).expect_err("not an image").to_string();
        assert!(
            err.contains("notes.txt") && err.contains("not a JPEG"),
            "{err}"
        );
        let big = dir.path().join("big.png");
        let f = fs::File::create(&big).expect("create");
        f.set_len(MAX_PHOTO_BYTES + 1).expect("grow");
        let err = read_photo(&big).expect_err("too big").to_string();
        assert!(err.contains("big.png") && err.contains("exceeds"), "{err}");
        let missing = dir.path().join("gone.jpg");
        let err = format!("{:#}", read_photo(&missing).expect_err("missing"));
        assert!(err.contains("gone.jpg"), "{err}");
        let png = dir.path().join("ok.png");
        fs::write(&png, b"\x89PNG\r\n\x1a\nrest").expect("write");
        assert!(read_photo(&png).is_ok());
    }
}
