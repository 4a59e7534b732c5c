import { useState } from "preact/hooks";

import { api, seg } from "../api";
import { href } from "../router";
import { Avatar } from "../ui/Avatar";
import { CommentIcon, HeartIcon, PlaneIcon } from "../ui/icons";
import { nameOf, useProfiles } from "../ui/profiles";
import { ShareSheet } from "../ui/ShareSheet";
import { Time } from "../ui/time";
import { Carousel } from "./Carousel";
import { Comments } from "./Comments";
import { fetchPost } from "./posts";
import type { PostView } from "./types";

/** One post as Instagram shows it: the author, the photos, the heart, comment and paper-plane
 * buttons, the likes, the caption and the comments. `replace` gets a fresh copy of the post after
 * the user liked it or commented; `allComments` shows every comment (in the post dialog). */
export function PostCard(props: {
  post: PostView;
  replace: (post: PostView) => void;
  allComments?: boolean;
}) {
  const { post, replace } = props;
  const { me, profiles } = useProfiles();
  const [sharing, setSharing] = useState(false);
  const author = profiles.get(post.author);
  const name = nameOf(post.author, profiles, post.author_handle);
  const inputId = `comment-${post.id}${props.allComments ? "-all" : ""}`;
  const refresh = () => fetchPost(post.id).then(replace, () => undefined);

  const setLiked = async (liked: boolean) => {
    if (post.liked_by_me === liked) return;
    const others = post.liked_by.filter((p) => p !== me?.peer_id);
    const likedBy = liked && me ? [...others, me.peer_id] : others;
    replace({ ...post, liked_by_me: liked, liked_by: likedBy });
    try {
      await (liked ? api.post(`posts/${seg(post.id)}/like`) : api.del(`posts/${seg(post.id)}/like`));
    } finally {
      refresh();
    }
  };

  return (
    <article class="post-card" data-post-id={post.id} aria-label={`Post by ${name}`}>
      <header class="post-head">
        <a class="post-author" href={href("profile", post.author)}>
          <Avatar peer={post.author} hint={{ handle: post.author_handle }} size="small" />
          <span class="person-name">{name}</span>
        </a>
        <span class="muted" aria-hidden="true">•</span>
        <Time class="muted" ms={post.created_at} />
        {author?.business_category && <span class="post-category muted">{author.business_category}</span>}
      </header>
      <Carousel photos={post.photos} label={`Photo by ${name}`} onDoubleClick={() => setLiked(true)} />
      <div class="post-actions">
        <button
          type="button"
          class={post.liked_by_me ? "icon like liked" : "icon like"}
          aria-label={post.liked_by_me ? "Unlike" : "Like"}
          aria-pressed={post.liked_by_me}
          onClick={() => setLiked(!post.liked_by_me)}
        >
          <HeartIcon filled={post.liked_by_me} />
        </button>
        <button
          type="button"
          class="icon"
          aria-label="Comment"
          onClick={() => document.getElementById(inputId)?.focus()}
        >
          <CommentIcon />
        </button>
        <button type="button" class="icon" aria-label="Send post" onClick={() => setSharing(true)}>
          <PlaneIcon />
        </button>
      </div>
      <Likes post={post} />
      {post.caption && (
        <p class="post-caption">
          <a class="person-name" href={href("profile", post.author)}>
            {name}
          </a>{" "}
          {post.caption}
        </p>
      )}
      <Comments post={post} all={props.allComments} inputId={inputId} changed={refresh} />
      {sharing && <ShareSheet post={post.id} onClose={() => setSharing(false)} />}
    </article>
  );
}

/** "Liked by bob" when one other person likes it, else the count. */
function Likes({ post }: { post: PostView }) {
  const { me, profiles } = useProfiles();
  const count = post.liked_by.length;
  if (count === 0) return <p class="post-likes muted">Be the first to like this</p>;
  const first = post.liked_by[0];
  return (
    <p class="post-likes">
      {count === 1 && first !== me?.peer_id ? (
        <>
          Liked by{" "}
          <a class="person-name" href={href("profile", first)}>
            {nameOf(first, profiles)}
          </a>
        </>
      ) : (
        <strong>
          {count} {count === 1 ? "like" : "likes"}
        </strong>
      )}
    </p>
  );
}
