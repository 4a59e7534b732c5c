//! The library's views rendered for people. Each function returns the text (ending in a
//! newline) so it can be tested; `now` is Unix ms.

use std::collections::HashMap;

use super::format::{at_handle, count, one_line, relative_time, short_id, size, table};
use crate::{
    event::Event,
    profile::fingerprint,
    views::{FollowView, PostView, ProfileView, Status},
    PeerId,
};

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
pub fn status(s: &Status) -> String {
    let mut lines = vec![
        ("peer id", s.peer_id.to_string()),
        ("handle", at_handle(Some(&s.handle))),
        ("peers", format!("{} connected", s.connected_peers)),
    ];
    for p in &s.peers {
        lines.push(("", p.to_string()));
    }
    if s.listen_addrs.is_empty() {
        lines.push(("listening", "(no address yet)".into()));
    }
    for (i, a) in s.listen_addrs.iter().enumerate() {
        lines.push((if i == 0 { "listening" } else { "" }, a.clone()));
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
        Event::Message { message, request } => format!(
            "{} {}: {} [{}]",
            if *request { "request " } else { "message " },
            who(&message.from),
            one_line(&message.text, 80),
            short_id(&message.id.to_hex())
        ),
        Event::MessageDelivered { id, peer } => {
            format!("delivered {} to {}", short_id(&id.to_hex()), who(peer))
        }
        Event::MessageFailed { id, peer, reason } => format!(
            "failed   {} to {}: {reason}",
            short_id(&id.to_hex()),
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
        Event::PeerConnected { peer } => format!("peer     {} connected", who(peer)),
        Event::PeerDisconnected { peer } => format!("peer     {} disconnected", who(peer)),
    };
    line + "\n"
}

#[cfg(test)]
mod tests {
    use paperplane_protocol::{BlobHash, RecordId};

    use super::*;
    use crate::views::{CommentView, PhotoView};

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

    #[test]
    fn empty_lists_say_so() {
        assert_eq!(follows(&[], 0, "nobody"), "nobody\n");
        assert!(feed(&[], 0).starts_with("no posts yet"));
    }
}
