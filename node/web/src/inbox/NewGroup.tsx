// "New group": a name and at least one person the user follows.
import { useState } from "preact/hooks";

import { api } from "../api";
import type { GroupView, PeerId } from "../chat/types";
import { Dialog } from "../ui/Dialog";
import { FollowingPicker, useFollowing } from "../ui/FollowingPicker";

/** The dialog; `onCreated` gets the new group's id. */
export function NewGroup({ onClose, onCreated }: { onClose: () => void; onCreated: (id: string) => void }) {
  const { people, error } = useFollowing();
  const [name, setName] = useState("");
  const [members, setMembers] = useState<PeerId[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (peer: PeerId) =>
    setMembers((m) => (m.includes(peer) ? m.filter((p) => p !== peer) : [...m, peer]));
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const g = await api.post<GroupView>("groups", { name: name.trim(), members });
      onCreated(g.id);
    } catch (err) {
      setFailure((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog label="New group" class="picker-dialog" closeOnBackdrop={false} onClose={onClose}>
      <form class="picker-form" onSubmit={create}>
        <label class="picker-field">
          <span>Group name</span>
          <input type="text" value={name} maxLength={100} required onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <FollowingPicker people={people} error={error} selected={members} onToggle={toggle} />
        {failure && (
          <p class="error" role="alert">
            {failure}
          </p>
        )}
        <button type="submit" class="primary picker-submit" disabled={busy || !name.trim() || members.length === 0}>
          Create group{members.length > 0 ? ` (${members.length + 1})` : ""}
        </button>
      </form>
    </Dialog>
  );
}
