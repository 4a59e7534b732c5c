// A modal `<dialog>` with a title and a close button; Escape closes it, and the focus goes back
// to what had it before.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { CloseIcon } from "../ui/icons";

/** Shows `children` in a modal dialog named `title` until `onClose`. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current?.showModal();
    return () => opener?.focus();
  }, []);
  return (
    <dialog ref={dialog} class="modal" aria-label={props.title} onClose={props.onClose}>
      <header class="modal-head">
        <h2>{props.title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={() => dialog.current?.close()}>
          <CloseIcon />
        </button>
      </header>
      {props.children}
    </dialog>
  );
}
