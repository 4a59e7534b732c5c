// The messages of a chat as a virtualised log: only the rows in view are in the DOM, the list
// starts at the bottom, stays pinned there as messages arrive (if the reader is there), and
// loads older messages when scrolled near the top.
import { useLayoutEffect, useMemo, useRef } from "preact/hooks";

import { MessageRow, separator, statusText, type RowContext, type RowPlace } from "./Bubble";
import type { MessageView } from "./types";
import { useVirtualizer } from "./useVirtualizer";

/** Messages by the same sender this close together form one run. */
const RUN_GAP = 10 * 60_000;

/** Where each message sits: runs by sender, time separators, our newest message's status. */
function places(messages: MessageView[], isGroup: boolean): RowPlace[] {
  let lastOwn = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].outgoing && messages[i].kind !== "unsent" && messages[i].kind !== "change") {
      lastOwn = i;
      break;
    }
  }
  const days = messages.map((m, i) => separator(messages[i - 1], m));
  const joined = (a: MessageView | undefined, b: MessageView | undefined, bDay: string | null) =>
    !!a && !!b && !bDay && a.from === b.from && a.kind !== "change" && b.kind !== "change" && b.sent_at - a.sent_at < RUN_GAP;
  return messages.map((m, i) => ({
    first: !joined(messages[i - 1], m, days[i]),
    last: !joined(m, messages[i + 1], days[i + 1] ?? null),
    day: days[i],
    status: i === lastOwn || (m.outgoing && m.state === "failed") ? statusText(m, isGroup) || null : null,
  }));
}

/** The list; `loadOlder` is called near the top while `hasMore`. */
export function MessageList(props: {
  messages: MessageView[];
  ctx: RowContext;
  hasMore: boolean;
  loadOlder: () => Promise<void>;
}) {
  const { messages, ctx, hasMore } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => places(messages, ctx.isGroup), [messages, ctx.isGroup]);
  const v = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 48,
    getItemKey: (i) => messages[i]?.id ?? i,
    overscan: 6,
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: 120,
  });

  // Start at the bottom; jump there when the user sends something.
  const shown = useRef({ started: false, lastId: "", loadingOlder: false });
  useLayoutEffect(() => {
    const last = messages[messages.length - 1];
    if (!last) return;
    if (!shown.current.started) {
      shown.current.started = true;
      v.scrollToIndex(messages.length - 1, { align: "end" });
    } else if (last.id !== shown.current.lastId && last.outgoing) {
      v.scrollToIndex(messages.length - 1, { align: "end" });
    }
    shown.current.lastId = last.id;
  }, [messages]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el || !hasMore || shown.current.loadingOlder || el.scrollTop > 600) return;
    shown.current.loadingOlder = true;
    props.loadOlder().finally(() => {
      shown.current.loadingOlder = false;
    });
  };

  const items = v.getVirtualItems();
  return (
    <div class="messages" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages">
      <div class="messages-spacer" />
      <div class="messages-inner" style={{ height: `${v.getTotalSize()}px` }}>
        <div class="messages-window" style={{ transform: `translateY(${items[0]?.start ?? 0}px)` }}>
          {items.map((item) => (
            <div key={String(item.key)} data-index={item.index} ref={v.measureElement}>
              <MessageRow m={messages[item.index]} place={rows[item.index]} ctx={ctx} />
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
