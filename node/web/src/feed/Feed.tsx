// The feed: the user's and followed people's photo posts, newest first, live.
import { useState } from "preact/hooks";

import { href } from "../router";
import { NewPostIcon } from "../ui/icons";
import { PeopleSearch } from "../ui/PeopleSearch";
import { useProfiles } from "../ui/profiles";
import { NewPost } from "./NewPost";
import { PostCard } from "./PostCard";
import { usePosts } from "./posts";
import "./feed.css";

const everyPost = () => true;

/** The feed page (`#/feed`). */
export function Feed() {
  const { me } = useProfiles();
  const { posts, error, replace } = usePosts(me?.peer_id, "feed?limit=1000", everyPost);
  const [composing, setComposing] = useState(false);
  return (
    <main class="page feed-page">
      <header class="feed-top">
        <h1 class="feed-logo">paperplane</h1>
        <PeopleSearch />
        <button type="button" class="new-post-button" onClick={() => setComposing(true)}>
          <NewPostIcon />
          <span>New post</span>
        </button>
      </header>
      <div class="feed-column">
        {error && (
          <p class="error" role="alert">
            Could not load the feed: {error}
          </p>
        )}
        {posts === null && !error && <p class="muted feed-empty">Loading…</p>}
        {posts?.length === 0 && (
          <div class="feed-empty">
            <h2>No posts yet</h2>
            <p class="muted">
              Share your first photo, or find people to follow: their posts appear here. Your{" "}
              <a href={href("profile")}>profile</a> shows what you posted.
            </p>
          </div>
        )}
        {posts?.map((post) => <PostCard key={post.id} post={post} replace={replace} />)}
      </div>
      {composing && <NewPost onClose={() => setComposing(false)} posted={replace} />}
    </main>
  );
}
