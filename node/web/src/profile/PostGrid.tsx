import { useState } from "preact/hooks";

import { photoUrl } from "../api";
import { PostCard } from "../feed/PostCard";
import type { PostView } from "../feed/types";
import { Dialog } from "../ui/Dialog";
import { CommentIcon, HeartIcon, StackIcon } from "../ui/icons";

/** Posts as a grid of square thumbnails (three a row); a click opens the post, with its likes and
 * every comment, in a dialog. */
export function PostGrid({ posts, replace }: { posts: PostView[]; replace: (post: PostView) => void }) {
  const [open, setOpen] = useState<string | null>(null);
  const post = posts.find((p) => p.id === open);
  return (
    <>
      <ul class="profile-grid" aria-label="Posts">
        {posts.map((p) => (
          <li key={p.id}>
            <button
              type="button"
              class="profile-tile"
              aria-label={`Open post: ${p.caption || "no caption"} (${p.liked_by.length} likes, ${p.comments.length} comments)`}
              onClick={() => setOpen(p.id)}
            >
              {p.photos[0] && <img src={photoUrl(p.photos[0].hash)} alt="" loading="lazy" />}
              {p.photos.length > 1 && (
                <span class="profile-tile-stack">
                  <StackIcon />
                </span>
              )}
              <span class="profile-tile-hover" aria-hidden="true">
                <span>
                  <HeartIcon filled size={20} /> {p.liked_by.length}
                </span>
                <span>
                  <CommentIcon /> {p.comments.length}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      {post && (
        <Dialog label="Post" title={false} class="profile-post-dialog" onClose={() => setOpen(null)}>
          <PostCard post={post} replace={replace} allComments />
        </Dialog>
      )}
    </>
  );
}
