// A chat photo at full size, in a modal dialog: Escape or the close button closes it and the
// focus goes back where it was.
import { useEffect, useRef } from "preact/hooks";

import { chatPhotoUrl } from "../api";
import type { MessageView } from "./types";
import { CloseIcon } from "../ui/icons";

/** The viewer for `message`'s photo; `onClose` is called once it closed. */
export function PhotoViewer({ message, onClose }: { message: MessageView; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current?.showModal();
    return () => opener?.focus();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="photo-viewer"
      aria-label="Photo"
      onClose={onClose}
      onClick={(e) => {
        if (e.target === dialog.current) dialog.current?.close();
      }}
    >
      <button type="button" class="icon close" aria-label="Close" onClick={() => dialog.current?.close()}>
        <CloseIcon />
      </button>
      <img src={chatPhotoUrl(message.id)} alt={message.text || "Photo"} />
      {message.text && <p>{message.text}</p>}
    </dialog>
  );
}
