// Times as Instagram shows them: short and relative ("3h"), with the full date on hover.

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
