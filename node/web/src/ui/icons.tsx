// Line icons in Instagram's manner, drawn in the text colour (`currentColor`), for every page.
// Always decorative: the button or link that holds one carries the accessible name.
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

/** Most icons take a `size` in pixels (24 unless told). */
type Sized = { size?: number };

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

/** The paper plane of a post's "Send post" button (Instagram's). */
export function PlaneIcon({ size }: Sized) {
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

/** A cross: close, cancel, dismiss. */
export function CloseIcon({ size }: Sized) {
  return (
    <Icon size={size}>
      <path d="M18 6 6 18M6 6l12 12" />
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

/** A pencil on a square: a new message. */
export function ComposeIcon() {
  return (
    <Icon>
      <path d="M12 3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-7" />
      <path d="M18.4 2.6a2 2 0 0 1 3 3L12 15l-4 1 1-4z" />
    </Icon>
  );
}

/** Two people: a group. */
export function GroupIcon() {
  return (
    <Icon>
      <circle cx="9" cy="8" r="4" />
      <path d="M2 21v-1a6 6 0 0 1 12 0v1" />
      <path d="M16 4.1a4 4 0 0 1 0 7.8M22 21v-1a6 6 0 0 0-4-5.6" />
    </Icon>
  );
}

/** A shield: the safety number. */
export function ShieldIcon() {
  return (
    <Icon>
      <path d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5z" />
      <path d="m9 12 2 2 4-4" />
    </Icon>
  );
}

/** An "i" in a circle: details. */
export function InfoIcon() {
  return (
    <Icon>
      <circle cx="12" cy="12" r="10" />
      <path d="M12 16v-5M12 8h.01" />
    </Icon>
  );
}

/** A picture: attach a photo. */
export function PhotoIcon() {
  return (
    <Icon>
      <rect x="3" y="3" width="18" height="18" rx="3" />
      <circle cx="9" cy="9" r="2" />
      <path d="m21 15-5-5L5 21" />
    </Icon>
  );
}

/** A smiling face: emoji and reactions. */
export function SmileIcon({ size }: Sized) {
  return (
    <Icon size={size}>
      <circle cx="12" cy="12" r="10" />
      <path d="M8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01" />
    </Icon>
  );
}

/** A curved arrow: reply. */
export function ReplyIcon({ size }: Sized) {
  return (
    <Icon size={size}>
      <path d="M9 14 4 9l5-5" />
      <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
    </Icon>
  );
}

/** Three dots: more actions. */
export function MoreIcon({ size }: Sized) {
  return (
    <Icon size={size}>
      <circle cx="5" cy="12" r="1.8" fill="currentColor" stroke="none" />
      <circle cx="12" cy="12" r="1.8" fill="currentColor" stroke="none" />
      <circle cx="19" cy="12" r="1.8" fill="currentColor" stroke="none" />
    </Icon>
  );
}

/** A chevron pointing left: back (the page's back link). */
export function BackIcon({ size }: Sized) {
  return (
    <Icon size={size}>
      <path d="m15 18-6-6 6-6" />
    </Icon>
  );
}

/** A bell: notifications. */
export function BellIcon({ size }: Sized) {
  return (
    <Icon size={size}>
      <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.9 1.9 0 0 0 3.4 0" />
    </Icon>
  );
}

/** The paper plane as the messages' emblem (the inbox with no chat open). A sharper drawing
 * than `PlaneIcon`: kept as it was, so the page looks the same. */
export function PlaneEmblemIcon() {
  return (
    <Icon>
      <path d="M22 2 11 13" />
      <path d="M22 2 15 22l-4-9-9-4z" />
    </Icon>
  );
}
