import { useState } from "preact/hooks";

import { api, seg } from "../api";
import { href } from "../router";
import { nameOf, useProfiles } from "../ui/profiles";
import { Time } from "../ui/time";
import type { CommentView, PostView } from "./types";

/** How many comments a post shows in the feed before "View all". */
const PREVIEW = 2;

/** A post's comments (the newest few in the feed, all of them when `all` is set or asked for),
 * each of the user's own with a delete button, and the box to add one. `changed` is called
 * after the user commented or deleted a comment. */
export function Comments(props: {
  post: PostView;
  all?: boolean;
  inputId: string;
  changed: () => void;
}) {
  const { post } = props;
  const [expanded, setExpanded] = useState(false);
  const showAll = props.all || expanded || post.comments.length <= PREVIEW;
  const shown = showAll ? post.comments : post.comments.slice(-PREVIEW);
  return (
    <div class="post-comments">
      {!showAll && (
        <button type="button" class="link-button muted" onClick={() => setExpanded(true)}>
          View all {post.comments.length} comments
        </button>
      )}
      {shown.length > 0 && (
        <ul class="comment-list" aria-label="Comments">
          {shown.map((c) => (
            <Comment key={c.id} comment={c} deleted={props.changed} />
          ))}
        </ul>
      )}
      <AddComment post={post.id} inputId={props.inputId} added={props.changed} />
    </div>
  );
}

function Comment({ comment, deleted }: { comment: CommentView; deleted: () => void }) {
  const { me, profiles } = useProfiles();
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    try {
      await api.del(`comments/${seg(comment.id)}`);
      deleted();
    } catch {
      setBusy(false);
    }
  };
  return (
    <li class="comment-item">
      <span class="comment-text">
        <a class="person-name" href={href("profile", comment.author)}>
          {nameOf(comment.author, profiles, comment.author_handle)}
        </a>{" "}
        {comment.text}
      </span>
      <Time class="comment-time muted" ms={comment.created_at} />
      {me?.peer_id === comment.author && (
        <button type="button" class="link-button muted" disabled={busy} onClick={remove} aria-label="Delete comment">
          Delete
        </button>
      )}
    </li>
  );
}

function AddComment(props: { post: string; inputId: string; added: () => void }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      await api.post(`posts/${seg(props.post)}/comments`, { text: text.trim() });
      setText("");
      setError(null);
      props.added();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="comment-add" onSubmit={submit}>
      <label class="visually-hidden" for={props.inputId}>
        Add a comment
      </label>
      <input
        id={props.inputId}
        type="text"
        placeholder="Add a comment…"
        maxLength={2200}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        autocomplete="off"
      />
      <button type="submit" class="link-button accent" disabled={busy || !text.trim()}>
        Post
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
