// Times as a messenger shows them: "now", "5m", "3h", "Tue", "12 Mar".

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A short age for the inbox: `now`, `5m`, `3h`, `2d`, `4w`. */
export function ago(ms: number, now = Date.now()): string {
  const d = Math.max(0, now - ms);
  if (d < MINUTE) return "now";
  if (d < HOUR) return `${Math.floor(d / MINUTE)}m`;
  if (d < DAY) return `${Math.floor(d / HOUR)}h`;
  if (d < 7 * DAY) return `${Math.floor(d / DAY)}d`;
  return `${Math.floor(d / (7 * DAY))}w`;
}

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

/** A full date and time, for titles. */
export const fullTime = (ms: number) => new Date(ms).toLocaleString();
