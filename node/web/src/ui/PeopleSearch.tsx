import { useState } from "preact/hooks";

import { api, seg } from "../api";
import { href, navigate } from "../router";
import { Avatar } from "./Avatar";
import { SearchIcon } from "./icons";
import { useProfiles } from "./profiles";
import "./ui.css";

const REFERENCE = /^(@?[a-z0-9_](\.?[a-z0-9_])*|12D3KooW[1-9A-HJ-NP-Za-km-z]{44})$/;

/** Finds anyone by handle, name or peer id, to open their profile (unlike `FollowingPicker`,
 * which picks among the people the user follows): known profiles are suggested while typing; Enter
 * opens the profile the text names (a peer id never met is looked up in the network). */
export function PeopleSearch() {
  const { me, profiles } = useProfiles();
  const [query, setQuery] = useState("");
  const [error, setError] = useState<string | null>(null);
  const q = query.trim().toLowerCase().replace(/^@/, "");
  const suggestions = q
    ? [...profiles.values()]
        .filter((p) => p.peer_id !== me?.peer_id)
        .filter((p) => p.handle.includes(q) || p.display_name.toLowerCase().includes(q) || p.peer_id.toLowerCase() === q)
        .slice(0, 6)
    : [];

  const submit = async (e: Event) => {
    e.preventDefault();
    const typed = query.trim();
    const reference = typed.startsWith("12D3KooW") ? typed : typed.toLowerCase();
    if (!REFERENCE.test(reference)) {
      setError("Type a handle (like @ana) or a peer id (12D3KooW…).");
      return;
    }
    try {
      const found = await api.get<{ peer_id: string }>(`resolve/${seg(reference)}`);
      setQuery("");
      setError(null);
      navigate("profile", found.peer_id);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <form class="people-search" role="search" onSubmit={submit}>
      <span class="people-search-icon" aria-hidden="true">
        <SearchIcon />
      </span>
      <label class="visually-hidden" for="people-search">
        Search people
      </label>
      <input
        id="people-search"
        type="search"
        placeholder="Search people"
        autocomplete="off"
        value={query}
        onInput={(e) => {
          setQuery(e.currentTarget.value);
          setError(null);
        }}
      />
      {(suggestions.length > 0 || error) && (
        <div class="people-search-results">
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          {suggestions.length > 0 && (
            <ul aria-label="Suggestions">
              {suggestions.map((p) => (
                <li key={p.peer_id}>
                  <a href={href("profile", p.peer_id)} onClick={() => setQuery("")}>
                    <Avatar peer={p.peer_id} size="small" />
                    <span>
                      <span class="person-name">{p.handle}</span>
                      <span class="muted"> {p.display_name}</span>
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  );
}
