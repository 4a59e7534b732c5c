import { useEffect, useState } from "preact/hooks";

import { api } from "../api";
import { subscribe } from "../events";

/** The few fields of `GET /v1/status` shown here (`NodeStatus`). */
type Status = {
  peer_id: string;
  handle: string;
  listen_addrs: string[];
  external_addrs: string[];
  relayed_addrs: string[];
  connected_peers: number;
  reachability: "unknown" | "public" | "private";
  outbox: number;
};

const REACHABILITY = {
  unknown: "Not known yet",
  public: "Reachable from the internet",
  private: "Behind a NAT (reached through relays)",
};

/** This node: its peer id (with a copy button), addresses, connections and outbox, refreshed as
 * peers connect and disconnect. */
export function NodeStatus() {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () =>
      api.get<Status>("status").then(setStatus, (e: Error) => setError(e.message));
    load();
    return subscribe((e) => (e.type === "peer_connected" || e.type === "peer_disconnected") && load());
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!status) return <p class="muted">Loading…</p>;
  const addresses = [...status.external_addrs, ...status.listen_addrs, ...status.relayed_addrs];
  return (
    <dl class="settings-node">
      <dt>Peer id</dt>
      <dd class="settings-copyable">
        <code id="peer-id">{status.peer_id}</code>
        <CopyButton text={status.peer_id} label="Copy peer id" />
      </dd>
      <dt>Handle</dt>
      <dd>@{status.handle}</dd>
      <dt>Connections</dt>
      <dd>
        {status.connected_peers} {status.connected_peers === 1 ? "peer" : "peers"} connected
      </dd>
      <dt>Reachability</dt>
      <dd>{REACHABILITY[status.reachability] ?? status.reachability}</dd>
      <dt>Waiting to be delivered</dt>
      <dd>{status.outbox === 0 ? "Nothing" : `${status.outbox} messages`}</dd>
      <dt>Addresses</dt>
      <dd>
        {addresses.length === 0 ? (
          <span class="muted">None yet</span>
        ) : (
          <ul class="settings-addresses">
            {addresses.map((a) => (
              <li key={a}>
                <code>{a}</code>
              </li>
            ))}
          </ul>
        )}
      </dd>
    </dl>
  );
}

/** A button that copies a text to the clipboard and says so for a moment. */
function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      getSelection()?.selectAllChildren(document.getElementById("peer-id")!);
    }
  };
  return (
    <button type="button" class="secondary small" aria-label={label} onClick={copy}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}
