// A group's page (`#/group/<group>/info`): its name (renamed by admins), members with their
// admin marks, adding people, removing members and making admins (admins only), leaving, and
// accepting a group the user was added to by someone they do not follow.
import { useEffect, useState } from "preact/hooks";

import { api, seg } from "../api";
import { Avatar, GroupAvatar } from "../ui/Avatar";
import { myId, person, useProfiles } from "../ui/profiles";
import type { GroupMemberView, GroupView, PeerId } from "../chat/types";
import { subscribe } from "../events";
import { Dialog } from "../ui/Dialog";
import { FollowingPicker, useFollowing } from "../ui/FollowingPicker";
import { href, navigate } from "../router";
import "./groups.css";
import { BackIcon } from "../ui/icons";

/** The group info page. */
export function GroupInfo({ group }: { group: string }) {
  useProfiles();
  const [g, setGroup] = useState<GroupView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const path = `groups/${seg(group)}`;

  const load = () => api.get<GroupView>(path).then(setGroup, (e) => setError((e as Error).message));
  useEffect(() => {
    load();
    return subscribe((e) => {
      if (e.type === "group_changed" && e.group === group) load();
    });
  }, [group]);

  /** Runs a change; the answer is the group as it stands after it. */
  const change = async (call: () => Promise<GroupView>) => {
    try {
      setGroup(await call());
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (!g) {
    return (
      <main class="page group-info">
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </main>
    );
  }
  const me = myId();
  const member = g.status === "member";
  const admin = member && g.members.some((m) => m.peer === me && m.admin);
  return (
    <main class="page group-info">
      <header class="group-head">
        <a class="group-back" href={href("group", g.id)} aria-label="Back to the chat">
          <BackIcon size={28} />
        </a>
        <h1>Details</h1>
      </header>
      <section class="group-card">
        <GroupAvatar name={g.name} size="large" />
        {admin ? <Rename group={g} onRename={(name) => change(() => api.patch<GroupView>(path, { name }))} /> : <h2>{g.name}</h2>}
        <p class="muted">
          {g.members.length} members · {g.last_change}
        </p>
        {g.status !== "member" && <p class="muted">{g.status === "left" ? "You left this group." : "You were removed from this group."}</p>}
      </section>
      {member && g.folder === "requests" && (
        <section class="group-invite" aria-label="Invitation">
          <p>You were added to this group by someone you don't follow.</p>
          <button type="button" class="primary" onClick={() => change(() => api.post<GroupView>(`${path}/accept`))}>
            Accept
          </button>
        </section>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="members-title">
        <div class="group-members-head">
          <h2 id="members-title">Members</h2>
          {admin && (
            <button type="button" onClick={() => setAdding(true)}>
              Add people
            </button>
          )}
        </div>
        <ul class="group-members" aria-label="Members">
          {g.members.map((m) => (
            <Member
              m={m}
              me={me}
              admin={admin}
              onRemove={() => change(() => api.del<GroupView>(`${path}/members/${seg(m.peer)}`))}
              onPromote={() => change(() => api.post<GroupView>(`${path}/admins`, { peer: m.peer }))}
            />
          ))}
        </ul>
      </section>
      {member && (
        <section class="group-actions">
          <button
            type="button"
            class="danger"
            onClick={() => {
              if (confirm(`Leave ${g.name}? You will no longer get its messages.`)) {
                change(() => api.post<GroupView>(`${path}/leave`)).then(() => navigate("inbox"));
              }
            }}
          >
            Leave group
          </button>
        </section>
      )}
      {adding && (
        <AddMembers
          exclude={g.members.map((m) => m.peer)}
          onClose={() => setAdding(false)}
          onAdd={(peers) => change(() => api.post<GroupView>(`${path}/members`, { peers })).then(() => setAdding(false))}
        />
      )}
    </main>
  );
}

/** The group's name, with a form to rename it (admins). */
function Rename({ group, onRename }: { group: GroupView; onRename: (name: string) => void }) {
  const [name, setName] = useState(group.name);
  useEffect(() => setName(group.name), [group.name]);
  return (
    <form
      class="group-rename"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && name.trim() !== group.name) onRename(name.trim());
      }}
    >
      <input
        type="text"
        aria-label="Group name"
        value={name}
        maxLength={100}
        onInput={(e) => setName((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={!name.trim() || name.trim() === group.name}>
        Rename
      </button>
    </form>
  );
}

/** One member: who, whether admin, and the admin's actions on them. */
function Member(props: { m: GroupMemberView; me: PeerId | null; admin: boolean; onRemove: () => void; onPromote: () => void }) {
  const { m } = props;
  const who = person(m.peer, { handle: m.handle });
  const self = m.peer === props.me;
  return (
    <li class="group-member">
      <a class="group-member-who" href={self ? href("profile") : href("profile", m.peer)}>
        <Avatar peer={who.peer} hint={who} />
        <span>
          <span class="group-member-name">
            {who.name}
            {self && " (you)"}
          </span>
          <span class="muted">
            {who.handle ? `@${who.handle}` : ""}
            {m.admin && <span class="group-admin-mark">Admin</span>}
          </span>
        </span>
      </a>
      {props.admin && !self && (
        <span class="group-member-actions">
          {!m.admin && (
            <button type="button" onClick={props.onPromote} aria-label={`Make ${who.name} an admin`}>
              Make admin
            </button>
          )}
          <button type="button" class="danger" onClick={props.onRemove} aria-label={`Remove ${who.name}`}>
            Remove
          </button>
        </span>
      )}
    </li>
  );
}

/** Picks people the user follows to add to the group. */
function AddMembers(props: { exclude: PeerId[]; onClose: () => void; onAdd: (peers: PeerId[]) => void }) {
  const { people, error } = useFollowing(props.exclude);
  const [picked, setPicked] = useState<PeerId[]>([]);
  return (
    <Dialog label="Add people" class="picker-dialog" closeOnBackdrop={false} onClose={props.onClose}>
      <form
        class="picker-form"
        onSubmit={(e) => {
          e.preventDefault();
          props.onAdd(picked);
        }}
      >
        <FollowingPicker
          people={people}
          error={error}
          selected={picked}
          onToggle={(p) => setPicked((s) => (s.includes(p) ? s.filter((x) => x !== p) : [...s, p]))}
        />
        <button type="submit" class="primary picker-submit" disabled={picked.length === 0}>
          Add{picked.length > 0 ? ` ${picked.length}` : ""}
        </button>
      </form>
    </Dialog>
  );
}
