// The list of conversations: the header (new message, new group, notifications), the Inbox and
// Requests tabs, and a row per chat or request. The inbox page shows it alone (on wide screens
// beside an invitation to pick a chat); a chat page shows it on its left.
import { useState } from "preact/hooks";

import { api, seg } from "../api";
import { Avatar, GroupAvatar } from "../ui/Avatar";
import { myId, person, useProfiles } from "../ui/profiles";
import { ago, fullTime } from "../ui/time";
import type { ChatView } from "../chat/types";
import { preview, requestNotifications, useNotificationPermission } from "../notify";
import { href, navigate } from "../router";
import { NewGroup } from "./NewGroup";
import { NewMessage } from "./NewMessage";
import { useInbox } from "./useInbox";
import "./inbox.css";
import { BellIcon, ComposeIcon, GroupIcon } from "../ui/icons";

/** The pane; `current` is the open chat's peer or group id, highlighted. */
export function InboxPane({ tab, current }: { tab: "inbox" | "requests"; current?: string }) {
  useProfiles();
  const { lists, error, reload } = useInbox();
  const [dialog, setDialog] = useState<"message" | "group" | null>(null);
  const chats = tab === "inbox" ? lists?.inbox : lists?.requests;
  const requestCount = lists?.requests.length ?? 0;
  const me = myId();
  return (
    <section class="inbox-pane" aria-label="Conversations">
      <header class="inbox-head">
        <h1>
          {me ? (person(me).handle ?? "Messages") : "Messages"}
        </h1>
        <button type="button" class="icon" aria-label="New group" title="New group" onClick={() => setDialog("group")}>
          <GroupIcon />
        </button>
        <button type="button" class="icon" aria-label="New message" title="New message" onClick={() => setDialog("message")}>
          <ComposeIcon />
        </button>
      </header>
      <NotifyPrompt />
      <nav class="tabs inbox-tabs" aria-label="Folders">
        <a href={href("inbox")} aria-current={tab === "inbox" ? "page" : undefined}>
          Messages
        </a>
        <a href={href("requests")} aria-current={tab === "requests" ? "page" : undefined}>
          Requests{requestCount > 0 && <span class="badge">{requestCount}</span>}
        </a>
      </nav>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!chats ? (
        <p class="muted inbox-note">Loading…</p>
      ) : chats.length === 0 ? (
        <p class="muted inbox-note">{tab === "inbox" ? "No messages yet. Start a chat with the pencil above." : "No message requests."}</p>
      ) : (
        <ul class="inbox-list" aria-label={tab === "inbox" ? "Chats" : "Message requests"}>
          {chats.map((c) => (
            <ChatRow chat={c} current={current} request={tab === "requests"} onDecided={reload} />
          ))}
        </ul>
      )}
      {dialog === "message" && <NewMessage onClose={() => setDialog(null)} />}
      {dialog === "group" && (
        <NewGroup
          onClose={() => setDialog(null)}
          onCreated={(id) => {
            setDialog(null);
            navigate("group", id);
          }}
        />
      )}
    </section>
  );
}

/** The "Turn on notifications" banner, while the browser has not been asked yet. */
function NotifyPrompt() {
  const permission = useNotificationPermission();
  if (permission !== "default") return null;
  return (
    <div class="inbox-notify">
      <span>Get notified of new messages.</span>
      <button type="button" class="primary" onClick={() => requestNotifications()}>
        Turn on notifications
      </button>
    </div>
  );
}

/** One conversation: a link to it (named by the chat's name), and for a request its buttons. */
function ChatRow(props: { chat: ChatView; current?: string; request: boolean; onDecided: () => void }) {
  const c = props.chat;
  const id = c.group?.id ?? c.peer;
  const who = person(c.peer, { handle: c.handle, name: c.display_name });
  const name = c.group ? c.group.name : who.name;
  const link = c.group ? href("group", c.group.id) : href("chat", c.peer);
  const last = c.last_message;
  let line = last ? preview(last) : c.group ? `${c.group.members} members` : "";
  if (last && c.group && !last.outgoing) line = `${person(last.from).name}: ${line}`;
  if (last?.outgoing) line = `You: ${line}`;
  const unread = c.unread > 0;
  const descId = `chat-desc-${id}`;
  return (
    <li class={`inbox-row${unread ? " unread" : ""}${props.current === id || props.current === c.handle ? " current" : ""}`}>
      <a class="inbox-link" href={link} aria-label={name} aria-describedby={descId}>
        {c.group ? <GroupAvatar name={name} /> : <Avatar peer={who.peer} hint={who} />}
        <span class="inbox-text">
          <span class="inbox-title">
            {name}
            {c.muted && (
              <span class="inbox-muted-mark" title="Muted">
                <BellIcon size={15} />
                <span class="visually-hidden">(muted)</span>
              </span>
            )}
          </span>
          <span class="inbox-preview" id={descId}>
            <span class="inbox-line">{line}</span>
            <span class="inbox-when" title={fullTime(c.last_activity)}>
              {" · "}
              {ago(c.last_activity)}
            </span>
            {unread && <span class="visually-hidden">, {c.unread} unread</span>}
          </span>
        </span>
        {unread && (
          <span class="badge" aria-hidden="true">
            {c.unread}
          </span>
        )}
      </a>
      {props.request && <RequestButtons chat={c} onDecided={props.onDecided} />}
    </li>
  );
}

/** Accept / Decline / Block for a request (a group request: Accept / Decline). */
function RequestButtons({ chat, onDecided }: { chat: ChatView; onDecided: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (call: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await call();
      setError(null);
      onDecided();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const g = chat.group;
  return (
    <div class="inbox-requests">
      <button
        type="button"
        class="primary"
        disabled={busy}
        onClick={() => act(() => (g ? api.post(`groups/${g.id}/accept`) : api.post(`requests/${seg(chat.peer)}/accept`)))}
      >
        Accept
      </button>
      <button
        type="button"
        disabled={busy}
        onClick={() => act(() => (g ? api.post(`groups/${g.id}/leave`) : api.del(`requests/${seg(chat.peer)}`)))}
      >
        Decline
      </button>
      {!g && (
        <button type="button" class="danger" disabled={busy} onClick={() => act(() => api.post(`blocked/${seg(chat.peer)}`))}>
          Block
        </button>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
