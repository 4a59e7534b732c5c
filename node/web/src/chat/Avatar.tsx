// A round profile photo, or the person's initial when they have none.
import { photoUrl } from "../api";
import type { Person } from "./people";

/** The avatar of a person (decorative: the name is always shown or labelled beside it). */
export function Avatar({ who, size }: { who: Person; size?: "small" | "large" }) {
  const cls = size ? `avatar ${size}` : "avatar";
  if (who.avatar) return <img class={cls} src={photoUrl(who.avatar)} alt="" loading="lazy" />;
  return (
    <span class={cls} aria-hidden="true">
      {initial(who.name)}
    </span>
  );
}

/** A group's avatar: its first letter on the accent colour. */
export function GroupAvatar({ name, size }: { name: string; size?: "small" | "large" }) {
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
