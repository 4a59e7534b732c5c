// One message of a chat: its bubble (text, reply, shared post, photo), the reactions under it,
// its delivery state, and the actions on it (react, reply, edit, unsend).
import { useState } from "preact/hooks";

import { chatPhotoUrl, photoUrl } from "../api";
import { href } from "../router";
import { Avatar } from "../ui/Avatar";
import { QUICK_REACTIONS } from "./emoji";
import { person, type Person } from "../ui/profiles";
import { clock, dayLabel, fullTime } from "../ui/time";
import type { MessageView, PeerId, SharedPostView } from "./types";
import { MoreIcon, ReplyIcon, SmileIcon } from "../ui/icons";

/** What a row of the list needs besides its message. */
export interface RowContext {
  me: PeerId | null;
  isGroup: boolean;
  progress: Record<string, number>;
  onReact: (m: MessageView, emoji: string) => void;
  onReply: (m: MessageView) => void;
  onEdit: (m: MessageView) => void;
  onUnsend: (m: MessageView) => void;
  onOpenPhoto: (m: MessageView) => void;
}

/** How a message sits among its neighbours. */
export interface RowPlace {
  /** First of a run by the same sender (shows the sender's name in groups). */
  first: boolean;
  /** Last of a run (shows the avatar, rounds the corner). */
  last: boolean;
  /** A time separator above it, if the previous message is long before. */
  day: string | null;
  /** The status line under our newest message. */
  status: string | null;
}

/** The status line of our message: what the MessageState means to people. */
export function statusText(m: MessageView, isGroup: boolean): string {
  switch (m.state) {
    case "pending":
      return "Sending…";
    case "stored":
      return "Sent · waiting in their mailbox";
    case "delivered":
      return isGroup && m.seen_by?.length ? seenBy(m.seen_by) : "Delivered";
    case "seen":
      if (isGroup) return "Seen by everyone";
      return m.seen_at ? `Seen ${clock(m.seen_at)}` : "Seen";
    case "failed":
      return `Not delivered${m.error ? `: ${m.error}` : ""}`;
    default:
      return "";
  }
}

function seenBy(peers: PeerId[]): string {
  const names = peers.map((p) => person(p).name);
  return `Seen by ${names.slice(0, 3).join(", ")}${names.length > 3 ? ` and ${names.length - 3} more` : ""}`;
}

/** The time separator label between two messages, or null if they are close. */
export function separator(prev: MessageView | undefined, m: MessageView): string | null {
  if (prev && m.sent_at - prev.sent_at < 60 * 60_000) return null;
  return dayLabel(m.sent_at);
}

/** One row of the message list. */
export function MessageRow({ m, place, ctx }: { m: MessageView; place: RowPlace; ctx: RowContext }) {
  if (m.kind === "change") {
    return (
      <div class="row change">
        {place.day && <div class="day">{place.day}</div>}
        <p class="change-text" data-message-id={m.id}>
          {m.text}
        </p>
      </div>
    );
  }
  const sender = person(m.from);
  const mine = m.outgoing;
  const side = mine ? "mine" : "theirs";
  return (
    <div class={`row ${side}${place.first ? " first" : ""}${place.last ? " last" : ""}`}>
      {place.day && <div class="day">{place.day}</div>}
      {ctx.isGroup && !mine && place.first && <div class="sender">{sender.name}</div>}
      {m.reply_to && <Quote m={m} ctx={ctx} />}
      <div class="line">
        {!mine && (
          <span class="avatar-slot">{place.last && <Avatar peer={sender.peer} hint={sender} size="small" />}</span>
        )}
        <div class="bubble-stack">
          <Body m={m} ctx={ctx} sender={sender} />
          {m.reactions.length > 0 && <Reactions m={m} ctx={ctx} />}
        </div>
        {m.kind !== "unsent" && <Actions m={m} ctx={ctx} />}
      </div>
      {place.status && (
        <div class={m.state === "failed" ? "status failed" : "status"} role={m.state === "failed" ? "alert" : undefined}>
          {place.status}
        </div>
      )}
    </div>
  );
}

/** The quoted message above a reply. */
function Quote({ m, ctx }: { m: MessageView; ctx: RowContext }) {
  const q = m.reply_to!;
  const author = q.author === ctx.me ? "you" : person(q.author).name;
  const who = m.outgoing ? "You" : person(m.from).name;
  return (
    <div class="quote">
      <span class="quote-label">
        {who} replied to {author}
      </span>
      <span class="quote-text">{q.excerpt || "a message"}</span>
    </div>
  );
}

/** The bubble itself. Double-clicking it toggles the user's ❤️. */
function Body({ m, ctx, sender }: { m: MessageView; ctx: RowContext; sender: Person }) {
  const label = `${m.outgoing ? "You" : sender.name}, ${fullTime(m.sent_at)}`;
  const common = {
    "data-message-id": m.id,
    title: label,
    // A double click reacts; it should not also select a word.
    onMouseDown: (e: MouseEvent) => {
      if (e.detail > 1) e.preventDefault();
    },
    onDblClick: (e: MouseEvent) => {
      e.preventDefault();
      if (m.kind !== "unsent") ctx.onReact(m, "❤️");
    },
  };
  const state = m.outgoing ? ` state-${m.state}` : "";
  if (m.kind === "unsent") {
    return (
      <div class="bubble unsent" {...common}>
        {m.outgoing ? "You unsent a message" : "Message unsent"}
      </div>
    );
  }
  if (m.kind === "unsupported") {
    return (
      <div class="bubble unsent" {...common}>
        This message can't be shown here.
      </div>
    );
  }
  if (m.kind === "shared_post" && m.shared_post) {
    return (
      <div class={`bubble card${state}`} {...common}>
        <SharedPost post={m.shared_post} />
        {m.text && <p class="card-text">{m.text}</p>}
      </div>
    );
  }
  if (m.kind === "photo" && m.photo) {
    return (
      <div class={`bubble photo${state}`} {...common}>
        <ChatPhoto m={m} ctx={ctx} />
        {m.text && <p class="card-text">{m.text}</p>}
      </div>
    );
  }
  return (
    <div class={`bubble${m.emoji_only ? " big-emoji" : ""}${state}`} {...common}>
      {m.text}
      {m.edited_at && <span class="edited"> · Edited</span>}
    </div>
  );
}

/** A post sent with the paper plane: its author, first photo and caption, linking to them. */
function SharedPost({ post }: { post: SharedPostView }) {
  const author = person(post.author);
  return (
    <a class="shared" href={href("profile", post.author)} aria-label={`Post by ${author.name}`}>
      <span class="shared-head">
        <Avatar peer={author.peer} hint={author} size="small" />
        <span class="shared-author">{author.handle ? author.handle : author.name}</span>
      </span>
      {post.verified && post.photos.length > 0 ? (
        <span class="shared-photo">
          <img src={photoUrl(post.photos[0].hash)} alt={post.caption || "Shared post"} loading="lazy" />
          {post.photos.length > 1 && <span class="shared-count">1/{post.photos.length}</span>}
        </span>
      ) : (
        !post.verified && <span class="shared-warn">This post's signature does not verify.</span>
      )}
      {post.caption && (
        <span class="shared-caption">
          <b>{author.handle ?? author.name}</b> {post.caption}
        </span>
      )}
    </a>
  );
}

/** A chat photo: the image once ready, else its download progress or why it failed. */
function ChatPhoto({ m, ctx }: { m: MessageView; ctx: RowContext }) {
  const photo = m.photo!;
  if (photo.state === "failed") {
    return <div class="photo-state failed">Photo failed{photo.error ? `: ${photo.error}` : ""}</div>;
  }
  if (photo.state === "fetching" && !photo.local) {
    const p = ctx.progress[m.id] ?? 0;
    return (
      <div class="photo-state">
        <progress max={1} value={p} aria-label="Photo download" />
        <span>Receiving photo… {Math.round(p * 100)}%</span>
      </div>
    );
  }
  return (
    <button type="button" class="photo-open" onClick={() => ctx.onOpenPhoto(m)} aria-label="Open photo">
      <img src={chatPhotoUrl(m.id)} alt={m.text || "Photo"} loading="lazy" />
    </button>
  );
}

/** The reactions under a bubble: each emoji with its count; one of ours toggles on click. */
function Reactions({ m, ctx }: { m: MessageView; ctx: RowContext }) {
  return (
    <ul class="reactions" aria-label="Reactions">
      {m.reactions.map((r) => {
        const mineToo = ctx.me !== null && r.by.includes(ctx.me);
        const who = r.by.map((p) => (p === ctx.me ? "you" : person(p).name)).join(", ");
        return (
          <li>
            <button
              type="button"
              class={mineToo ? "reaction mine" : "reaction"}
              title={who}
              aria-label={`${r.emoji} ${r.count}: ${who}`}
              aria-pressed={mineToo}
              onClick={() => ctx.onReact(m, r.emoji)}
            >
              {r.emoji}
              {r.count > 1 && <span class="count">{r.count}</span>}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The actions beside a bubble, shown on hover and keyboard focus. */
function Actions({ m, ctx }: { m: MessageView; ctx: RowContext }) {
  const [open, setOpen] = useState<"react" | "more" | null>(null);
  const close = (e: KeyboardEvent) => {
    if (e.key === "Escape") setOpen(null);
  };
  const editable = m.outgoing && (m.kind === "text" || m.kind === "reply");
  return (
    <div class={open ? "actions open" : "actions"} onKeyDown={close}>
      <button
        type="button"
        class="icon"
        aria-label="React"
        aria-expanded={open === "react"}
        onClick={() => setOpen(open === "react" ? null : "react")}
      >
        <SmileIcon size={20} />
      </button>
      <button type="button" class="icon" aria-label="Reply" onClick={() => ctx.onReply(m)}>
        <ReplyIcon size={20} />
      </button>
      {m.outgoing && (
        <button
          type="button"
          class="icon"
          aria-label="More"
          aria-expanded={open === "more"}
          onClick={() => setOpen(open === "more" ? null : "more")}
        >
          <MoreIcon size={20} />
        </button>
      )}
      {open === "react" && (
        <div class="popover reaction-picker" role="group" aria-label="Pick a reaction">
          {QUICK_REACTIONS.map((emoji) => (
            <button
              type="button"
              aria-label={`React ${emoji}`}
              onClick={() => {
                setOpen(null);
                ctx.onReact(m, emoji);
              }}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
      {open === "more" && (
        <div class="popover menu" role="group" aria-label="Message actions">
          {editable && (
            <button
              type="button"
              onClick={() => {
                setOpen(null);
                ctx.onEdit(m);
              }}
            >
              Edit
            </button>
          )}
          <button
            type="button"
            class="danger"
            onClick={() => {
              setOpen(null);
              ctx.onUnsend(m);
            }}
          >
            Unsend
          </button>
        </div>
      )}
    </div>
  );
}
