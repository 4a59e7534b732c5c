//! The library's views rendered for people. Each function returns the text (ending in a
//! newline) so it can be tested; `now` is Unix ms.

use std::collections::HashMap;

use paperplane::{
    api::types::{BlockedPeer, NodeStatus, SafetyNumber},
    event::Event,
    profile::fingerprint,
    reach::Reachability,
    views::{ChatView, FollowView, MessageView, PostView, ProfileView},
    PeerId,
};

use super::format::{self, at_handle, count, one_line, relative_time, short_id, size, table};

/// How many characters of a message a one-line preview shows.
const PREVIEW_CHARS: usize = 60;

/// A peer for people: `@handle (fingerprint)`, or the whole id when the handle is unknown.
pub fn peer(id: &PeerId, handle: Option<&str>) -> String {
    match handle {
        Some(h) => format!("@{h} ({})", fingerprint(id)),
        None => id.to_string(),
    }
}

fn rows(pairs: &[(&str, String)]) -> Vec<Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| vec![(*k).to_owned(), v.clone()])
        .collect()
}

/// `paperplane status`.
pub fn status(status: &NodeStatus) -> String {
    let s = &status.node;
    let mut lines = vec![
        ("peer id", s.peer_id.to_string()),
        ("handle", at_handle(Some(&s.handle))),
        (
            "outbox",
            match status.outbox {
                0 => "empty".to_owned(),
                n => format!("{} waiting for delivery", count(n, "message")),
            },
        ),
        ("peers", format!("{} connected", s.connected_peers)),
    ];
    for p in &s.peers {
        lines.push(("", p.to_string()));
    }
    if s.listen_addrs.is_empty() {
        lines.push(("listening", "(no address yet)".into()));
    }
    for (i, a) in s
        .listen_addrs
        .iter()
        .filter(|a| !a.contains("/p2p-circuit"))
        .enumerate()
    {
        lines.push((if i == 0 { "listening" } else { "" }, a.clone()));
    }
    lines.push((
        "reachable",
        match s.reachability {
            Reachability::Public => "publicly (AutoNAT)".to_owned(),
            Reachability::Private => "through relays only (behind a NAT or firewall)".to_owned(),
            Reachability::Unknown => "not known yet".to_owned(),
        },
    ));
    for (i, a) in s.external_addrs.iter().enumerate() {
        lines.push((if i == 0 { "public" } else { "" }, a.clone()));
    }
    for (i, a) in s.relayed_addrs.iter().enumerate() {
        lines.push((if i == 0 { "relayed" } else { "" }, a.clone()));
    }
    lines.push((
        "dht",
        format!("{} in the routing table", count(s.dht_peers, "peer")),
    ));
    if s.relay_server {
        lines.push(("relay", "relaying for others".to_owned()));
    }
    let relayed = s.connections.iter().filter(|c| c.relayed).count();
    if relayed > 0 {
        lines.push((
            "connections",
            format!("{} through relays", count(relayed, "connection")),
        ));
    }
    table(&rows(&lines))
}

/// `paperplane profile show`.
pub fn profile(p: &ProfileView, now: u64) -> String {
    let mut lines = vec![
        ("handle", at_handle(Some(&p.handle))),
        ("name", p.display_name.clone()),
        ("peer id", p.peer_id.to_string()),
    ];
    if !p.bio.is_empty() {
        lines.push(("bio", one_line(&p.bio, 200)));
    }
    lines.push((
        "account",
        match &p.business_category {
            Some(c) => format!("business ({c})"),
            None => "personal".into(),
        },
    ));
    if let Some(a) = &p.avatar {
        lines.push(("avatar", a.to_hex()));
    }
    lines.push((
        "version",
        format!(
            "{} (updated {})",
            p.version,
            relative_time(now, p.updated_at)
        ),
    ));
    table(&rows(&lines))
}

/// `paperplane following` / `followers`.
pub fn follows(list: &[FollowView], now: u64, empty: &str) -> String {
    if list.is_empty() {
        return format!("{empty}\n");
    }
    let mut out = vec![vec!["HANDLE".into(), "PEER".into(), "SINCE".into()]];
    out.extend(list.iter().map(|f| {
        vec![
            at_handle(f.handle.as_deref()),
            f.peer_id.to_string(),
            relative_time(now, f.since),
        ]
    }));
    table(&out)
}

/// One post with its photos, likes and comments.
pub fn post(p: &PostView, now: u64) -> String {
    let id = p.id.to_hex();
    let mut out = format!(
        "{}  {}  {}\n",
        short_id(&id),
        at_handle(p.author_handle.as_deref()),
        relative_time(now, p.created_at)
    );
    if !p.caption.is_empty() {
        for line in p.caption.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    let mut details: Vec<Vec<String>> = p
        .photos
        .iter()
        .map(|ph| {
            let mut row = vec![
                "  photo".into(),
                ph.hash.to_hex(),
                ph.mime.clone(),
                size(ph.size),
            ];
            if !ph.local {
                row.push("(not fetched yet)".into());
            }
            row
        })
        .collect();
    let likes = match (p.liked_by.len(), p.liked_by_me) {
        (0, _) => "no likes yet".to_owned(),
        (n, true) => format!("{} (you too)", count(n, "like")),
        (n, false) => count(n, "like"),
    };
    details.push(vec!["  likes".into(), likes]);
    out.push_str(&table(&details));
    if !p.comments.is_empty() {
        let comments: Vec<Vec<String>> = p
            .comments
            .iter()
            .map(|c| {
                vec![
                    "  comment".into(),
                    short_id(&c.id.to_hex()).to_owned(),
                    at_handle(c.author_handle.as_deref()),
                    relative_time(now, c.created_at),
                    one_line(&c.text, 200),
                ]
            })
            .collect();
        out.push_str(&table(&comments));
    }
    out
}

/// `paperplane feed`: posts separated by blank lines.
pub fn feed(posts: &[PostView], now: u64) -> String {
    if posts.is_empty() {
        return "no posts yet: follow someone (`paperplane follow @handle`) or post a photo\n"
            .into();
    }
    posts
        .iter()
        .map(|p| post(p, now))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A delivery state for people: `✓ delivered`, `… pending`, `✗ failed: why`; nothing for
/// received messages.
pub fn state(m: &MessageView) -> String {
    match (m.state.as_str(), &m.error) {
        ("seen", _) => "✓✓ seen".into(),
        ("delivered", _) => "✓ delivered".into(),
        ("pending", _) => "… pending".into(),
        ("stored", _) => "✉ stored by their mailbox".into(),
        ("failed", Some(why)) => format!("✗ failed: {why}"),
        ("failed", None) => "✗ failed".into(),
        ("received", _) => String::new(),
        (other, _) => other.to_owned(),
    }
}

/// `paperplane send`: the message's full id and its state.
pub fn sent(m: &MessageView) -> String {
    format!("{}  {}\n", m.id, m.state)
}

/// The line a chat shows for a message's photo: what it is, where it stands, and how to
/// save it once it is here.
fn chat_photo_line(p: &paperplane::chat_photo::ChatPhotoView) -> String {
    let what = format!(
        "[photo {} {}, {}]",
        short_id(&p.hash.to_hex()),
        p.mime,
        size(p.size)
    );
    match (p.state.as_str(), &p.error) {
        ("ready", _) => format!("{what} (paperplane chat-photo ID --out FILE)"),
        ("failed", Some(why)) => format!("{what} discarded: {why}"),
        (state, _) => format!("{what} {state}"),
    }
}

/// Who sent `m`, seen from the user: `you`, or the other person's `@handle`.
fn author(m: &MessageView, handle: Option<&str>) -> String {
    if m.outgoing {
        "you".into()
    } else {
        match handle {
            Some(h) => format!("@{h}"),
            None => fingerprint(&m.from),
        }
    }
}

/// Rows of a chat list; requests show what the person first wrote, the inbox the newest.
fn chat_rows(chats: &[ChatView], now: u64, first: &str, requests: bool) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        first.to_owned(),
        "NEW".into(),
        "WHEN".into(),
        if requests {
            "FIRST MESSAGE"
        } else {
            "LAST MESSAGE"
        }
        .into(),
    ]];
    rows.extend(chats.iter().map(|c| {
        let shown = if requests {
            c.first_message.as_ref().or(c.last_message.as_ref())
        } else {
            c.last_message.as_ref()
        };
        let last = shown.map_or_else(String::new, |m| {
            let text = one_line(&m.text, PREVIEW_CHARS);
            match (m.outgoing, m.state.as_str()) {
                (true, "received") => text,
                (false, _) if c.group.is_some() => format!("{}: {text}", fingerprint(&m.from)),
                (false, _) => text,
                (true, _) => format!("you: {text}  {}", state(m)),
            }
        });
        let who = match &c.group {
            Some(g) => format!("#{} ({})", g.name, count(g.members, "member")),
            None => peer(&c.peer, c.handle.as_deref()),
        };
        vec![
            who,
            if c.unread == 0 {
                String::new()
            } else {
                c.unread.to_string()
            },
            relative_time(now, c.last_activity),
            last,
        ]
    }));
    rows
}

/// The warning shown when someone's messaging identity key changed `at`.
fn key_change_warning(peer_id: &PeerId, handle: Option<&str>, at: u64, now: u64) -> String {
    let who = match handle {
        Some(h) => format!("@{h}"),
        None => peer_id.to_string(),
    };
    format!(
        "! {}'s security key changed {}: compare `paperplane safety-number {who}` with theirs\n",
        peer(peer_id, handle),
        relative_time(now, at)
    )
}

/// Warnings for the chats whose other person's key changed.
fn key_change_warnings(chats: &[ChatView], now: u64) -> String {
    chats
        .iter()
        .filter_map(|c| {
            let at = c.key_changed_at?;
            Some(key_change_warning(&c.peer, c.handle.as_deref(), at, now))
        })
        .collect()
}

/// `paperplane inbox`: conversations, newest first, with unread counts; `requests` is how
/// many message requests wait.
pub fn inbox(chats: &[ChatView], requests: usize, now: u64) -> String {
    let mut out = if chats.is_empty() {
        "no conversations yet: `paperplane send @handle TEXT` starts one\n".to_owned()
    } else {
        table(&chat_rows(chats, now, "CHAT", false))
    };
    out.push_str(&key_change_warnings(chats, now));
    if requests > 0 {
        out.push_str(&format!(
            "{} waiting: `paperplane requests`\n",
            count(requests, "message request")
        ));
    }
    out
}

/// `paperplane requests`: who asked, and their latest message.
pub fn requests(chats: &[ChatView], now: u64) -> String {
    if chats.is_empty() {
        return "no message requests\n".into();
    }
    let mut out = table(&chat_rows(chats, now, "REQUEST FROM", true));
    out.push_str(&key_change_warnings(chats, now));
    out.push_str("answer with `paperplane accept PEER`, `decline PEER` or `block PEER`\n");
    if chats.iter().any(|c| c.group.is_some()) {
        out.push_str("for a group: `paperplane group accept GROUP` or `group leave GROUP`\n");
    }
    out
}

/// `paperplane chat`: the messages oldest first, one row each (continuation lines of a
/// multi-line text below it); `request` marks a chat that is still a message request;
/// `key_changed_at` warns that the other person's key changed.
pub fn chat(
    messages: &[MessageView],
    handle: Option<&str>,
    request: bool,
    key_changed_at: Option<u64>,
    now: u64,
) -> String {
    let Some(first) = messages.first() else {
        return "no messages yet\n".into();
    };
    let mut out = format!(
        "{} with {}\n",
        if request { "message request" } else { "chat" },
        peer(&first.peer, handle)
    );
    if let Some(at) = key_changed_at {
        out.push_str(&key_change_warning(&first.peer, handle, at, now));
    }
    let mut rows = Vec::new();
    for m in messages {
        let body = message_lines(m, handle);
        let mut lines = body.iter();
        rows.push(vec![
            short_id(&m.id.to_hex()).to_owned(),
            relative_time(now, m.sent_at),
            author(m, handle),
            lines.next().cloned().unwrap_or_default(),
            state(m),
        ]);
        for line in lines {
            rows.push(vec![
                String::new(),
                String::new(),
                String::new(),
                line.clone(),
            ]);
        }
        if let Some(photo) = &m.photo {
            rows.push(vec![
                String::new(),
                String::new(),
                String::new(),
                chat_photo_line(photo),
            ]);
        }
    }
    out.push_str(&table(&rows));
    if request {
        out.push_str("answer with `paperplane accept PEER`, `decline PEER` or `block PEER`\n");
    }
    out
}

/// The lines a message shows in a chat: a quoted reply, a shared post's card, the text
/// (marked large, edited or unsent), and its reactions.
pub fn message_lines(m: &MessageView, handle: Option<&str>) -> Vec<String> {
    use paperplane::MessageKind;
    let mut out = Vec::new();
    if let Some(q) = &m.reply_to {
        let me = if m.outgoing { m.from } else { m.to };
        let who = if q.author == me {
            "you".to_owned()
        } else {
            at_handle(handle)
        };
        out.push(format!(
            "↪ replying to {who}: “{}”",
            one_line(&q.excerpt, 60)
        ));
    }
    if let Some(p) = &m.shared_post {
        out.push(format!(
            "▣ post {} by {}{}: {}",
            short_id(&p.id.to_hex()),
            fingerprint(&p.author),
            if p.verified {
                ""
            } else {
                " (UNVERIFIABLE: bad signature)"
            },
            one_line(&p.caption, 60)
        ));
    }
    match m.kind {
        MessageKind::Unsent => out.push("(message unsent)".to_owned()),
        MessageKind::Unsupported => out.push(format!("({})", m.text)),
        _ => {
            for (i, line) in m.text.lines().enumerate() {
                let mut line = line.to_owned();
                if i == 0 && m.emoji_only {
                    line = format!("{line}  (large)");
                }
                out.push(line);
            }
            if m.edited_at.is_some() {
                match out.last_mut() {
                    Some(last) => last.push_str("  (edited)"),
                    None => out.push("(edited)".to_owned()),
                }
            }
        }
    }
    if !m.reactions.is_empty() {
        let shown: Vec<String> = m
            .reactions
            .iter()
            .map(|r| format!("{} {}", r.emoji, r.count))
            .collect();
        out.push(format!("  {}", shown.join("  ")));
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// `paperplane blocked`.
pub fn blocked(list: &[BlockedPeer]) -> String {
    if list.is_empty() {
        return "you have blocked nobody\n".into();
    }
    let mut rows = vec![vec!["HANDLE".to_owned(), "PEER".to_owned()]];
    rows.extend(
        list.iter()
            .map(|b| vec![at_handle(b.handle.as_deref()), b.peer_id.to_string()]),
    );
    table(&rows)
}

/// `paperplane safety-number`: a header and the number in three lines of four groups.
pub fn safety_number(n: &SafetyNumber) -> String {
    format!(
        "safety number with {}: compare it with theirs, in person or over a channel you trust\n\n{}",
        peer(&n.peer_id, n.handle.as_deref()),
        format::safety_number(&n.safety_number)
    )
}

/// One line for a live event; `handles` maps the peers known so far to their handles.
pub fn event(e: &Event, handles: &HashMap<PeerId, String>) -> String {
    let who = |p: &PeerId| peer(p, handles.get(p).map(String::as_str));
    let line = match e {
        Event::Profile { profile } => format!(
            "profile  @{} updated their profile (version {})",
            profile.handle, profile.version
        ),
        Event::Post { post } => format!(
            "post     {} posted {} ({}): {}",
            peer(
                &post.author,
                post.author_handle
                    .as_deref()
                    .or(handles.get(&post.author).map(String::as_str))
            ),
            short_id(&post.id.to_hex()),
            count(post.photos.len(), "photo"),
            one_line(&post.caption, 80)
        ),
        Event::Like { post, by, liked } => format!(
            "like     {} {} {}",
            who(by),
            if *liked { "liked" } else { "unliked" },
            short_id(&post.to_hex())
        ),
        Event::Comment { comment } => format!(
            "comment  {} on {}: {} [{}]",
            peer(
                &comment.author,
                comment
                    .author_handle
                    .as_deref()
                    .or(handles.get(&comment.author).map(String::as_str))
            ),
            short_id(&comment.post.to_hex()),
            one_line(&comment.text, 80),
            short_id(&comment.id.to_hex())
        ),
        Event::Message { message, request } if message.group.is_some() => format!(
            "{} {} in group {}: {} [{}]",
            if *request { "request " } else { "message " },
            who(&message.from),
            message
                .group
                .map(|g| short_id(&g.to_hex()).to_owned())
                .unwrap_or_default(),
            one_line(&message.text, 80),
            short_id(&message.id.to_hex())
        ),
        Event::GroupChanged {
            group,
            change,
            request,
            ..
        } => format!(
            "group    {} {change}{}",
            short_id(&group.to_hex()),
            if *request {
                " (a request: `paperplane group accept`)"
            } else {
                ""
            }
        ),
        Event::GroupMessageChanged { group, message, by } => format!(
            "group    {} {} changed {}",
            short_id(&group.to_hex()),
            who(by),
            short_id(&message.to_hex())
        ),
        Event::Message { message, request } => format!(
            "{} {}: {} [{}]",
            if *request { "request " } else { "message " },
            who(&message.from),
            one_line(&message.text, 80),
            short_id(&message.id.to_hex())
        ),
        Event::MessageSent { message } => format!(
            "sent     to {}: {} [{}]",
            match &message.group {
                Some(group) => format!("group {}", short_id(&group.to_hex())),
                None => who(&message.peer),
            },
            one_line(&message.text, 80),
            short_id(&message.id.to_hex())
        ),
        Event::MessageDelivered { id, peer } => {
            format!("delivered {} to {}", short_id(&id.to_hex()), who(peer))
        }
        Event::MessageStored { id, peer } => format!(
            "stored   {} for {} by their mailbox",
            short_id(&id.to_hex()),
            who(peer)
        ),
        Event::MessageFailed { id, peer, reason } => format!(
            "failed   {} to {}: {reason}",
            short_id(&id.to_hex()),
            who(peer)
        ),
        Event::ChatRead { peer } => format!("read     chat with {}", who(peer)),
        Event::RequestAccepted { peer } => format!("accepted request from {}", who(peer)),
        Event::RequestDeclined { peer } => format!("declined request from {}", who(peer)),
        Event::Blocked { peer, blocked } => format!(
            "{} {}",
            if *blocked { "blocked  " } else { "unblocked" },
            who(peer)
        ),
        Event::CommentDeleted { post, comment } => format!(
            "comment  {} on {} was deleted",
            short_id(&comment.to_hex()),
            short_id(&post.to_hex())
        ),
        Event::Follow {
            follower,
            followee,
            following,
        } => format!(
            "follow   {} {} {}",
            who(follower),
            if *following { "followed" } else { "unfollowed" },
            who(followee)
        ),
        Event::KeyChanged { profile } => format!(
            "key      @{} ({}) has a new security key: compare safety numbers",
            profile.handle,
            fingerprint(&profile.peer_id)
        ),
        Event::Reaction {
            message, by, emoji, ..
        } => match emoji {
            Some(e) => format!(
                "reaction {} reacted {e} to {}",
                who(by),
                short_id(&message.to_hex())
            ),
            None => format!(
                "reaction {} took back their reaction to {}",
                who(by),
                short_id(&message.to_hex())
            ),
        },
        Event::MessageUnsent { message, by, .. } => format!(
            "unsent   {} unsent {}",
            who(by),
            short_id(&message.to_hex())
        ),
        Event::MessageEdited {
            peer: p,
            message,
            text,
            ..
        } => format!(
            "edited   {} in the chat with {}: {}",
            short_id(&message.to_hex()),
            who(p),
            one_line(text, 80)
        ),
        Event::MessagesSeen { peer: p, up_to, .. } => format!(
            "seen     {} saw your messages up to {}",
            who(p),
            short_id(&up_to.to_hex())
        ),
        Event::Typing {
            peer: p, active, ..
        } => {
            if *active {
                format!("typing   {} is typing…", who(p))
            } else {
                format!("typing   {} stopped typing", who(p))
            }
        }
        Event::ChatPhotoProgress {
            id,
            peer,
            bytes,
            total,
        } => format!(
            "photo    {} with {}: {} of {}",
            short_id(&id.to_hex()),
            who(peer),
            size(*bytes),
            size(*total)
        ),
        Event::ChatPhotoReady { id, peer } => format!(
            "photo    {} from {} is here",
            short_id(&id.to_hex()),
            who(peer)
        ),
        Event::ChatPhotoFailed { id, peer, reason } => format!(
            "photo    {} from {} discarded: {reason}",
            short_id(&id.to_hex()),
            who(peer)
        ),
        Event::ReadReceipts { peer: p, on } => format!(
            "receipts read receipts and typing {} {}",
            if *on { "on" } else { "off" },
            match p {
                Some(p) => format!("for the chat with {}", who(p)),
                None => "for every chat without its own setting".to_owned(),
            }
        ),
        Event::PeerConnected { peer } => format!("peer     {} connected", who(peer)),
        Event::PeerDisconnected { peer } => format!("peer     {} disconnected", who(peer)),
        // `Event` may grow (it is `#[non_exhaustive]`); a kind this renderer does not know yet
        // shows as its JSON, which names it.
        other => format!(
            "event    {}",
            serde_json::to_string(other).unwrap_or_else(|_| format!("{other:?}"))
        ),
    };
    line + "\n"
}

/// `paperplane mailbox`.
pub fn mailboxes(m: &paperplane::mailboxes::MailboxView) -> String {
    let mut lines: Vec<(&str, String)> = Vec::new();
    if m.mailboxes.is_empty() {
        lines.push((
            "your mail",
            "kept by nobody (mailbox use PEER… to name nodes)".into(),
        ));
    }
    for (i, p) in m.mailboxes.iter().enumerate() {
        lines.push((
            if i == 0 { "your mail" } else { "" },
            format!("kept by {p}"),
        ));
    }
    if m.keeping_for.is_empty() {
        lines.push(("keeping", "mail for nobody".into()));
    }
    for (i, c) in m.keeping_for.iter().enumerate() {
        lines.push((
            if i == 0 { "keeping" } else { "" },
            format!(
                "{}: {} ({})",
                c.peer,
                count(c.messages as usize, "message"),
                size(c.bytes)
            ),
        ));
    }
    table(&rows(&lines))
}

#[cfg(test)]
mod tests {
    use paperplane::{
        views::{CommentView, PhotoView},
        BlobHash, RecordId,
    };

    use super::*;

    fn peer_id(seed: u8) -> PeerId {
        paperplane_crypto::Identity::from_seed([seed; 32]).peer_id()
    }

    #[test]
    fn a_post_shows_short_ids_handles_and_relative_times() {
        let now = 1_700_000_000_000;
        let bob = peer_id(1);
        let view = PostView {
            id: RecordId([0xab; 32]),
            author: bob,
            author_handle: Some("bob".into()),
            seq: 1,
            created_at: now - 180_000,
            caption: "sunset".into(),
            photos: vec![PhotoView {
                hash: BlobHash([0xcd; 32]),
                size: 2150,
                mime: "image/png".into(),
                local: true,
            }],
            liked_by: vec![bob],
            liked_by_me: false,
            comments: vec![CommentView {
                id: RecordId([0xef; 32]),
                post: RecordId([0xab; 32]),
                author: peer_id(2),
                author_handle: Some("alice".into()),
                text: "nice".into(),
                created_at: now - 60_000,
            }],
        };
        let text = post(&view, now);
        assert!(
            text.starts_with("abababababab  @bob  3m ago\n    sunset\n"),
            "{text}"
        );
        assert!(text.contains(&format!(
            "  photo  {}  image/png  2.1 KiB\n",
            "cd".repeat(32)
        )));
        assert!(text.contains("  likes  1 like\n"), "{text}");
        assert!(
            text.contains("  comment  efefefefefef  @alice  1m ago  nice\n"),
            "{text}"
        );
    }

    #[test]
    fn events_use_known_handles() {
        let alice = peer_id(2);
        let handles = HashMap::from([(alice, "alice".to_owned())]);
        let e = Event::Like {
            post: RecordId([1; 32]),
            by: alice,
            liked: true,
        };
        let expected = format!(
            "like     @alice ({}) liked 010101010101\n",
            fingerprint(&alice)
        );
        assert_eq!(event(&e, &handles), expected);
    }

    fn message(id: u8, outgoing: bool, text: &str, state: &str, at: u64) -> MessageView {
        let (me, bob) = (peer_id(2), peer_id(1));
        MessageView {
            id: paperplane::MessageId([id; 16]),
            peer: bob,
            from: if outgoing { me } else { bob },
            to: if outgoing { bob } else { me },
            outgoing,
            kind: paperplane::MessageKind::Text,
            emoji_only: false,
            reply_to: None,
            shared_post: None,
            reactions: Vec::new(),
            edited_at: None,
            seen_at: None,
            text: text.into(),
            sent_at: at,
            stored_at: at,
            state: state.parse().expect("a message state"),
            error: (state == "failed").then(|| "refused".to_owned()),
            photo: None,
            group: None,
            seen_by: Vec::new(),
        }
    }

    #[test]
    fn a_chat_shows_who_when_and_delivery() {
        let now = 1_700_000_000_000;
        let messages = [
            message(
                0xa1,
                false,
                "hi there\nsecond line",
                "received",
                now - 120_000,
            ),
            message(0xb2, true, "hey", "delivered", now - 60_000),
            message(0xc3, true, "still there?", "failed", now - 1_000),
        ];
        let text = chat(&messages, Some("bob"), false, None, now);
        let fp = fingerprint(&peer_id(1));
        let expected = format!(
            "chat with @bob ({fp})\n\
             a1a1a1a1a1a1  2m ago    @bob  hi there\n\
             \x20                             second line\n\
             b2b2b2b2b2b2  1m ago    you   hey           ✓ delivered\n\
             c3c3c3c3c3c3  just now  you   still there?  ✗ failed: refused\n"
        );
        assert_eq!(text, expected);
        let request = chat(&messages[..1], None, true, None, now);
        let warned = chat(&messages, Some("bob"), false, Some(now - 120_000), now);
        assert!(warned.contains("security key changed 2m ago"), "{warned}");
        assert!(request.starts_with("message request with "), "{request}");
        assert!(request.contains(&format!("  {fp}  hi there")), "{request}");
        assert!(request.ends_with("`block PEER`\n"), "{request}");
        assert_eq!(chat(&[], None, false, None, now), "no messages yet\n");
    }

    #[test]
    fn the_inbox_shows_unread_counts_and_waiting_requests() {
        let now = 1_700_000_000_000;
        let bob = peer_id(1);
        let chat_view = |unread, last: MessageView| ChatView {
            peer: bob,
            handle: Some("bob".into()),
            display_name: Some("Bob".into()),
            folder: paperplane::Folder::Inbox,
            last_activity: last.sent_at,
            unread,
            last_message: Some(last),
            first_message: None,
            key_changed_at: None,
            labels: Vec::new(),
            muted: false,
            group: None,
        };
        let chats = [
            chat_view(2, message(1, false, "see you", "received", now - 180_000)),
            chat_view(0, message(2, true, "ok", "pending", now - 7_200_000)),
        ];
        let who = format!("@bob ({})", fingerprint(&bob));
        assert_eq!(
            inbox(&chats, 1, now),
            format!(
                "{:<w$}  NEW  WHEN    LAST MESSAGE\n\
                 {who}  2    3m ago  see you\n\
                 {who}       2h ago  you: ok  … pending\n\
                 1 message request waiting: `paperplane requests`\n",
                "CHAT",
                w = who.chars().count()
            )
        );
        let mut changed = chats[0].clone();
        changed.key_changed_at = Some(now - 60_000);
        let warned = inbox(&[changed], 0, now);
        assert!(
            warned.contains(&format!(
                "! {who}'s security key changed 1m ago: compare `paperplane safety-number @bob`"
            )),
            "{warned}"
        );
        assert!(inbox(&[], 0, now).starts_with("no conversations yet"));
        let r = requests(&chats[..1], now);
        assert!(r.starts_with("REQUEST FROM"), "{r}");
        assert!(r.ends_with("`block PEER`\n"), "{r}");
        assert_eq!(requests(&[], now), "no message requests\n");
    }

    #[test]
    fn message_events_are_marked_as_messages_or_requests() {
        let handles = HashMap::from([(peer_id(1), "bob".to_owned())]);
        let m = message(0xab, false, "hello", "received", 0);
        let fp = fingerprint(&peer_id(1));
        let e = Event::Message {
            message: Box::new(m.clone()),
            request: true,
        };
        assert_eq!(
            event(&e, &handles),
            format!("request  @bob ({fp}): hello [abababababab]\n")
        );
        let e = Event::Message {
            message: Box::new(m),
            request: false,
        };
        assert!(event(&e, &handles).starts_with("message  @bob"));
    }

    #[test]
    fn empty_lists_say_so() {
        assert_eq!(follows(&[], 0, "nobody"), "nobody\n");
        assert!(feed(&[], 0).starts_with("no posts yet"));
    }
}
