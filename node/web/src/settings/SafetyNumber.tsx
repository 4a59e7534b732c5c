// The safety number with someone (`#/safety/<peer>`): 60 digits and a QR code to compare in
// person, as in Signal.
import { useEffect, useState } from "preact/hooks";

import { api, seg } from "../api";
import { subscribe } from "../events";
import { href } from "../router";
import { Avatar } from "../ui/Avatar";
import { nameOf, useProfiles, type ProfileView } from "../ui/profiles";
import { QrCode } from "./QrCode";
import "./settings.css";

type Safety = { peer_id: string; handle?: string | null; safety_number: string };

/** The safety number page for `peer` (an id or a handle). It reloads when their key changes. */
export function SafetyNumber({ peer }: { peer: string }) {
  const { profiles } = useProfiles();
  const [safety, setSafety] = useState<Safety | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [changed, setChanged] = useState(false);

  useEffect(() => {
    const load = () =>
      api.get<Safety>(`safety-number/${seg(peer)}`).then(
        (s) => {
          setSafety(s);
          setError(null);
        },
        (e: Error) => setError(e.message),
      );
    setSafety(null);
    setChanged(false);
    load();
    return subscribe((event) => {
      const p = event.profile as ProfileView | undefined;
      if (event.type === "key_changed" && p && (p.peer_id === peer || p.handle === peer)) {
        setChanged(true);
        load();
      }
    });
  }, [peer]);

  const digits = safety?.safety_number.replace(/\D/g, "") ?? "";
  const groups = digits.match(/\d{1,5}/g) ?? [];
  const name = safety ? nameOf(safety.peer_id, profiles, safety.handle) : peer;

  return (
    <main class="page safety-page">
      <p class="safety-back">
        <a href={href("settings")}>‹ Settings</a>
      </p>
      <h1>Safety number</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!safety && !error && <p class="muted">Loading…</p>}
      {safety && (
        <div class="safety-card">
          <a class="safety-who" href={href("profile", safety.peer_id)}>
            <Avatar peer={safety.peer_id} size="large" />
            <span class="person-name">{name}</span>
          </a>
          {changed && (
            <p class="safety-changed" role="alert">
              {name}'s safety number changed: they may have a new device, or someone else may be
              pretending to be them. Compare it again.
            </p>
          )}
          <QrCode data={digits} label={`QR code of your safety number with ${name}`} />
          <p class="safety-digits" aria-label={`Safety number: ${groups.join(" ")}`}>
            {groups.map((g, i) => (
              <span key={i}>{g}</span>
            ))}
          </p>
          <p class="safety-help muted">
            To be sure your messages with {name} are end-to-end encrypted with no one in between,
            compare these numbers with the ones on their screen, in person or over a call you
            trust, or scan the code on their device. If they match, your chats are safe. If they
            change later, {name} has new keys: compare again.
          </p>
        </div>
      )}
    </main>
  );
}
