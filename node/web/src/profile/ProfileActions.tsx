import { useEffect, useState } from "preact/hooks";

import { api, seg } from "../api";
import { href, navigate } from "../router";
import { Dialog } from "../ui/Dialog";
import type { ProfileView } from "../ui/profiles";

/** The buttons beside a profile's name: Follow or Unfollow and Message on someone else's;
 * Edit profile and Settings on the user's own. `changed` is called once a follow changed. */
export function ProfileActions(props: {
  profile: ProfileView;
  own: boolean;
  following: boolean;
  changed: () => void;
  edit: () => void;
}) {
  const { profile } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (props.own) {
    return (
      <div class="profile-actions">
        <button type="button" class="secondary" onClick={props.edit}>
          Edit profile
        </button>
        <a class="button secondary" href={href("settings")}>
          Settings
        </a>
      </div>
    );
  }

  const run = async (request: Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await request;
      props.changed();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const path = `follow/${seg(profile.peer_id)}`;
  return (
    <div class="profile-actions">
      {props.following ? (
        <button type="button" class="secondary" disabled={busy} onClick={() => run(api.del(path))}>
          Unfollow
        </button>
      ) : (
        <button type="button" class="primary" disabled={busy} onClick={() => run(api.post(path))}>
          Follow
        </button>
      )}
      <button type="button" class="secondary" onClick={() => navigate("chat", profile.peer_id)}>
        Message
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Block (after a confirmation) or unblock someone. */
export function BlockButton({ peer, handle }: { peer: string; handle: string }) {
  const [blocked, setBlocked] = useState<boolean | null>(null);
  const [asking, setAsking] = useState(false);
  useEffect(() => {
    api.get<{ peer_id: string }[]>("blocked").then(
      (list) => setBlocked(list.some((b) => b.peer_id === peer)),
      () => undefined,
    );
  }, [peer]);
  const set = async (block: boolean) => {
    const path = `blocked/${seg(peer)}`;
    const state = block ? await api.post<BlockState>(path) : await api.del<BlockState>(path);
    setBlocked(state.blocked);
    setAsking(false);
  };
  if (blocked === null) return null;
  return (
    <>
      <button
        type="button"
        class="link-button danger"
        onClick={() => (blocked ? set(false) : setAsking(true))}
      >
        {blocked ? "Unblock" : "Block"}
      </button>
      {asking && (
        <Dialog label={`Block ${handle}?`} onClose={() => setAsking(false)}>
          <div class="dialog-body">
            <p>Their messages are refused, and their follows, likes and comments ignored. They are not told.</p>
            <div class="dialog-buttons">
              <button type="button" onClick={() => setAsking(false)}>
                Cancel
              </button>
              <button type="button" class="primary destructive" onClick={() => set(true)}>
                Block
              </button>
            </div>
          </div>
        </Dialog>
      )}
    </>
  );
}

type BlockState = { peer_id: string; blocked: boolean };
