// A chat (`#/chat/<peer>` or `#/group/<group>`): the header, the virtualised messages, the
// typing indicator and the composer. Beside the inbox list on wide screens.
import { useEffect, useMemo, useState } from "preact/hooks";

import { href } from "../router";
import { InboxPane } from "../inbox/InboxPane";
import { startNotifications } from "../notify";
import { Avatar, GroupAvatar } from "../ui/Avatar";
import type { RowContext } from "./Bubble";
import { Composer, type Mode } from "./Composer";
import { MessageList } from "./MessageList";
import { myId, person, useProfiles } from "../ui/profiles";
import { PhotoViewer } from "./PhotoViewer";
import type { MessageView } from "./types";
import { useChat, type ChatState, type ChatTarget } from "./useChat";
import "./chat.css";
import { BackIcon, CloseIcon, InfoIcon, ShieldIcon } from "../ui/icons";

/** The chat page: with a person (`peer`, an id or handle) or in a group (`group`, its id). */
export function Chat(props: { peer?: string; group?: string }) {
  useEffect(() => startNotifications(), []);
  const target: ChatTarget = props.group ? { group: props.group } : { peer: props.peer ?? "" };
  const key = props.group ? `g:${props.group}` : `p:${props.peer}`;
  return (
    <main class="page inbox-page inbox-has-chat">
      <InboxPane tab="inbox" current={props.group ?? props.peer} />
      <ChatPane key={key} target={target} />
    </main>
  );
}

function ChatPane({ target }: { target: ChatTarget }) {
  useProfiles();
  const chat = useChat(target);
  const [mode, setMode] = useState<Mode>(null);
  const [viewing, setViewing] = useState<MessageView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const isGroup = target.group !== undefined;

  const attempt = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setError(null);
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  };

  const ctx: RowContext = useMemo(
    () => ({
      me: myId(),
      isGroup,
      progress: chat.progress,
      onReact: (m, emoji) => attempt(() => chat.react(m.id, emoji)),
      onReply: (m) => setMode({ kind: "reply", message: m }),
      onEdit: (m) => setMode({ kind: "edit", message: m }),
      onUnsend: (m) => attempt(() => chat.unsend(m.id)),
      onOpenPhoto: setViewing,
    }),
    [chat.progress, chat.react, myId()],
  );

  const submit = (text: string) =>
    attempt(async () => {
      if (mode?.kind === "edit") await chat.edit(mode.message.id, text);
      else await chat.send(text, mode?.kind === "reply" ? mode.message.id : undefined);
      setMode(null);
    });

  const left = chat.group && chat.group.status !== "member";
  return (
    <section class="chat" aria-label="Chat">
      <ChatHeader target={target} chat={chat} />
      {chat.error ? (
        <p class="chat-empty error" role="alert">
          {chat.error}
        </p>
      ) : chat.loading ? (
        <p class="chat-empty muted">Loading…</p>
      ) : chat.messages.length === 0 ? (
        <EmptyChat target={target} chat={chat} />
      ) : (
        <MessageList messages={chat.messages} ctx={ctx} hasMore={chat.hasMore} loadOlder={chat.loadOlder} />
      )}
      <Typing peers={chat.typing} />
      {error && (
        <p class="chat-error" role="alert">
          {error}
          <button type="button" class="icon" aria-label="Dismiss" onClick={() => setError(null)}>
            <CloseIcon />
          </button>
        </p>
      )}
      {left ? (
        <p class="chat-left muted">You are no longer a member of this group.</p>
      ) : (
        <Composer
          mode={mode}
          onCancelMode={() => setMode(null)}
          onSubmit={submit}
          onPhoto={isGroup ? null : (file) => attempt(() => chat.sendPhoto(file, "")).then(() => {})}
          onTyping={chat.setTyping}
        />
      )}
      {viewing && <PhotoViewer message={viewing} onClose={() => setViewing(null)} />}
    </section>
  );
}

/** The header: back (at phone width), who or which group, and the links about them. */
function ChatHeader({ target, chat }: { target: ChatTarget; chat: ChatState }) {
  const back = (
    <a class="chat-back" href={href("inbox")} aria-label="Back to inbox">
      <BackIcon size={28} />
    </a>
  );
  if (target.group !== undefined) {
    const g = chat.group;
    const name = g?.name ?? "Group";
    return (
      <header class="chat-head">
        {back}
        <a class="chat-who" href={href("group", target.group, "info")}>
          <GroupAvatar name={name} />
          <span>
            <span class="chat-name">{name}</span>
            <span class="chat-sub muted">{g ? `${g.members.length} members` : ""}</span>
          </span>
        </a>
        <a class="chat-icon-link" href={href("group", target.group, "info")} aria-label="Group info">
          <InfoIcon />
        </a>
      </header>
    );
  }
  const peer = chat.peerId ?? target.peer;
  const who = person(peer);
  return (
    <header class="chat-head">
      {back}
      <a class="chat-who" href={href("profile", peer)}>
        <Avatar peer={who.peer} hint={who} />
        <span>
          <span class="chat-name">{who.name}</span>
          <span class="chat-sub muted">{who.handle ? `@${who.handle}` : ""}</span>
        </span>
      </a>
      <a class="chat-icon-link" href={href("safety", peer)} aria-label="Safety number" title="Safety number">
        <ShieldIcon />
      </a>
    </header>
  );
}

/** An empty chat: who it is with, and an invitation to write. */
function EmptyChat({ target, chat }: { target: ChatTarget; chat: ChatState }) {
  if (target.group !== undefined) {
    return <p class="chat-empty muted">{chat.group?.last_change ?? "No messages yet."}</p>;
  }
  const who = person(chat.peerId ?? target.peer);
  return (
    <div class="chat-empty">
      <Avatar peer={who.peer} hint={who} size="large" />
      <p class="chat-name">{who.name}</p>
      {who.handle && <p class="muted">@{who.handle}</p>}
      <a href={href("profile", who.peer)}>View profile</a>
    </div>
  );
}

/** "… is typing", from the typing events. */
function Typing({ peers }: { peers: string[] }) {
  const names = peers.filter((p) => p !== myId()).map((p) => person(p).name);
  return (
    <div class="typing" aria-live="polite">
      {names.length > 0 && (
        <>
          <span class="dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`}
        </>
      )}
    </div>
  );
}
