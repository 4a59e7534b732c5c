// Times as Instagram shows them: short and relative ("3h") with the full date on hover, the time
// of day, and the labels between a chat's messages ("Today 14:05", "Tue 09:12", "12 Mar 2025 18:00").

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** A short relative time: "now", "5m", "3h", "2d", "4w", or a date past a year. */
export function ago(ms: number, now = Date.now()): string {
  const d = Math.max(0, now - ms);
  if (d < MINUTE) return "now";
  if (d < HOUR) return `${Math.floor(d / MINUTE)}m`;
  if (d < DAY) return `${Math.floor(d / HOUR)}h`;
  if (d < WEEK) return `${Math.floor(d / DAY)}d`;
  if (d < 52 * WEEK) return `${Math.floor(d / WEEK)}w`;
  return new Date(ms).toLocaleDateString();
}

/** The full local date and time, for a tooltip. */
export const fullTime = (ms: number) => new Date(ms).toLocaleString();

/** The time of day, e.g. `14:05`. */
export const clock = (ms: number) =>
  new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });

/** A separator label between messages far apart: `Today 14:05`, `Tue 09:12`, `12 Mar 2025 18:00`. */
export function dayLabel(ms: number, now = Date.now()): string {
  const date = new Date(ms);
  const today = new Date(now);
  if (date.toDateString() === today.toDateString()) return `Today ${clock(ms)}`;
  if (now - ms < 6 * DAY) {
    return `${date.toLocaleDateString(undefined, { weekday: "short" })} ${clock(ms)}`;
  }
  return `${date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })} ${clock(ms)}`;
}

/** A `<time>` showing a short relative time, with the full date and time on hover. */
export function Time({ ms, class: cls }: { ms: number; class?: string }) {
  return (
    <time class={cls} dateTime={new Date(ms).toISOString()} title={fullTime(ms)}>
      {ago(ms)}
    </time>
  );
}
