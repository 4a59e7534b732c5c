// Hash routes (`#/chat/<peer>`): the daemon serves one page, and a reload keeps the place.
import { useEffect, useState } from "preact/hooks";

/** The route's path segments, decoded: `#/chat/abc` → `["chat", "abc"]`; `#/` → `[]`. */
export function currentRoute(): string[] {
  return location.hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
}

/** The current route, re-rendering the caller when it changes. */
export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

/** The href of a route: `href("chat", peer)` → `#/chat/<peer>`. */
export const href = (...segments: string[]) =>
  "#/" + segments.map(encodeURIComponent).join("/");

/** Goes to a route. */
export function navigate(...segments: string[]) {
  location.hash = href(...segments);
}
