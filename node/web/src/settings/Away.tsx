import { useEffect, useState } from "preact/hooks";

import { api } from "../api";

type AwayStatus = { away: boolean; text?: string | null };

/** For business accounts: going away (new conversations get the away text back, once a day
 * each) and coming back. */
export function Away() {
  const [status, setStatus] = useState<AwayStatus | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<AwayStatus>("away").then((s) => {
      setStatus(s);
      setText(s.text ?? "");
    }, (e: Error) => setError(e.message));
  }, []);
  const change = async (away: boolean) => {
    try {
      const body = away || text.trim() ? { away, text: text.trim() || undefined } : { away };
      setStatus(await api.put<AwayStatus>("away", body));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (!status) return error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>;
  return (
    <div class="settings-away">
      <label class="settings-field">
        <span>Away message</span>
        <textarea
          rows={2}
          maxLength={1024}
          placeholder="Thanks for your message! We're closed now and will answer tomorrow."
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <p class="muted">{status.away ? "You are away: new conversations get this message." : "You are here."}</p>
      <button type="button" class={status.away ? "secondary" : "primary"} disabled={!status.away && !text.trim()} onClick={() => change(!status.away)}>
        {status.away ? "I'm back" : "Go away"}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
