import { ago, fullTime } from "./time";

/** A `<time>` showing a short relative time, with the full date and time on hover. */
export function Time({ ms, class: cls }: { ms: number; class?: string }) {
  return (
    <time class={cls} dateTime={new Date(ms).toISOString()} title={fullTime(ms)}>
      {ago(ms)}
    </time>
  );
}
