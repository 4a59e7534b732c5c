// Browser notifications for new messages while the app's tab is hidden: the sender's name and
// a preview; clicking one focuses the tab and opens the chat. Requests notify silently, muted
// chats not at all.
import { useEffect, useState } from "preact/hooks";

import { api } from "./api";
import { loadProfiles, person } from "./ui/profiles";
import type { ChatView, MessageView } from "./chat/types";
import { subscribe } from "./events";
import { navigate } from "./router";

const supported = typeof Notification !== "undefined";
const muted = new Set<string>();
let started = false;
const permissionListeners = new Set<(p: NotificationPermission) => void>();

/** A message's one-line preview, as the inbox and notifications show it. */
export function preview(m: MessageView): string {
  switch (m.kind) {
    case "photo":
      return m.text ? `📷 ${m.text}` : "Sent a photo";
    case "shared_post":
      return m.text ? `Sent a post: ${m.text}` : "Sent a post";
    case "unsent":
      return "Message unsent";
    case "unsupported":
      return "Sent a message this app can't show";
    default:
      return m.text;
  }
}

function show(m: MessageView, request: boolean) {
  if (document.visibilityState !== "hidden" || Notification.permission !== "granted") return;
  if (m.outgoing || muted.has(m.group ?? m.peer)) return;
  const sender = person(m.from);
  const title = request ? "New message request" : m.group ? `${sender.name} in a group` : sender.name;
  const body = request ? `${sender.handle ? `@${sender.handle}` : sender.name} wants to send you a message` : preview(m);
  const n = new Notification(title, {
    body: body.slice(0, 140),
    tag: m.group ?? m.peer,
    silent: request,
  });
  n.onclick = () => {
    window.focus();
    if (request) navigate("requests");
    else if (m.group) navigate("group", m.group);
    else navigate("chat", m.peer);
    n.close();
  };
}

/** Starts showing notifications (once; later calls do nothing). Call it at start-up; the
 * permission itself is asked by `requestNotifications`, on a user gesture. */
export function startNotifications(): void {
  if (started || !supported) return;
  started = true;
  loadProfiles();
  api
    .get<ChatView[]>("inbox")
    .then((chats) => chats.forEach((c) => c.muted && muted.add(c.group?.id ?? c.peer)))
    .catch(() => {});
  subscribe((event) => {
    if (event.type === "message") show(event.message as MessageView, event.request === true);
    else if (event.type === "chat_marks") {
      const marks = event.marks as { peer: string; muted: boolean };
      if (marks.muted) muted.add(marks.peer);
      else muted.delete(marks.peer);
    }
  });
}

/** Asks the browser's permission to notify (call it from a click). */
export async function requestNotifications(): Promise<void> {
  if (!supported) return;
  const p = await Notification.requestPermission();
  permissionListeners.forEach((l) => l(p));
}

/** The notification permission (`"unsupported"` without the API), re-rendering on change. */
export function useNotificationPermission(): NotificationPermission | "unsupported" {
  const [p, setP] = useState<NotificationPermission | "unsupported">(
    supported ? Notification.permission : "unsupported",
  );
  useEffect(() => {
    permissionListeners.add(setP);
    return () => {
      permissionListeners.delete(setP);
    };
  }, []);
  return p;
}
