// One chat's state: its messages (oldest first), kept current from live events, and the
// actions on it. A direct chat (`peer`) and a group chat (`group`) differ only in their routes.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { api, ApiError, fileToBase64, seg } from "../api";
import { onConnection, subscribe, type LiveEvent } from "../events";
import { refreshInbox } from "../inbox/useInbox";
import type { GroupView, MessageView, PeerId } from "./types";

/** Which chat: a person (id or handle) or a group (id). */
export type ChatTarget = { peer: string; group?: undefined } | { group: string; peer?: undefined };

const PAGE = 100;

/** Where a received photo's download stands (fraction 0–1), by message id. */
export type Progress = Record<string, number>;

/** The live state of a chat and what can be done in it. */
export interface ChatState {
  messages: MessageView[];
  /** The other person's id (direct chats), once resolved. */
  peerId: PeerId | null;
  group: GroupView | null;
  loading: boolean;
  error: string | null;
  /** Whether older messages may exist. */
  hasMore: boolean;
  /** Who is typing now. */
  typing: PeerId[];
  progress: Progress;
  loadOlder: () => Promise<void>;
  send: (text: string, replyTo?: string) => Promise<void>;
  sendPhoto: (file: File, caption: string) => Promise<void>;
  react: (id: string, emoji: string) => Promise<void>;
  edit: (id: string, text: string) => Promise<void>;
  unsend: (id: string) => Promise<void>;
  setTyping: (active: boolean) => void;
}

/** Merges `incoming` into `list` by id (replacing what changed), oldest first. */
function merge(list: MessageView[], incoming: MessageView[]): MessageView[] {
  if (incoming.length === 0) return list;
  const byId = new Map(incoming.map((m) => [m.id, m]));
  const out = list.map((m) => {
    const fresh = byId.get(m.id);
    if (fresh) byId.delete(m.id);
    return fresh ?? m;
  });
  const added = [...byId.values()];
  if (added.length === 0) return out;
  const first = out[0]?.sent_at ?? -Infinity;
  const last = out[out.length - 1]?.sent_at ?? -Infinity;
  if (added.every((m) => m.sent_at >= last)) return [...out, ...added];
  if (added.every((m) => m.sent_at < first)) return [...added, ...out];
  return [...out, ...added].sort((a, b) => a.sent_at - b.sent_at);
}

/** Loads and follows one chat. */
export function useChat(target: ChatTarget): ChatState {
  const key = target.group ? `g:${target.group}` : `p:${target.peer}`;
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [peerId, setPeerId] = useState<PeerId | null>(null);
  const [group, setGroup] = useState<GroupView | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [typingUntil, setTypingUntil] = useState<Record<PeerId, number>>({});
  const [progress, setProgress] = useState<Progress>({});
  const [now, setNow] = useState(Date.now());
  const state = useRef({
    messages,
    peerId,
    unreadWhileHidden: false,
    /** Receipts that arrived before the answer that sent their message. */
    early: new Map<string, Partial<MessageView>>(),
  });
  state.current.messages = messages;
  state.current.peerId = peerId;

  const groupPath = target.group ? `groups/${seg(target.group)}` : "";
  /** The route of one message of this chat. */
  const messagePath = (id: string) =>
    target.group ? `${groupPath}/messages/${seg(id)}` : `messages/${seg(id)}`;

  /** Marks the chat read (the daemon sends the read receipt). */
  const markRead = useCallback(() => {
    if (document.visibilityState !== "visible") {
      state.current.unreadWhileHidden = true;
      return;
    }
    state.current.unreadWhileHidden = false;
    const read = target.group
      ? api.post(`${groupPath}/read?limit=1`)
      : state.current.peerId && api.get(`chats/${seg(state.current.peerId)}?limit=1`);
    if (read) read.then(refreshInbox, () => {});
  }, [key]);

  const load = useCallback(async () => {
    try {
      if (target.group) {
        const [g, list] = await Promise.all([
          api.get<GroupView>(groupPath),
          api.post<MessageView[]>(`${groupPath}/read?limit=${PAGE}`),
        ]);
        setGroup(g);
        setMessages((old) => merge(old, list));
        setHasMore((more) => (state.current.messages.length ? more : list.length >= PAGE));
      } else {
        const resolved = await api.get<{ peer_id: PeerId }>(`resolve/${seg(target.peer ?? "")}`);
        setPeerId(resolved.peer_id);
        state.current.peerId = resolved.peer_id;
        try {
          const list = await api.get<MessageView[]>(`chats/${seg(resolved.peer_id)}?limit=${PAGE}`);
          setMessages((old) => merge(old, list));
          setHasMore((more) => (state.current.messages.length ? more : list.length >= PAGE));
        } catch (e) {
          // No conversation yet: an empty chat, ready for the first message.
          if (!(e instanceof ApiError && e.status === 404)) throw e;
        }
      }
      setError(null);
      refreshInbox();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }, [key]);

  useEffect(() => {
    setMessages([]);
    setPeerId(null);
    setGroup(null);
    setLoading(true);
    setError(null);
    setTypingUntil({});
    setProgress({});
    load();
  }, [key]);

  /** Re-reads a message that changed. */
  const refresh = useCallback(
    async (id: string) => {
      try {
        const m = await api.get<MessageView>(messagePath(id));
        setMessages((old) => merge(old, [m]));
      } catch {
        // gone (declined, deleted): the next load shows what is left
      }
    },
    [key],
  );

  useEffect(() => {
    const mine = (peer: unknown) => !target.group && peer === state.current.peerId;
    const known = (id: unknown) => state.current.messages.some((m) => m.id === id);
    const inThisChat = (m: MessageView) =>
      target.group ? m.group === target.group : !m.group && mine(m.peer);
    const setState = (id: unknown, patch: Partial<MessageView>) =>
      setMessages((old) => old.map((m) => (m.id === id ? { ...m, ...patch } : m)));
    const handle = (e: LiveEvent) => {
      switch (e.type) {
        case "message_sent": {
          // Sent from another client (the CLI, another tab): shown unless already here, so
          // that a later state (delivered, seen) is never set back to pending.
          const m = e.message as MessageView;
          if (!inThisChat(m)) return;
          setMessages((old) => (old.some((x) => x.id === m.id) ? old : merge(old, [withEarly(m)])));
          return;
        }
        case "message": {
          const m = e.message as MessageView;
          if (!inThisChat(m)) return;
          setMessages((old) => merge(old, [m]));
          setTypingUntil((t) => ({ ...t, [m.from]: 0 }));
          if (!m.outgoing) markRead();
          return;
        }
        case "message_delivered":
        case "message_stored": {
          const next = e.type === "message_delivered" ? "delivered" : "stored";
          if (!known(e.id)) state.current.early.set(e.id as string, { state: next });
          setMessages((old) =>
            old.map((m) => (m.id === e.id && m.state !== "seen" && m.state !== "delivered" ? { ...m, state: next } : m)),
          );
          return;
        }
        case "message_failed":
          if (!known(e.id)) state.current.early.set(e.id as string, { state: "failed", error: e.reason as string });
          setState(e.id, { state: "failed", error: e.reason as string });
          return;
        case "messages_seen":
          if (mine(e.peer)) {
            setMessages((old) => {
              const upTo = old.findIndex((m) => m.id === e.up_to);
              if (upTo < 0) return old;
              return old.map((m, i) =>
                i <= upTo && m.outgoing && m.state !== "failed" && m.state !== "seen"
                  ? { ...m, state: "seen", seen_at: e.seen_at as number }
                  : m,
              );
            });
          }
          return;
        case "reaction":
        case "message_edited":
        case "message_unsent":
        case "chat_photo_ready":
        case "chat_photo_failed":
          if (known(e.message ?? e.id)) refresh((e.message ?? e.id) as string);
          return;
        case "group_message_changed":
          if (e.group === target.group && known(e.message)) refresh(e.message as string);
          return;
        case "chat_photo_progress":
          if (known(e.id)) {
            const total = Number(e.total) || 1;
            setProgress((p) => ({ ...p, [e.id as string]: Number(e.bytes) / total }));
          }
          return;
        case "typing":
          if (mine(e.peer)) {
            setTypingUntil((t) => ({ ...t, [e.peer as string]: e.active ? (e.expires_at as number) : 0 }));
          }
          return;
        case "group_typing":
          if (e.group === target.group) {
            setTypingUntil((t) => ({ ...t, [e.peer as string]: e.active ? (e.expires_at as number) : 0 }));
          }
          return;
        case "group_changed":
          if (e.group === target.group) {
            api.get<GroupView>(groupPath).then(setGroup, () => {});
          }
          return;
      }
    };
    const offEvents = subscribe(handle);
    let wasOffline = false;
    const offConnection = onConnection((up) => {
      if (up && wasOffline) load();
      wasOffline = !up;
    });
    const onVisible = () => {
      if (document.visibilityState === "visible" && state.current.unreadWhileHidden) markRead();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      offEvents();
      offConnection();
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [key]);

  // Typing indicators expire by themselves.
  const typing = Object.entries(typingUntil)
    .filter(([, until]) => until > now)
    .map(([peer]) => peer);
  useEffect(() => {
    const next = Math.min(...Object.values(typingUntil).filter((u) => u > Date.now()));
    if (!Number.isFinite(next)) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.max(50, next - Date.now() + 20));
    return () => clearTimeout(timer);
  }, [typingUntil, now]);

  const loadOlder = useCallback(async () => {
    const oldest = state.current.messages[0];
    if (!oldest) return;
    const path = target.group
      ? `${groupPath}/messages`
      : state.current.peerId && `chats/${seg(state.current.peerId)}`;
    if (!path) return;
    const list = await api.get<MessageView[]>(`${path}?limit=${PAGE}&before=${oldest.id}`);
    setMessages((old) => merge(old, list));
    setHasMore(list.length >= PAGE);
  }, [key]);

  /** A message just sent, with any receipt that overtook the answer. */
  const withEarly = (m: MessageView): MessageView => {
    const early = state.current.early.get(m.id);
    state.current.early.delete(m.id);
    return early && m.state === "pending" ? { ...m, ...early } : m;
  };

  const send = useCallback(
    async (text: string, replyTo?: string) => {
      const body: Record<string, unknown> = { text, wait_ms: 0 };
      if (replyTo) body.reply_to = replyTo;
      const m = target.group
        ? await api.post<MessageView>(`${groupPath}/messages`, body)
        : await api.post<MessageView>("messages", { ...body, to: state.current.peerId ?? target.peer });
      setMessages((old) => merge(old, [withEarly(m)]));
    },
    [key],
  );

  const sendPhoto = useCallback(
    async (file: File, caption: string) => {
      const to = state.current.peerId ?? target.peer;
      const body: Record<string, unknown> = { photo_base64: await fileToBase64(file), wait_ms: 0 };
      if (caption) body.text = caption;
      const m = await api.post<MessageView>(`chats/${seg(to ?? "")}/photos`, body);
      setMessages((old) => merge(old, [withEarly(m)]));
    },
    [key],
  );

  const react = useCallback(
    async (id: string, emoji: string) => {
      const m = await api.post<MessageView>(`${messagePath(id)}/reactions`, { emoji });
      if (!target.group) setMessages((old) => merge(old, [m]));
    },
    [key],
  );

  const edit = useCallback(
    async (id: string, text: string) => {
      const m = await api.patch<MessageView>(messagePath(id), { text });
      setMessages((old) => merge(old, [m]));
    },
    [key],
  );

  const unsend = useCallback(
    async (id: string) => {
      const m = await api.del<MessageView>(messagePath(id));
      setMessages((old) => merge(old, [m]));
    },
    [key],
  );

  const lastTyping = useRef(0);
  const setTyping = useCallback(
    (active: boolean) => {
      const to = state.current.peerId;
      const path = target.group
        ? `groups/${seg(target.group)}/typing`
        : to
          ? `chats/${seg(to)}/typing`
          : null;
      if (!path) return;
      const t = Date.now();
      if (active && t - lastTyping.current < 3000) return;
      lastTyping.current = active ? t : 0;
      api.post(path, { active }).catch(() => {});
    },
    [key],
  );

  return {
    messages,
    peerId,
    group,
    loading,
    error,
    hasMore,
    typing,
    progress,
    loadOlder,
    send,
    sendPhoto,
    react,
    edit,
    unsend,
    setTyping,
  };
}
