// Who is who: the profiles the node knows (names, handles, photos) and the user's own id,
// loaded once and kept current from `profile` events. Shared by the inbox, chats, groups and
// notifications.
import { useEffect, useState } from "preact/hooks";

import { api } from "../api";
import { subscribe } from "../events";
import type { PeerId, ProfileView } from "./types";

const profiles = new Map<PeerId, ProfileView>();
const listeners = new Set<() => void>();
let me: PeerId | null = null;
let loading: Promise<void> | null = null;
let following = false;

function changed() {
  listeners.forEach((l) => l());
}

/** Loads the profiles once (later calls share the first load) and follows their changes. */
export function loadPeople(): Promise<void> {
  if (loading) return loading;
  loading = Promise.all([
    api.get<ProfileView>("profile"),
    api.get<ProfileView[]>("profiles"),
  ]).then(([own, all]) => {
    me = own.peer_id;
    profiles.set(own.peer_id, own);
    all.forEach((p) => profiles.set(p.peer_id, p));
    changed();
  });
  loading.catch(() => {
    loading = null;
  });
  if (following) return loading;
  following = true;
  subscribe((event) => {
    if (event.type === "profile" || event.type === "key_changed") {
      const p = event.profile as ProfileView;
      profiles.set(p.peer_id, p);
      changed();
    }
  });
  return loading;
}

/** The user's own peer id, once loaded. */
export const myId = () => me;

/** A short, readable stand-in for a peer nobody named yet. */
const shortId = (peer: PeerId) => `…${peer.slice(-6)}`;

/** What the pages show of a person: name, handle (without `@`) and photo hash. */
export interface Person {
  peer: PeerId;
  name: string;
  handle: string | null;
  avatar: string | null;
}

/** A person by id, with `hint` (e.g. a handle from a group roster) when no profile is known. */
export function person(peer: PeerId, hint?: { handle?: string | null; name?: string | null }): Person {
  const p = profiles.get(peer);
  const handle = p?.handle ?? hint?.handle ?? null;
  return {
    peer,
    name: p?.display_name || hint?.name || (handle ? `@${handle}` : shortId(peer)),
    handle,
    avatar: p?.avatar ?? null,
  };
}

/** Re-renders the caller whenever a profile changes; starts the load. */
export function usePeople(): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((t) => t + 1);
    listeners.add(listener);
    loadPeople().catch(() => {});
    return () => {
      listeners.delete(listener);
    };
  }, []);
}
