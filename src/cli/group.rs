//! Group chats on the command line: `paperplane group …` (create, change, show, list), and
//! what lets `send`, `share`, `chat`, `react`, `unreact`, `unsend` and `edit` take a group
//! where they take a peer or a message.
//!
//! A target (`send TARGET`, `chat TARGET`, `share --to TARGET`) is resolved like this:
//! `#REF` is always a group (REF: its name, id or a unique id prefix of 6+ hex digits);
//! `@handle` or a peer id (12D3KooW…) is always a peer; any other word is a peer if a known
//! profile has that handle, else a group by name or id prefix.

use anyhow::{anyhow, bail};
use clap::Subcommand;
use paperplane::{views::MessageView, GroupView, PeerId};

use super::{format, print, Output};
use crate::client::{Client, ClientError};

/// How a target was resolved.
#[derive(Debug)]
pub(crate) enum Target {
    /// A peer, by the reference given.
    Peer(String),
    /// A group.
    Group(Box<GroupView>),
}

/// `paperplane group …`.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group with you as its admin; prints its id.
    Create {
        /// The group's name (at most 100 characters).
        name: String,
        /// The other members: peer ids or @handles (their keys must be known: `connect`
        /// to them first).
        #[arg(required = true, value_name = "PEER")]
        peers: Vec<String>,
    },
    /// Add people to a group (admins only); they cannot read what was sent before.
    Add {
        /// The group: `#NAME`, its name, id or a unique id prefix.
        group: String,
        /// Peer ids or @handles.
        #[arg(required = true, value_name = "PEER")]
        peers: Vec<String>,
    },
    /// Remove a member (admins only); they cannot read what is sent after.
    Remove {
        /// The group.
        group: String,
        /// Peer id or @handle.
        peer: String,
    },
    /// Make a member an admin (admins only).
    Admin {
        /// The group.
        group: String,
        /// Peer id or @handle.
        peer: String,
    },
    /// Rename a group (admins only).
    Rename {
        /// The group.
        group: String,
        /// The new name.
        name: String,
    },
    /// Leave a group (if you were its only admin, another member becomes one).
    Leave {
        /// The group.
        group: String,
    },
    /// Accept a group you were added to by someone you don't follow: it moves to the inbox.
    Accept {
        /// The group.
        group: String,
    },
    /// A group's name, id, members (handles, admins), version, key epoch and your status.
    Info {
        /// The group.
        group: String,
    },
    /// Your groups, newest activity first.
    List,
}

/// Runs `paperplane group …`.
pub(crate) async fn run(
    client: &Client,
    command: GroupCommand,
    out: Output,
    now: u64,
) -> anyhow::Result<()> {
    match command {
        GroupCommand::Create { name, peers } => {
            let g = client.create_group(&name, &peers).await?;
            out.value(&g, || format!("{}\n", g.id))
        }
        GroupCommand::Add { group, peers } => {
            let id = group_id(client, &group).await?;
            let g = client.add_to_group(&id, &peers).await?;
            out.value(&g, || format!("{}\n", g.last_change))
        }
        GroupCommand::Remove { group, peer } => {
            let id = group_id(client, &group).await?;
            let g = client.remove_from_group(&id, &peer).await?;
            out.value(&g, || format!("{}\n", g.last_change))
        }
        GroupCommand::Admin { group, peer } => {
            let id = group_id(client, &group).await?;
            let g = client.make_group_admin(&id, &peer).await?;
            out.value(&g, || format!("{}\n", g.last_change))
        }
        GroupCommand::Rename { group, name } => {
            let id = group_id(client, &group).await?;
            let g = client.rename_group(&id, &name).await?;
            out.value(&g, || format!("{}\n", g.last_change))
        }
        GroupCommand::Leave { group } => {
            let id = group_id(client, &group).await?;
            let g = client.leave_group(&id).await?;
            out.value(&g, || format!("you left #{}\n", g.name))
        }
        GroupCommand::Accept { group } => {
            let id = group_id(client, &group).await?;
            let g = client.accept_group(&id).await?;
            out.value(&g, || {
                format!("accepted #{}: it is in your inbox\n", g.name)
            })
        }
        GroupCommand::Info { group } => {
            let g = find_group(client, &group).await?;
            out.value(&g, || info(&g, now))
        }
        GroupCommand::List => {
            let list = client.groups().await?;
            out.value(&list, || list_text(&list, now))
        }
    }
}

/// The group `reference` names (`#` in front optional), or a clear error.
pub(crate) async fn find_group(client: &Client, reference: &str) -> anyhow::Result<GroupView> {
    let bare = reference.strip_prefix('#').unwrap_or(reference);
    if bare.trim().is_empty() {
        bail!("{reference:?} names no group: give its name, id or an id prefix");
    }
    match client.group(bare).await {
        Err(ClientError::Api { status: 404, .. }) => {
            Err(anyhow!("no group {bare:?} (see `paperplane group list`)"))
        }
        other => Ok(other?),
    }
}

/// The full id of the group `reference` names.
async fn group_id(client: &Client, reference: &str) -> anyhow::Result<String> {
    Ok(find_group(client, reference).await?.id.to_hex())
}

/// Resolves a `send`/`chat`/`share` target (see the module docs).
pub(crate) async fn target(client: &Client, reference: &str) -> anyhow::Result<Target> {
    if reference.starts_with('#') {
        return Ok(Target::Group(Box::new(
            find_group(client, reference).await?,
        )));
    }
    if reference.starts_with('@') || reference.parse::<PeerId>().is_ok() {
        return Ok(Target::Peer(reference.to_owned()));
    }
    if paperplane::api::params::is_peer_ref(reference) {
        match client.resolve(reference).await {
            Ok(_) => return Ok(Target::Peer(reference.to_owned())),
            Err(ClientError::Api { status: 404, .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match client.group(reference).await {
        Ok(g) => Ok(Target::Group(Box::new(g))),
        Err(ClientError::Api { status: 404, .. }) => bail!(
            "no known peer or group {reference:?}: give a peer id, an @handle, or a group \
             (`#NAME`, see `paperplane group list`)"
        ),
        Err(e) => Err(e.into()),
    }
}

/// The group holding message `reference` (an id or unique prefix), among all of the
/// user's groups; `None` if none does.
pub(crate) async fn group_of_message(
    client: &Client,
    reference: &str,
) -> anyhow::Result<Option<String>> {
    let prefix = reference.to_ascii_lowercase();
    let mut found: Vec<String> = Vec::new();
    for g in client.groups().await? {
        let id = g.id.to_hex();
        let messages = client.group_chat(&id, Some(10_000), false).await?;
        if messages.iter().any(|m| m.id.to_hex().starts_with(&prefix)) && !found.contains(&id) {
            found.push(id);
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => bail!("message {reference} is in more than one group: give more of its digits, or --group GROUP"),
    }
}

/// What `react`, `unreact`, `unsend` and `edit` do to a message.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Change<'a> {
    /// Reacts (❤️ if `None`; the same again takes it back).
    React(Option<&'a str>),
    /// Takes the user's reaction back.
    Unreact,
    /// Unsends it.
    Unsend,
    /// Edits it.
    Edit(&'a str),
}

/// Applies `change` to message `message`: in `group` if given; else in the 1:1 chat that
/// holds it, or failing that the group that holds it.
pub(crate) async fn change_message(
    client: &Client,
    message: &str,
    group: Option<&str>,
    change: Change<'_>,
) -> anyhow::Result<MessageView> {
    let group = match group {
        Some(g) => group_id(client, g).await?,
        None => {
            let direct = match change {
                Change::React(e) => client.react(message, e).await,
                Change::Unreact => client.unreact(message).await,
                Change::Unsend => client.unsend(message).await,
                Change::Edit(text) => client.edit(message, text).await,
            };
            match direct {
                Err(e @ ClientError::Api { status: 404, .. }) => {
                    match group_of_message(client, message).await? {
                        Some(g) => g,
                        None => return Err(e.into()),
                    }
                }
                other => return Ok(other?),
            }
        }
    };
    Ok(match change {
        Change::React(e) => client.react_in_group(&group, message, e, false).await?,
        Change::Unreact => client.react_in_group(&group, message, None, true).await?,
        Change::Unsend => client.unsend_in_group(&group, message).await?,
        Change::Edit(text) => client.edit_in_group(&group, message, text).await?,
    })
}

/// A member for people: `@handle`, or the fingerprint when the handle is unknown.
fn member_name(g: &GroupView, peer: &PeerId) -> String {
    g.members
        .iter()
        .find(|m| m.peer == *peer)
        .and_then(|m| m.handle.as_deref())
        .map_or_else(
            || paperplane::profile::fingerprint(peer),
            |h| format!("@{h}"),
        )
}

/// A unit enum as its JSON word (`member`, `inbox`, …).
fn word(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `paperplane group info`.
pub(crate) fn info(g: &GroupView, now: u64) -> String {
    let status = word(g.status);
    let mut out = format!("#{}\n", g.name);
    let pairs = [
        ("id", g.id.to_hex()),
        ("status", status),
        ("folder", word(g.folder)),
        ("version", g.version.to_string()),
        ("key epoch", g.epoch.to_string()),
        ("last change", g.last_change.clone()),
        ("last activity", format::relative_time(now, g.last_activity)),
        ("unread", g.unread.to_string()),
    ];
    let rows: Vec<Vec<String>> = pairs
        .iter()
        .map(|(k, v)| vec![(*k).to_owned(), v.clone()])
        .collect();
    out.push_str(&format::table(&rows));
    out.push_str(&format!("{}:\n", format::count(g.members.len(), "member")));
    let mut members = vec![vec!["HANDLE".to_owned(), "ROLE".into(), "PEER".into()]];
    members.extend(g.members.iter().map(|m| {
        vec![
            format::at_handle(m.handle.as_deref()),
            if m.admin { "admin" } else { "" }.to_owned(),
            m.peer.to_string(),
        ]
    }));
    out.push_str(&format::table(&members));
    out
}

/// `paperplane group list`.
fn list_text(list: &[GroupView], now: u64) -> String {
    if list.is_empty() {
        return "no groups yet: `paperplane group create NAME PEER…` starts one\n".into();
    }
    let mut rows = vec![vec![
        "GROUP".to_owned(),
        "ID".into(),
        "MEMBERS".into(),
        "NEW".into(),
        "WHEN".into(),
        "STATUS".into(),
    ]];
    rows.extend(list.iter().map(|g| {
        let status = word(g.status);
        let folder = word(g.folder);
        vec![
            format!("#{}", g.name),
            format::short_id(&g.id.to_hex()).to_owned(),
            g.members.len().to_string(),
            if g.unread == 0 {
                String::new()
            } else {
                g.unread.to_string()
            },
            format::relative_time(now, g.last_activity),
            if folder == "requests" && status == "member" {
                "request (`group accept`)".to_owned()
            } else {
                status
            },
        ]
    }));
    format::table(&rows)
}

/// `paperplane chat GROUP`: the messages oldest first with their authors, and who has seen
/// each of the user's.
pub(crate) fn chat(g: &GroupView, messages: &[MessageView], now: u64) -> String {
    let mut out = format!(
        "group #{} ({})\n",
        g.name,
        format::count(g.members.len(), "member")
    );
    if messages.is_empty() {
        out.push_str("no messages yet\n");
        return out;
    }
    let mut rows = Vec::new();
    for m in messages {
        let who = if m.outgoing {
            "you".to_owned()
        } else {
            member_name(g, &m.from)
        };
        let quoted = m
            .reply_to
            .as_ref()
            .and_then(|q| g.members.iter().find(|x| x.peer == q.author))
            .and_then(|x| x.handle.as_deref());
        let body = print::message_lines(m, quoted);
        let mut lines = body.iter();
        rows.push(vec![
            format::short_id(&m.id.to_hex()).to_owned(),
            format::relative_time(now, m.sent_at),
            who,
            lines.next().cloned().unwrap_or_default(),
            print::state(m),
        ]);
        let blank = || vec![String::new(), String::new(), String::new()];
        for line in lines {
            let mut row = blank();
            row.push(line.clone());
            rows.push(row);
        }
        if m.outgoing && !m.seen_by.is_empty() {
            let seen: Vec<String> = m.seen_by.iter().map(|p| member_name(g, p)).collect();
            let mut row = blank();
            row.push(format!("Seen by {}", seen.join(", ")));
            rows.push(row);
        }
    }
    out.push_str(&format::table(&rows));
    if word(g.folder) == "requests" {
        out.push_str("added by someone you don't follow: `paperplane group accept GROUP` moves it to your inbox, `group leave GROUP` leaves it\n");
    }
    out
}
