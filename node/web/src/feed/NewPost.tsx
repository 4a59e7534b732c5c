import { useEffect, useMemo, useState } from "preact/hooks";

import { api, ApiError, fileToBase64 } from "../api";
import { Dialog } from "../ui/Dialog";
import { fetchPost } from "./posts";
import type { PostView } from "./types";

const MAX_PHOTOS = 10;
const MAX_BYTES = 8 * 1024 * 1024;
const TYPES = ["image/jpeg", "image/png", "image/webp"];

/** The "New post" dialog: 1–10 photos (JPEG, PNG or WebP, 8 MiB each at most) and a caption.
 * `posted` gets the new post. */
export function NewPost({ onClose, posted }: { onClose: () => void; posted: (post: PostView) => void }) {
  const [files, setFiles] = useState<File[]>([]);
  const [caption, setCaption] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const previews = useMemo(() => files.map((f) => URL.createObjectURL(f)), [files]);
  useEffect(() => () => previews.forEach((u) => URL.revokeObjectURL(u)), [previews]);

  const pick = (list: FileList | null) => {
    const all = Array.from(list ?? []);
    const bad = all.find((f) => !TYPES.includes(f.type) || f.size > MAX_BYTES);
    if (bad) {
      setError(`${bad.name} is not a JPEG, PNG or WebP photo of 8 MiB at most.`);
      return;
    }
    setError(all.length > MAX_PHOTOS ? `A post has ${MAX_PHOTOS} photos at most: the first ${MAX_PHOTOS} are kept.` : null);
    setFiles(all.slice(0, MAX_PHOTOS));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const photos_base64 = await Promise.all(files.map(fileToBase64));
      const { id } = await api.post<{ id: string }>("posts", { photos_base64, caption });
      posted(await fetchPost(id));
      onClose();
    } catch (err) {
      const busyNode = err instanceof ApiError && err.status === 429;
      setError(busyNode ? "Other uploads are running: try again in a moment." : (err as Error).message);
      setBusy(false);
    }
  };

  return (
    <Dialog label="New post" onClose={onClose} class="new-post">
      <form class="new-post-form" onSubmit={submit}>
        {files.length > 0 ? (
          <ul class="new-post-previews" aria-label="Chosen photos">
            {previews.map((url, i) => (
              <li key={url}>
                <img src={url} alt={`Photo ${i + 1}: ${files[i].name}`} />
              </li>
            ))}
          </ul>
        ) : (
          <p class="new-post-hint muted">Choose up to 10 photos.</p>
        )}
        <label class="new-post-file">
          {files.length > 0 ? "Choose other photos" : "Choose photos"}
          <input
            type="file"
            class="visually-hidden"
            accept={TYPES.join(",")}
            multiple
            onChange={(e) => pick(e.currentTarget.files)}
          />
        </label>
        <label class="visually-hidden" for="new-post-caption">
          Caption
        </label>
        <textarea
          id="new-post-caption"
          rows={3}
          maxLength={2200}
          placeholder="Write a caption…"
          value={caption}
          onInput={(e) => setCaption(e.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || files.length === 0}>
          {busy ? "Posting…" : "Share"}
        </button>
      </form>
    </Dialog>
  );
}
