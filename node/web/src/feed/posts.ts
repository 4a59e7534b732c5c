// A live list of posts: loaded once, then kept current by the `post`, `like`, `comment` and
// `comment_deleted` events, and reloaded when the user follows or unfollows someone and when the
// event stream reconnects.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { api, seg } from "../api";
import { onConnection, subscribe, type LiveEvent } from "../events";
import type { CommentView, PostView } from "./types";

/** The list after one live event (the same list when the event does not concern it). `me` is
 * the user's peer id; `accept` says whether a new post belongs in the list. */
export function applyEvent(
  posts: PostView[],
  event: LiveEvent,
  me: string | undefined,
  accept: (post: PostView) => boolean,
): PostView[] {
  switch (event.type) {
    case "post": {
      const post = event.post as PostView;
      if (!accept(post) || posts.some((p) => p.id === post.id)) return posts;
      return [post, ...posts].sort((a, b) => b.created_at - a.created_at);
    }
    case "like": {
      const { post, by, liked } = event as unknown as { post: string; by: string; liked: boolean };
      return change(posts, post, (p) => {
        const others = p.liked_by.filter((x) => x !== by);
        return {
          ...p,
          liked_by: liked ? [...others, by] : others,
          liked_by_me: by === me ? liked : p.liked_by_me,
        };
      });
    }
    case "comment": {
      const comment = event.comment as CommentView;
      return change(posts, comment.post, (p) =>
        p.comments.some((c) => c.id === comment.id)
          ? p
          : { ...p, comments: [...p.comments, comment].sort((a, b) => a.created_at - b.created_at) },
      );
    }
    case "comment_deleted": {
      const { post, comment } = event as unknown as { post: string; comment: string };
      return change(posts, post, (p) => ({
        ...p,
        comments: p.comments.filter((c) => c.id !== comment),
      }));
    }
    default:
      return posts;
  }
}

function change(posts: PostView[], id: string, f: (p: PostView) => PostView): PostView[] {
  const i = posts.findIndex((p) => p.id === id);
  if (i < 0) return posts;
  const next = posts.slice();
  next[i] = f(posts[i]);
  return next;
}

/** Posts read from `source` (an API path: the feed, or one author's posts), newest first,
 * those `accept` keeps, live (`source` and `accept` must keep their identity across renders;
 * live events add the new posts `accept` keeps).
 * `replace` puts a fresh copy of a post in place (or first, when new), e.g. after the user
 * liked or commented on it. */
export function usePosts(
  me: string | undefined,
  source: string,
  accept: (post: PostView) => boolean,
) {
  const [posts, setPosts] = useState<PostView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const meRef = useRef(me);
  meRef.current = me;

  const load = useCallback(() => {
    api
      .get<PostView[]>(source)
      .then((all) => {
        setPosts(all.filter(accept));
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [source, accept]);

  useEffect(() => {
    load();
    const offEvents = subscribe((event) => {
      // Following or unfollowing someone adds or removes their posts: read the feed again.
      if (event.type === "follow" && event.follower === meRef.current) load();
      else setPosts((posts) => (posts ? applyEvent(posts, event, meRef.current, accept) : posts));
    });
    const offConnection = onConnection((connected) => connected && load());
    return () => {
      offEvents();
      offConnection();
    };
  }, [load, accept]);

  const replace = useCallback((post: PostView) => {
    setPosts((posts) => {
      if (!posts) return [post];
      const i = posts.findIndex((p) => p.id === post.id);
      if (i < 0) return [post, ...posts];
      const next = posts.slice();
      next[i] = post;
      return next;
    });
  }, []);

  return { posts, error, replace };
}

/** Fetches one post afresh (its likes and comments as the node has them now). */
export const fetchPost = (id: string) => api.get<PostView>(`posts/${seg(id)}`);
