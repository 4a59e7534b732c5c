// A chat photo at full size, in a modal dialog: Escape, the close button or a click beside it
// closes it and the focus goes back where it was.
import { chatPhotoUrl } from "../api";
import { Dialog } from "../ui/Dialog";
import type { MessageView } from "./types";

/** The viewer for `message`'s photo; `onClose` is called once it closed. */
export function PhotoViewer({ message, onClose }: { message: MessageView; onClose: () => void }) {
  return (
    <Dialog label="Photo" title={false} class="chat-photo-viewer" onClose={onClose}>
      <img src={chatPhotoUrl(message.id)} alt={message.text || "Photo"} />
      {message.text && <p>{message.text}</p>}
    </Dialog>
  );
}
