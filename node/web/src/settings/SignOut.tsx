import { useState } from "preact/hooks";

import { api } from "../api";

/** Signs this browser out: the daemon ends the session and clears its cookie; the app then
 * shows how to sign in again (`paperplane open`). */
export function SignOut() {
  const [error, setError] = useState<string | null>(null);
  const signOut = async () => {
    try {
      await api.post("web/signout");
      location.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div class="setting-row">
      <p class="muted section-help">
        Ends this browser's session. Run <code>paperplane open</code> to sign in again.
      </p>
      <button type="button" class="danger" onClick={signOut}>
        Sign out
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
