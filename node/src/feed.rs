//! Read models over the store: a post with its likes and comments, the feed, follow lists.

use paperplane_protocol::{PeerId, Post, Signed};

use crate::{
    store::{Store, StoreError},
    views::{CommentView, FollowView, PhotoView, PostView},
};

/// The handle of `peer`'s newest known profile.
pub fn handle_of(store: &Store, peer: &PeerId) -> Result<Option<String>, StoreError> {
    Ok(store
        .profile(peer)?
        .map(|p| p.body.handle.as_str().to_owned()))
}

/// A post with the node's current knowledge of its likes and comments.
pub fn post_view(store: &Store, p: &Signed<Post>, me: &PeerId) -> Result<PostView, StoreError> {
    let mut view = PostView::header(p, handle_of(store, &p.body.author)?);
    for photo in &p.body.photos {
        view.photos
            .push(PhotoView::new(photo, store.has_blob(&photo.hash)?));
    }
    for like in store.likes_of(&view.id)? {
        if like.body.liked {
            if like.body.author == *me {
                view.liked_by_me = true;
            }
            view.liked_by.push(like.body.author);
        }
    }
    for c in store.comments_of(&view.id)? {
        let handle = handle_of(store, &c.body.author)?;
        view.comments.push(CommentView::new(&c, handle));
    }
    view.comments.sort_by_key(|c| c.created_at);
    Ok(view)
}

/// The user's own posts and those of everyone they follow, newest first, at most `limit`.
pub fn feed(store: &Store, me: &PeerId, limit: usize) -> Result<Vec<PostView>, StoreError> {
    let mut authors = vec![*me];
    authors.extend(store.following(me)?.into_iter().map(|f| f.body.followee));
    let mut posts = Vec::new();
    for a in &authors {
        posts.extend(store.recent_posts(a, limit)?);
    }
    posts.sort_by_key(|p| std::cmp::Reverse((p.body.created_at, p.body.seq)));
    posts.truncate(limit);
    posts.iter().map(|p| post_view(store, p, me)).collect()
}

/// The posts of `author` this node holds (all of them for the user and people followed;
/// those that reached it otherwise, e.g. shared into a chat, for others), newest first.
pub fn posts_of(
    store: &Store,
    me: &PeerId,
    author: &PeerId,
    limit: usize,
) -> Result<Vec<PostView>, StoreError> {
    store
        .recent_posts(author, limit)?
        .iter()
        .map(|p| post_view(store, p, me))
        .collect()
}

/// Whom `me` follows.
pub fn following(store: &Store, me: &PeerId) -> Result<Vec<FollowView>, StoreError> {
    store
        .following(me)?
        .into_iter()
        .map(|f| {
            Ok(FollowView {
                handle: handle_of(store, &f.body.followee)?,
                peer_id: f.body.followee,
                since: f.body.at,
            })
        })
        .collect()
}

/// Who follows `me`.
pub fn followers(store: &Store, me: &PeerId) -> Result<Vec<FollowView>, StoreError> {
    store
        .followers(me)?
        .into_iter()
        .map(|f| {
            Ok(FollowView {
                handle: handle_of(store, &f.body.author)?,
                peer_id: f.body.author,
                since: f.body.at,
            })
        })
        .collect()
}
