// Round profile photos, or the initial of the name when there is none; and a group's avatar.
import { photoUrl } from "../api";
import { person, useProfiles } from "./profiles";

type Size = "small" | "large" | "huge";

/** The avatar of `peer` (decorative: the name is always written or labelled beside it). `hint`
 * names them (e.g. a handle from a group roster) while no profile is known. */
export function Avatar({ peer, hint, size }: { peer: string; hint?: { handle?: string | null; name?: string | null }; size?: Size }) {
  useProfiles();
  const who = person(peer, hint);
  const cls = size ? `avatar ${size}` : "avatar";
  if (who.avatar) return <img class={cls} src={photoUrl(who.avatar)} alt="" loading="lazy" />;
  return (
    <span class={cls} aria-hidden="true">
      {initial(who.name)}
    </span>
  );
}

/** A group's avatar: its first letter on a gradient. */
export function GroupAvatar({ name, size }: { name: string; size?: Size }) {
  return (
    <span class={size ? `avatar group-avatar ${size}` : "avatar group-avatar"} aria-hidden="true">
      {initial(name)}
    </span>
  );
}

function initial(name: string): string {
  const first = [...name.replace(/^[@…]/, "")][0] ?? "?";
  return first.toUpperCase();
}
