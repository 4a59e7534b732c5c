//! The chat commands beyond `send`: reactions, unsend, edit, the paper-plane share sheet,
//! read-receipt switches, and `chat --follow`, the live chat.

use anyhow::bail;
use futures::StreamExt;
use paperplane::{event::Event, views::MessageView, ShareTarget};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{format, now_ms, print, write_stdout, Output};
use crate::client::Client;

/// What a reaction, unsend or edit left: the message as it stands now.
pub(crate) fn changed(m: &MessageView) -> String {
    let mut out = format!("{}\n", format::short_id(&m.id.to_hex()));
    for line in print::message_lines(m, None) {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// The share sheet: the people the user follows, most recently messaged first.
fn share_sheet(targets: &[ShareTarget], now: u64) -> String {
    if targets.is_empty() {
        return "you follow nobody yet: follow someone to send them posts\n".into();
    }
    let mut rows = vec![vec![
        "HANDLE".to_owned(),
        "LAST MESSAGE".to_owned(),
        "PEER".to_owned(),
    ]];
    rows.extend(targets.iter().map(|t| {
        vec![
            format::at_handle(t.handle.as_deref()),
            t.last_messaged_at
                .map(|at| format::relative_time(now, at))
                .unwrap_or_else(|| "never".into()),
            t.peer.to_string(),
        ]
    }));
    format!(
        "send it to one of them with `paperplane share POST --to PEER`:\n{}",
        format::table(&rows)
    )
}

/// `paperplane share POST [--to TARGET]` (a peer or a group).
pub(crate) async fn share(
    client: &Client,
    post: &str,
    to: Option<&str>,
    text: &str,
    now: u64,
    out: Output,
) -> anyhow::Result<()> {
    match to {
        None => {
            let targets = client.share_targets().await?;
            out.value(&targets, || share_sheet(&targets, now))
        }
        Some(target) => {
            let m = match super::group::target(client, target).await? {
                super::group::Target::Peer(peer) => client.share(post, &peer, text, None).await?,
                super::group::Target::Group(g) => {
                    client.share_to_group(&g.id.to_hex(), post, text).await?
                }
            };
            out.value(&m, || print::sent(&m))?;
            if m.state == "failed" {
                bail!(
                    "the post was not delivered: {}",
                    m.error.as_deref().unwrap_or("no reason given")
                );
            }
            Ok(())
        }
    }
}

/// `paperplane receipts [on|off|default] [--peer PEER]`.
pub(crate) async fn receipts(
    client: &Client,
    switch: Option<&str>,
    peer: Option<&str>,
    out: Output,
) -> anyhow::Result<()> {
    let on = match switch {
        Some("on") => Some(true),
        Some("off") => Some(false),
        _ => None,
    };
    let explain = "others' receipts are shown either way";
    match (peer, switch) {
        (None, None) => {
            let r = client.read_receipts().await?;
            out.value(&r, || {
                format!("read receipts and typing: {}\n", on_off(r.on))
            })
        }
        (None, Some("default")) => {
            bail!("`default` is for one chat: give --peer PEER")
        }
        (None, Some(_)) => {
            let r = client.set_read_receipts(on.unwrap_or(true)).await?;
            out.value(&r, || {
                format!("read receipts and typing: {} ({explain})\n", on_off(r.on))
            })
        }
        (Some(_), None) => bail!("say `on`, `off` or `default` for the chat"),
        (Some(peer), Some(_)) => {
            let r = client.set_chat_read_receipts(peer, on).await?;
            out.value(&r, || {
                format!(
                    "read receipts and typing with {}: {} ({explain})\n",
                    r.peer_id,
                    on_off(r.on)
                )
            })
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// `paperplane chat PEER --follow`: the chat, then what happens in it live; each line typed
/// is sent (a line starting with `/react ID EMOJI`, `/unsend ID` or `/edit ID TEXT` does
/// that instead). Opening the chat and each message that arrives mark it read.
pub(crate) async fn follow(
    client: &Client,
    peer: &str,
    limit: Option<usize>,
    out: Output,
) -> anyhow::Result<()> {
    let resolved = client.resolve(peer).await?;
    let (peer_id, handle) = (resolved.peer_id, resolved.handle);
    let reference = peer_id.to_string();
    let mut events = client.events().await?;
    let history = client.chat(&reference, limit, None).await?;
    let handle_ref = handle.as_deref();
    if out.json {
        for m in &history {
            json_line(&serde_json::json!({ "type": "history", "message": m }))?;
        }
    } else {
        write_stdout(print::chat(&history, handle_ref, false, None, now_ms()).as_bytes())?;
        eprintln!("following the chat; type a message and press Enter (Ctrl-D to stop)");
    }
    let handles = handle.iter().map(|h| (peer_id, h.clone())).collect();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut typing_sent = false;
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else {
                    bail!("the daemon stopped, so the event stream ended");
                };
                let event = event?;
                if !concerns(&event, &peer_id) {
                    continue;
                }
                if matches!(&event, Event::Message { .. }) {
                    // Seen at once: the chat is open.
                    client.chat(&reference, Some(1), None).await?;
                }
                if out.json {
                    json_line(&event)?;
                } else {
                    write_stdout(print::event(&event, &handles).as_bytes())?;
                }
            }
            line = lines.next_line() => {
                let Some(line) = line? else {
                    if typing_sent {
                        let _ = client.typing(&reference, false).await;
                    }
                    return Ok(());
                };
                typing_sent = false;
                if line.trim().is_empty() {
                    // An empty line tells the other person you are typing.
                    typing_sent = client.typing(&reference, true).await?.sent;
                    continue;
                }
                let result = command_line(client, &reference, &line).await;
                match result {
                    Ok(m) if out.json => json_line(&m)?,
                    Ok(m) => write_stdout(changed(&m).as_bytes())?,
                    Err(e) => eprintln!("{}", super::error_line(&e)),
                }
            }
        }
    }
}

/// Carries out one line typed in `chat --follow`.
async fn command_line(client: &Client, peer: &str, line: &str) -> anyhow::Result<MessageView> {
    let mut words = line.splitn(3, ' ');
    Ok(match (words.next(), words.next(), words.next()) {
        (Some("/react"), Some(id), emoji) => client.react(id, emoji.map(str::trim)).await?,
        (Some("/unsend"), Some(id), None) => client.unsend(id).await?,
        (Some("/edit"), Some(id), Some(text)) => client.edit(id, text).await?,
        (Some("/reply"), Some(id), Some(text)) => client.send_reply(peer, text, id, None).await?,
        (Some(cmd), ..) if cmd.starts_with('/') && cmd.len() > 1 => bail!(
            "unknown command {cmd}: /react ID [EMOJI], /unsend ID, /edit ID TEXT, /reply ID TEXT"
        ),
        _ => client.send_message(peer, line, None).await?,
    })
}

/// Whether `event` is about the chat with `peer`.
fn concerns(event: &Event, peer: &paperplane::PeerId) -> bool {
    match event {
        Event::Message { message, .. } => message.peer == *peer,
        Event::MessageDelivered { peer: p, .. }
        | Event::MessageFailed { peer: p, .. }
        | Event::Reaction { peer: p, .. }
        | Event::MessageUnsent { peer: p, .. }
        | Event::MessageEdited { peer: p, .. }
        | Event::MessagesSeen { peer: p, .. }
        | Event::Typing { peer: p, .. }
        | Event::PeerConnected { peer: p }
        | Event::PeerDisconnected { peer: p } => p == peer,
        _ => false,
    }
}

fn json_line(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut line = serde_json::to_string(value)?;
    line.push('\n');
    write_stdout(line.as_bytes())
}
