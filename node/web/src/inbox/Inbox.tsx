// The inbox page (`#/inbox`, `#/requests`): the conversation list, and on wide screens the
// invitation to open or start a chat beside it.
import { useEffect } from "preact/hooks";

import { startNotifications } from "../notify";
import { InboxPane } from "./InboxPane";
import { PlaneEmblemIcon } from "../ui/icons";

/** The page of the Inbox or Requests tab. */
export function Inbox({ tab }: { tab: "inbox" | "requests" }) {
  useEffect(() => startNotifications(), []);
  return (
    <main class="page inbox-page">
      <InboxPane tab={tab} />
      <section class="inbox-placeholder" aria-label="No chat open">
        <span class="inbox-placeholder-plane" aria-hidden="true">
          <PlaneEmblemIcon />
        </span>
        <h2>Your messages</h2>
        <p class="muted">Send private photos and messages to a friend or group.</p>
      </section>
    </main>
  );
}
