import { useEffect, useState } from "preact/hooks";

import { api, seg } from "../api";
import { Avatar, GroupAvatar } from "./Avatar";
import { Dialog } from "./Dialog";
import type { ShareTarget } from "./FollowingPicker";
import "./ui.css";


/** The few fields of a group the sheet needs (`GroupView`). */
type Group = { id: string; name: string; status: string; members: unknown[] };

/** A person or a group to send to. */
type Recipient = { key: string; label: string; sub: string; peer?: string; group?: string };

/** The paper-plane sheet: pick people the user follows (and groups they are in), write an optional
 * message, and send the post into each chat. Closes itself once everything is sent. */
export function ShareSheet({ post, onClose }: { post: string; onClose: () => void }) {
  const [recipients, setRecipients] = useState<Recipient[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [query, setQuery] = useState("");
  const [text, setText] = useState("");
  const [state, setState] = useState<"idle" | "sending" | "sent">("idle");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([
      api.get<ShareTarget[]>("share-targets"),
      api.get<Group[]>("groups").catch(() => [] as Group[]),
    ]).then(([people, groups]) => {
      setRecipients([
        ...people.map((t) => ({
          key: `p:${t.peer}`,
          peer: t.peer,
          label: t.display_name || t.handle || t.peer.slice(-8),
          sub: t.handle ? `@${t.handle}` : t.peer.slice(-8),
        })),
        ...groups
          .filter((g) => g.status === "member")
          .map((g) => ({ key: `g:${g.id}`, group: g.id, label: g.name, sub: `Group · ${g.members.length} members` })),
      ]);
    }, (e: Error) => setError(e.message));
  }, []);

  const toggle = (key: string) =>
    setPicked((old) => {
      const next = new Set(old);
      if (!next.delete(key)) next.add(key);
      return next;
    });

  const send = async () => {
    setState("sending");
    setError(null);
    const chosen = (recipients ?? []).filter((r) => picked.has(r.key));
    const results = await Promise.allSettled(
      chosen.map((r) =>
        r.group
          ? api.post(`groups/${seg(r.group)}/shares`, { post, text })
          : api.post("shares", { post, to: r.peer, text }),
      ),
    );
    const failed = chosen.filter((_, i) => results[i].status === "rejected");
    if (failed.length === 0) {
      setState("sent");
      setTimeout(onClose, 800);
      return;
    }
    const reason = (results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason as Error;
    setError(`Not sent to ${failed.map((r) => r.label).join(", ")}: ${reason.message}`);
    setPicked(new Set(failed.map((r) => r.key)));
    setState("idle");
  };

  const q = query.trim().toLowerCase().replace(/^@/, "");
  const shown = (recipients ?? []).filter(
    (r) => !q || r.label.toLowerCase().includes(q) || r.sub.toLowerCase().includes(q),
  );

  return (
    <Dialog label="Share" onClose={onClose} class="share-sheet">
      <div class="share-search">
        <label class="visually-hidden" for="share-search">
          Search people
        </label>
        <input
          id="share-search"
          type="search"
          placeholder="Search"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
      </div>
      {recipients === null && !error && <p class="share-empty muted">Loading…</p>}
      {recipients?.length === 0 && (
        <p class="share-empty muted">Follow people to send them posts.</p>
      )}
      <ul class="share-grid" aria-label="People">
        {shown.map((r) => (
          <li key={r.key}>
            <button
              type="button"
              class="share-person"
              aria-pressed={picked.has(r.key)}
              onClick={() => toggle(r.key)}
            >
              <span class="share-avatar">
                {r.peer ? <Avatar peer={r.peer} size="large" /> : <GroupAvatar name={r.label} size="large" />}
                {picked.has(r.key) && <span class="share-check" aria-hidden="true">✓</span>}
              </span>
              <span class="share-name">{r.label}</span>
              <span class="share-sub muted">{r.sub}</span>
            </button>
          </li>
        ))}
      </ul>
      <div class="share-foot">
        <label class="visually-hidden" for="share-text">
          Message
        </label>
        <input
          id="share-text"
          type="text"
          placeholder="Write a message…"
          maxLength={4096}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="visually-hidden" role="status">
          {state === "sent" ? "Sent" : ""}
        </p>
        <button
          type="button"
          class="primary share-send"
          disabled={picked.size === 0 || state !== "idle"}
          onClick={send}
        >
          {state === "sent" ? "Sent" : state === "sending" ? "Sending…" : "Send"}
        </button>
      </div>
    </Dialog>
  );
}
