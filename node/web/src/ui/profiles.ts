// Who is who: every profile the node knows, kept fresh by `profile` and `key_changed` events,
// and the user's own. One store for the whole app, so avatars and names cost no extra request.
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
let started = false;
const listeners = new Set<(k: Known) => void>();

/** Adds or replaces a profile (an older version never replaces a newer one). */
export function rememberProfile(profile: ProfileView) {
  const old = known.profiles.get(profile.peer_id);
  if (old && old.version > profile.version) return;
  const profiles = new Map(known.profiles).set(profile.peer_id, profile);
  const me = known.me?.peer_id === profile.peer_id ? profile : known.me;
  known = { me, profiles };
  listeners.forEach((l) => l(known));
}

async function load() {
  try {
    const [all, me] = await Promise.all([
      api.get<ProfileView[]>("profiles"),
      api.get<ProfileView>("profile"),
    ]);
    known = { me, profiles: new Map(all.map((p) => [p.peer_id, p])) };
    known.profiles.set(me.peer_id, me);
    listeners.forEach((l) => l(known));
  } catch {
    // shown as ids until the next (re)connection
  }
}

function start() {
  if (started) return;
  started = true;
  subscribe((event) => {
    if (event.type === "profile" || event.type === "key_changed") {
      rememberProfile(event.profile as ProfileView);
    }
  });
  onConnection((connected) => connected && load());
  load();
}

/** Every known profile by peer id, and the user's own (null until loaded). */
export function useProfiles(): Known {
  start();
  const [state, setState] = useState(known);
  useEffect(() => {
    listeners.add(setState);
    setState(known);
    return () => listeners.delete(setState);
  }, []);
  return state;
}

/** A short name for a peer: their handle if known, else the end of their id. */
export function nameOf(peer: string, profiles: Map<string, ProfileView>, handle?: string | null) {
  const h = profiles.get(peer)?.handle ?? handle;
  return h ? h : `…${peer.slice(-8)}`;
}
