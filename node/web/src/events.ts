// The daemon's live events (`GET /v1/events`, Server-Sent Events): one EventSource for the
// whole app, shared by every page. Each event is a JSON object tagged by `type` (see
// node/src/event.rs for every kind and its fields).

/** One live event; `type` says which (`message`, `reaction`, `typing`, `post`, …). */
export type LiveEvent = { type: string; [field: string]: unknown };

type Listener = (event: LiveEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;
const connectionListeners = new Set<(connected: boolean) => void>();

function start() {
  if (source) return;
  source = new EventSource("/v1/events");
  source.onmessage = (e) => {
    let event: LiveEvent;
    try {
      event = JSON.parse(e.data);
    } catch {
      return;
    }
    listeners.forEach((l) => l(event));
  };
  source.onopen = () => connectionListeners.forEach((l) => l(true));
  // EventSource reconnects by itself; pages reload what they show when it comes back.
  source.onerror = () => connectionListeners.forEach((l) => l(false));
}

/** Calls `listener` for every live event until the returned function is called. */
export function subscribe(listener: Listener): () => void {
  start();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Calls `listener` when the stream (re)connects (true) or drops (false). */
export function onConnection(listener: (connected: boolean) => void): () => void {
  start();
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}
