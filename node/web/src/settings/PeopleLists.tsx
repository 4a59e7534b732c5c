import { useEffect, useState } from "preact/hooks";

import { api, seg } from "../api";
import { subscribe } from "../events";
import { useFollows } from "../profile/follows";
import { href } from "../router";
import { Avatar } from "../ui/Avatar";
import { nameOf, useProfiles } from "../ui/profiles";

type Blocked = { peer_id: string; handle?: string | null };

/** The people the user blocked, each with an Unblock button. */
export function BlockedList() {
  const { profiles } = useProfiles();
  const [blocked, setBlocked] = useState<Blocked[] | null>(null);
  const load = () => api.get<Blocked[]>("blocked").then(setBlocked, () => undefined);
  useEffect(() => {
    load();
    return subscribe((e) => e.type === "blocked" && load());
  }, []);
  if (!blocked) return <p class="muted">Loading…</p>;
  if (blocked.length === 0) return <p class="muted">You have not blocked anyone.</p>;
  return (
    <ul class="people-list">
      {blocked.map((b) => {
        const name = nameOf(b.peer_id, profiles, b.handle);
        return (
          <li key={b.peer_id}>
            <a href={href("profile", b.peer_id)}>
              <Avatar peer={b.peer_id} hint={b} />
              <span class="person-name">{name}</span>
            </a>
            <button
              type="button"
              class="secondary"
              aria-label={`Unblock ${name}`}
              onClick={() => api.del(`blocked/${seg(b.peer_id)}`).finally(load)}
            >
              Unblock
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The people the user follows, each linking to the safety number to compare with them. */
export function SafetyNumbersList() {
  const { profiles } = useProfiles();
  const { following } = useFollows();
  if (!following) return <p class="muted">Loading…</p>;
  if (following.length === 0) return <p class="muted">You do not follow anyone yet.</p>;
  return (
    <ul class="people-list">
      {following.map((f) => {
        const name = nameOf(f.peer_id, profiles, f.handle);
        return (
          <li key={f.peer_id}>
            <a href={href("safety", f.peer_id)} aria-label={`Safety number with ${name}`}>
              <Avatar peer={f.peer_id} hint={f} />
              <span>
                <span class="person-name">{name}</span>
                <span class="muted person-sub">{profiles.get(f.peer_id)?.display_name}</span>
              </span>
              <span class="chevron muted" aria-hidden="true">›</span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
