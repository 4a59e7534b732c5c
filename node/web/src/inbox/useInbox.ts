// The inbox and the requests, kept current from live events (reloaded, debounced, on anything
// that changes a conversation's place, preview or unread count).
import { useEffect, useState } from "preact/hooks";

import { api } from "../api";
import type { ChatView } from "../chat/types";
import { onConnection, subscribe } from "../events";

const RELOAD_ON = new Set([
  "message",
  "message_sent",
  "chat_read",
  "request_accepted",
  "request_declined",
  "blocked",
  "message_unsent",
  "message_edited",
  "group_changed",
  "chat_marks",
  "message_delivered",
  "messages_seen",
]);

/** The last lists loaded, shown at once when the pane mounts again. */
let cache: { inbox: ChatView[]; requests: ChatView[] } | null = null;
const reloaders = new Set<() => void>();

/** Asks every shown list to reload (e.g. once a chat was opened and marked read). */
export function refreshInbox(): void {
  reloaders.forEach((r) => r());
}

/** The conversations of the inbox and of the requests, and a way to reload them now. */
export function useInbox() {
  const [lists, setLists] = useState(cache);
  const [error, setError] = useState<string | null>(null);
  const reload = async () => {
    try {
      const [inbox, requests] = await Promise.all([
        api.get<ChatView[]>("inbox"),
        api.get<ChatView[]>("requests"),
      ]);
      cache = { inbox, requests };
      setLists(cache);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    reload();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(reload, 150);
    };
    reloaders.add(later);
    const offEvents = subscribe((e) => RELOAD_ON.has(e.type) && later());
    const offConnection = onConnection((up) => up && later());
    return () => {
      clearTimeout(timer);
      reloaders.delete(later);
      offEvents();
      offConnection();
    };
  }, []);
  return { lists, error, reload };
}
