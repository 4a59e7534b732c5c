// The user's follow relations (`FollowView`), live: reloaded on every `follow` event.
import { useCallback, useEffect, useState } from "preact/hooks";

import { api } from "../api";
import { subscribe } from "../events";

/** One side of a follow relation. */
export type FollowView = { peer_id: string; handle?: string | null; since: number };

/** Whom the user follows and who follows them (null until loaded); `reload` re-reads both. */
export function useFollows() {
  const [following, setFollowing] = useState<FollowView[] | null>(null);
  const [followers, setFollowers] = useState<FollowView[] | null>(null);
  const reload = useCallback(() => {
    api.get<FollowView[]>("following").then(setFollowing, () => undefined);
    api.get<FollowView[]>("followers").then(setFollowers, () => undefined);
  }, []);
  useEffect(() => {
    reload();
    return subscribe((event) => event.type === "follow" && reload());
  }, [reload]);
  return { following, followers, reload };
}
