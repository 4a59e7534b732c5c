// Line icons in Instagram's manner, drawn in the text colour (`currentColor`). Always decorative:
// the button or link that holds one carries the accessible name.
import type { ComponentChildren } from "preact";

function Icon({ children, size = 24 }: { children: ComponentChildren; size?: number }) {
  return (
    <svg
      class="svg-icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

const HEART =
  "M16.8 3.5c-2 0-3.8 1.1-4.8 2.9-1-1.8-2.8-2.9-4.8-2.9C4.3 3.5 2 5.9 2 8.9c0 5.3 7.4 9.9 10 11.6 2.6-1.7 10-6.3 10-11.6 0-3-2.3-5.4-5.2-5.4z";

/** A heart: an outline, or filled red once liked. */
export function HeartIcon({ filled, size }: { filled?: boolean; size?: number }) {
  return (
    <Icon size={size}>
      <path d={HEART} fill={filled ? "var(--heart)" : "none"} stroke={filled ? "var(--heart)" : "currentColor"} />
    </Icon>
  );
}

/** A speech bubble (comments). */
export function CommentIcon() {
  return (
    <Icon>
      <path d="M20.7 16.7A9.5 9.5 0 1 0 17 20.3L21.5 21.5z" />
    </Icon>
  );
}

/** The paper plane (send a post). */
export function PlaneIcon({ size }: { size?: number }) {
  return (
    <Icon size={size}>
      <path d="M22 3 9.2 10.1" />
      <path d="M22 3 15 21l-5.8-10.9L2 6.5z" />
    </Icon>
  );
}

/** A plus in a rounded square (new post). */
export function NewPostIcon() {
  return (
    <Icon>
      <rect x="3" y="3" width="18" height="18" rx="5" />
      <path d="M12 8v8M8 12h8" />
    </Icon>
  );
}

/** A cross (close). */
export function CloseIcon() {
  return (
    <Icon size={20}>
      <path d="M5 5l14 14M19 5 5 19" />
    </Icon>
  );
}

/** A chevron pointing left or right (carousel arrows). */
export function ChevronIcon({ right }: { right?: boolean }) {
  return (
    <Icon size={16}>
      <path d={right ? "M9 5l7 7-7 7" : "M15 5l-7 7 7 7"} />
    </Icon>
  );
}

/** Two stacked squares: a post of several photos, in the profile grid. */
export function StackIcon() {
  return (
    <Icon size={20}>
      <rect x="7" y="7" width="14" height="14" rx="2" fill="currentColor" />
      <path d="M17 3H5a2 2 0 0 0-2 2v12" />
    </Icon>
  );
}

/** A magnifying glass (search). */
export function SearchIcon() {
  return (
    <Icon size={18}>
      <circle cx="11" cy="11" r="7" />
      <path d="m20 20-3.5-3.5" />
    </Icon>
  );
}
