import { useEffect, useState } from "preact/hooks";

import { api } from "../api";
import { subscribe } from "../events";

type Switch = { on: boolean };

/** The global read-receipts switch (it covers typing indicators too), kept in step with
 * `read_receipts` events from other windows. */
export function ReadReceipts() {
  const [on, setOn] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<Switch>("settings/read-receipts").then((s) => setOn(s.on), (e: Error) => setError(e.message));
    return subscribe((event) => {
      if (event.type === "read_receipts" && event.peer == null) setOn(event.on as boolean);
    });
  }, []);
  const change = async (next: boolean) => {
    setOn(next);
    try {
      setOn((await api.put<Switch>("settings/read-receipts", { on: next })).on);
      setError(null);
    } catch (e) {
      setOn(!next);
      setError((e as Error).message);
    }
  };
  return (
    <div class="settings-row">
      <label class="settings-switch" for="read-receipts">
        <span class="settings-switch-text">
          <span class="settings-switch-name">Read receipts</span>
          <span class="muted settings-switch-help" id="read-receipts-help">
            Let people know when you have seen their messages, and when you are typing. Chats with their
            own switch keep it. You see others' receipts either way.
          </span>
        </span>
        <input
          id="read-receipts"
          type="checkbox"
          aria-describedby="read-receipts-help"
          checked={on ?? false}
          disabled={on === null}
          onChange={(e) => change(e.currentTarget.checked)}
        />
        <span class="settings-switch-track" aria-hidden="true" />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
