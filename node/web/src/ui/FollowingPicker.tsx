// Picks among the people the user follows (most recently messaged first), filtered by a search
// field: one at a time (a link each: "New message") or several (checkboxes: "New group", "Add
// people"). Unlike `PeopleSearch`, which finds anyone and opens their profile.
import { useEffect, useState } from "preact/hooks";

import { api } from "../api";
import { Avatar } from "./Avatar";
import { person } from "./profiles";

/** Someone the user follows, as `GET /v1/share-targets` lists them (`ShareTarget`). */
export type ShareTarget = {
  peer: string;
  handle?: string | null;
  display_name?: string | null;
  last_messaged_at?: number | null;
};

/** The people the user follows, loaded once per picker, minus `exclude`. */
export function useFollowing(exclude: string[] = []) {
  const [people, setPeople] = useState<ShareTarget[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<ShareTarget[]>("share-targets").then(setPeople, (e) => setError((e as Error).message));
  }, []);
  return { people: people?.filter((p) => !exclude.includes(p.peer)) ?? null, error };
}

/** The people list with its search; `multiple` shows checkboxes bound to `selected`. */
export function FollowingPicker(props: {
  people: ShareTarget[] | null;
  error: string | null;
  selected?: string[];
  onToggle?: (peer: string) => void;
  linkTo?: (peer: string) => string;
}) {
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase().replace(/^@/, "");
  const shown = (props.people ?? []).filter((p) => {
    const who = person(p.peer, { handle: p.handle, name: p.display_name });
    return !q || who.name.toLowerCase().includes(q) || (who.handle ?? "").includes(q);
  });
  return (
    <div class="picker">
      <input
        type="search"
        aria-label="Search people"
        placeholder="Search…"
        value={query}
        onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        autoFocus={props.linkTo !== undefined}
      />
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
      {props.people && shown.length === 0 && (
        <p class="muted picker-note">{props.people.length === 0 ? "Follow people to message them." : "Nobody matches."}</p>
      )}
      <ul class="picker-list" aria-label="People">
        {shown.map((p) => {
          const who = person(p.peer, { handle: p.handle, name: p.display_name });
          const body = (
            <>
              <Avatar peer={who.peer} hint={who} />
              <span class="picker-text">
                <span class="picker-name">{who.name}</span>
                {who.handle && <span class="muted">@{who.handle}</span>}
              </span>
            </>
          );
          return (
            <li>
              {props.linkTo ? (
                <a class="picker-row" href={props.linkTo(p.peer)}>
                  {body}
                </a>
              ) : (
                <label class="picker-row">
                  {body}
                  <input
                    type="checkbox"
                    checked={props.selected?.includes(p.peer)}
                    onChange={() => props.onToggle?.(p.peer)}
                  />
                </label>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
