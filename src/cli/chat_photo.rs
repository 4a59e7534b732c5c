//! `paperplane send PEER --photo FILE [TEXT]` and `paperplane chat-photo ID --out FILE`:
//! photos in chats, with the recipient's progress shown for large photos.

use std::{fs, path::Path, time::Duration};

use anyhow::{bail, Context};
use futures::StreamExt;
use paperplane::{Event, MessageView};

use super::{format, print, read_photo, write_stdout, Output};
use crate::client::Client;

/// Photos from this size on show the recipient's progress (when they are connected).
const PROGRESS_FROM: u64 = 1024 * 1024;
/// How long the progress waits for the next piece before it stops showing it (delivery
/// goes on without it).
const PROGRESS_IDLE: Duration = Duration::from_secs(15);

/// Sends the photo in `path` with `caption`; prints the message's id and state, and for a
/// large photo the recipient's progress fetching it (on standard error).
pub(super) async fn send_photo(
    client: &Client,
    peer: &str,
    path: &Path,
    caption: &str,
    wait_ms: Option<u64>,
    out: Output,
) -> anyhow::Result<MessageView> {
    let bytes = read_photo(path)?;
    let size = bytes.len() as u64;
    // Listening first: the recipient may start fetching before the answer arrives.
    let events = if size >= PROGRESS_FROM && !out.json {
        client.events().await.ok()
    } else {
        None
    };
    let message = client
        .send_chat_photo(peer, &bytes, caption, wait_ms)
        .await?;
    drop(bytes);
    out.value(&message, || print::sent(&message))?;
    if let (Some(events), "delivered") = (events, message.state.as_str()) {
        show_progress(events, &message).await;
    }
    Ok(message)
}

/// Shows the recipient fetching the photo of `message`, until all of it has gone or
/// nothing moved for [`PROGRESS_IDLE`].
async fn show_progress(
    mut events: futures::stream::BoxStream<'static, Result<Event, crate::client::ClientError>>,
    message: &MessageView,
) {
    let mut shown = false;
    loop {
        let Ok(Some(Ok(event))) = tokio::time::timeout(PROGRESS_IDLE, events.next()).await else {
            break;
        };
        let Event::ChatPhotoProgress {
            id, bytes, total, ..
        } = event
        else {
            continue;
        };
        if id != message.id || total == 0 {
            continue;
        }
        eprint!(
            "\rphoto: {:>3} % ({} of {})",
            bytes.saturating_mul(100) / total,
            format::size(bytes),
            format::size(total)
        );
        shown = true;
        if bytes >= total {
            break;
        }
    }
    if shown {
        eprintln!();
    }
}

/// Saves the photo of message `id` to `path` (`-` for standard output).
pub(super) async fn save_chat_photo(
    client: &Client,
    id: &str,
    path: &Path,
    out: Output,
) -> anyhow::Result<()> {
    let (bytes, mime) = client.chat_photo(id).await?;
    if path == Path::new("-") {
        return write_stdout(&bytes);
    }
    if bytes.is_empty() {
        bail!("the daemon sent an empty photo");
    }
    fs::write(path, &bytes).with_context(|| format!("{}", path.display()))?;
    let saved = serde_json::json!({
        "message": id.to_ascii_lowercase(),
        "path": path,
        "size": bytes.len(),
        "mime": mime,
    });
    out.value(&saved, || {
        format!(
            "saved the photo of {} ({mime}, {}) to {}\n",
            format::short_id(id),
            format::size(bytes.len() as u64),
            path.display()
        )
    })
}
