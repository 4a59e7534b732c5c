// The app: a navigation rail (a bar at the bottom at phone width) and the page the hash route
// names. Each area lives in its own folder: inbox/, chat/, groups/, feed/, profile/, settings/;
// what they share is in ui/.
//
// The style sheets apply in this order: the app's base (styles.css), the shared pieces
// (ui/ui.css), then each area's, which the area's page imports.
import "./styles.css";
import "./ui/ui.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { onSignedOut } from "./api";
import { onConnection } from "./events";
import { startNotifications } from "./notify";
import { href, useRoute } from "./router";
import { Inbox } from "./inbox/Inbox";
import { Chat } from "./chat/Chat";
import { GroupInfo } from "./groups/GroupInfo";
import { Feed } from "./feed/Feed";
import { Profile } from "./profile/Profile";
import { Settings } from "./settings/Settings";
import { SafetyNumber } from "./settings/SafetyNumber";

/** The page for a route. */
function Page({ route }: { route: string[] }) {
  const [area, a, b] = route;
  switch (area) {
    case undefined:
    case "inbox":
      return <Inbox tab="inbox" />;
    case "requests":
      return <Inbox tab="requests" />;
    case "chat":
      return a ? <Chat peer={a} /> : <Inbox tab="inbox" />;
    case "group":
      if (!a) return <Inbox tab="inbox" />;
      return b === "info" ? <GroupInfo group={a} /> : <Chat group={a} />;
    case "feed":
      return <Feed />;
    case "profile":
      return <Profile peer={a} />;
    case "settings":
      return <Settings />;
    case "safety":
      return a ? <SafetyNumber peer={a} /> : <Settings />;
    default:
      return (
        <main class="page">
          <h1>Not found</h1>
          <p>
            There is no page here. <a href={href("inbox")}>Go to the inbox</a>.
          </p>
        </main>
      );
  }
}

const NAV: { area: string; label: string; icon: string; also?: string[] }[] = [
  { area: "inbox", label: "Messages", icon: "✈", also: ["", "requests", "chat", "group"] },
  { area: "feed", label: "Feed", icon: "▦" },
  { area: "profile", label: "Profile", icon: "◉" },
  { area: "settings", label: "Settings", icon: "⚙", also: ["safety"] },
];

function App() {
  const route = useRoute();
  const [signedOut, setSignedOut] = useState(false);
  const [online, setOnline] = useState(true);
  useEffect(() => onSignedOut(() => setSignedOut(true)), []);
  useEffect(() => onConnection(setOnline), []);
  if (signedOut) {
    return (
      <main class="page signed-out">
        <h1>Signed out</h1>
        <p>
          This page's session has ended (the daemon restarted, or you signed out). Run{" "}
          <code>paperplane open</code> to open the app again.
        </p>
      </main>
    );
  }
  const current = route[0] ?? "";
  return (
    <div class="app">
      <nav class="rail" aria-label="Main">
        {NAV.map((n) => {
          const active = current === n.area || (n.also ?? []).includes(current);
          return (
            <a
              href={href(n.area)}
              class={active ? "rail-item active" : "rail-item"}
              aria-current={active ? "page" : undefined}
            >
              <span class="rail-icon" aria-hidden="true">
                {n.icon}
              </span>
              <span class="rail-label">{n.label}</span>
            </a>
          );
        })}
      </nav>
      {!online && (
        <div class="offline" role="status">
          Reconnecting to the daemon…
        </div>
      )}
      <Page route={route} />
    </div>
  );
}

startNotifications();
render(<App />, document.getElementById("app")!);
