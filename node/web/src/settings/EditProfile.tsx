import { useEffect, useMemo, useState } from "preact/hooks";

import { api, fileToBase64, photoUrl } from "../api";
import { rememberProfile, useProfiles, type ProfileView } from "../ui/profiles";

const TYPES = ["image/jpeg", "image/png", "image/webp"];

/** The form that changes the user's profile: photo, name, bio, and whether it is a business
 * account (and its category). `saved` is called after a successful save. */
export function EditProfile({ saved }: { saved?: () => void }) {
  const { me } = useProfiles();
  if (!me) return <p class="muted">Loading…</p>;
  return <ProfileForm key={me.peer_id} me={me} saved={saved} />;
}

function ProfileForm({ me, saved }: { me: ProfileView; saved?: () => void }) {
  const [name, setName] = useState(me.display_name);
  const [bio, setBio] = useState(me.bio);
  const [business, setBusiness] = useState(me.business_category != null);
  const [category, setCategory] = useState(me.business_category ?? "");
  const [photo, setPhoto] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ error: boolean; text: string } | null>(null);
  const preview = useMemo(() => (photo ? URL.createObjectURL(photo) : null), [photo]);
  useEffect(() => () => void (preview && URL.revokeObjectURL(preview)), [preview]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (business && !category.trim()) {
      setNote({ error: true, text: "A business account needs a category (like Bakery)." });
      return;
    }
    setBusy(true);
    setNote(null);
    try {
      const patch: Record<string, unknown> = {
        display_name: name.trim(),
        bio,
        business_category: business ? category.trim() : null,
      };
      if (photo) patch.avatar_base64 = await fileToBase64(photo);
      rememberProfile(await api.put<ProfileView>("profile", patch));
      setPhoto(null);
      setNote({ error: false, text: "Saved." });
      saved?.();
    } catch (err) {
      setNote({ error: true, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const shown = preview ?? (me.avatar ? photoUrl(me.avatar) : null);
  return (
    <form class="settings-profile-form" onSubmit={submit}>
      <div class="settings-photo">
        {shown ? <img class="avatar large" src={shown} alt="" /> : <span class="avatar large" aria-hidden="true">{(name || me.handle).charAt(0).toUpperCase()}</span>}
        <div>
          <p class="person-name">{me.handle}</p>
          <label class="settings-file-link">
            Change photo
            <input
              type="file"
              class="visually-hidden"
              accept={TYPES.join(",")}
              onChange={(e) => {
                const file = e.currentTarget.files?.[0] ?? null;
                const ok = !file || (TYPES.includes(file.type) && file.size <= 8 * 1024 * 1024);
                setNote(ok ? null : { error: true, text: "A photo is a JPEG, PNG or WebP of 8 MiB at most." });
                if (ok) setPhoto(file);
              }}
            />
          </label>
        </div>
      </div>
      <label class="settings-field">
        <span>Name</span>
        <input type="text" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="settings-field">
        <span>Bio</span>
        <textarea rows={3} maxLength={150} value={bio} onInput={(e) => setBio(e.currentTarget.value)} />
        <small class="muted">{bio.length} / 150</small>
      </label>
      <label class="settings-check">
        <input type="checkbox" checked={business} onChange={(e) => setBusiness(e.currentTarget.checked)} />
        <span>Business account</span>
      </label>
      {business && (
        <label class="settings-field">
          <span>Category</span>
          <input
            type="text"
            maxLength={64}
            placeholder="Bakery, Florist, Photographer…"
            value={category}
            onInput={(e) => setCategory(e.currentTarget.value)}
          />
        </label>
      )}
      {note && (
        <p class={note.error ? "error" : "muted"} role={note.error ? "alert" : "status"}>
          {note.text}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Saving…" : "Save"}
      </button>
    </form>
  );
}
