import { photoUrl } from "../api";
import { useProfiles } from "./profiles";
import "./ui.css";

/** A round profile photo, or the initial of the person's name when they have none. Decorative:
 * their name is always written next to it. */
export function Avatar({ peer, size }: { peer: string; size?: "small" | "large" | "huge" }) {
  const { profiles } = useProfiles();
  const profile = profiles.get(peer);
  const cls = size ? `avatar ${size}` : "avatar";
  if (profile?.avatar) {
    return <img class={cls} src={photoUrl(profile.avatar)} alt="" />;
  }
  const initial = (profile?.display_name || profile?.handle || "?").charAt(0).toUpperCase();
  return (
    <span class={cls} aria-hidden="true">
      {initial}
    </span>
  );
}
