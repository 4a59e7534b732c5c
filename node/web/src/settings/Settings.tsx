// Settings (`#/settings`): the profile, privacy, safety numbers, blocked people, business tools
// and this node's status, one section each.
import type { ComponentChildren } from "preact";

import { useProfiles } from "../ui/profiles";
import { Away } from "./Away";
import { EditProfile } from "./EditProfile";
import { NodeStatus } from "./NodeStatus";
import { BlockedList, SafetyNumbersList } from "./PeopleLists";
import { ReadReceipts } from "./ReadReceipts";
import { SignOut } from "./SignOut";
import "./settings.css";

/** The settings page. */
export function Settings() {
  const { me } = useProfiles();
  return (
    <main class="page settings-page">
      <h1>Settings</h1>
      <Section id="profile" title="Edit profile">
        <EditProfile />
      </Section>
      <Section id="privacy" title="Privacy">
        <ReadReceipts />
      </Section>
      {me?.business_category && (
        <Section id="away" title="Away message">
          <Away />
        </Section>
      )}
      <Section id="safety" title="Safety numbers">
        <p class="muted settings-section-help">
          Compare a safety number with the person in person (or over a call) to be sure your messages
          reach them and no one else.
        </p>
        <SafetyNumbersList />
      </Section>
      <Section id="blocked" title="Blocked">
        <BlockedList />
      </Section>
      <Section id="node" title="This node">
        <NodeStatus />
      </Section>
      <Section id="session" title="This browser">
        <SignOut />
      </Section>
    </main>
  );
}

function Section(props: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section class="settings-section" aria-labelledby={`settings-${props.id}`}>
      <h2 id={`settings-${props.id}`}>{props.title}</h2>
      {props.children}
    </section>
  );
}
