// Who is who: every profile the node knows, kept fresh by `profile` and `key_changed` events
// (and read again whenever the event stream reconnects), and the user's own. One store for the
// whole app (pages and notifications), so avatars and names cost no extra request.
import { useEffect, useState } from "preact/hooks";

import { api } from "../api";
import { onConnection, subscribe } from "../events";

/** One frequently asked question of a business, with its answer (`FaqView`). */
export type FaqEntry = { question: string; answer: string };

/** A user's profile as the node knows it (`ProfileView`). */
export type ProfileView = {
  peer_id: string;
  handle: string;
  display_name: string;
  bio: string;
  avatar?: string | null;
  business_category?: string | null;
  faq?: FaqEntry[];
  version: number;
  updated_at: number;
  messaging_keys: boolean;
};

type Known = { me: ProfileView | null; profiles: Map<string, ProfileView> };

let known: Known = { me: null, profiles: new Map() };
let loading: Promise<void> | null = null;
let started = false;
const listeners = new Set<(k: Known) => void>();

function changed() {
  listeners.forEach((l) => l(known));
}

/** Adds or replaces a profile (an older version never replaces a newer one). */
export function rememberProfile(profile: ProfileView) {
  const old = known.profiles.get(profile.peer_id);
  if (old && old.version > profile.version) return;
  const profiles = new Map(known.profiles).set(profile.peer_id, profile);
  const me = known.me?.peer_id === profile.peer_id ? profile : known.me;
  known = { me, profiles };
  changed();
}

async function load() {
  try {
    const [all, me] = await Promise.all([
      api.get<ProfileView[]>("profiles"),
      api.get<ProfileView>("profile"),
    ]);
    known = { me, profiles: new Map(all.map((p) => [p.peer_id, p])) };
    known.profiles.set(me.peer_id, me);
    changed();
  } catch {
    // shown as ids until the next (re)connection
  }
}

/** Starts the store (once; later calls share the first load): loads the profiles and follows
 * their changes. Resolves once the first load is over. */
export function loadProfiles(): Promise<void> {
  if (started) return loading!;
  started = true;
  subscribe((event) => {
    if (event.type === "profile" || event.type === "key_changed") {
      rememberProfile(event.profile as ProfileView);
    }
  });
  onConnection((connected) => connected && load());
  loading = load();
  return loading;
}

/** Every known profile by peer id, and the user's own (null until loaded); re-renders the
 * caller whenever one changes. */
export function useProfiles(): Known {
  loadProfiles();
  const [state, setState] = useState(known);
  useEffect(() => {
    listeners.add(setState);
    setState(known);
    return () => listeners.delete(setState);
  }, []);
  return state;
}

/** The user's own peer id, once loaded. */
export const myId = (): string | null => known.me?.peer_id ?? null;

/** What the messaging pages show of a person: name, handle (without `@`) and photo hash. */
export interface Person {
  peer: string;
  name: string;
  handle: string | null;
  avatar: string | null;
}

/** A person by id, named by their display name (else `@handle`, else the end of their id), with
 * `hint` (e.g. a handle from a group roster) when no profile is known. */
export function person(peer: string, hint?: { handle?: string | null; name?: string | null }): Person {
  const p = known.profiles.get(peer);
  const handle = p?.handle ?? hint?.handle ?? null;
  return {
    peer,
    name: p?.display_name || hint?.name || (handle ? `@${handle}` : `…${peer.slice(-6)}`),
    handle,
    avatar: p?.avatar ?? null,
  };
}

/** A short name for a peer as the feed, profiles and settings show it: their handle if known,
 * else the end of their id. */
export function nameOf(peer: string, profiles: Map<string, ProfileView>, handle?: string | null) {
  const h = profiles.get(peer)?.handle ?? handle;
  return h ? h : `…${peer.slice(-8)}`;
}
