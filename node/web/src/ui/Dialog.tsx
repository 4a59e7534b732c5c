// The app's one modal dialog: open while mounted, with a close button; Escape closes it, and the
// focus goes back to what had it before.
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

import { CloseIcon } from "./icons";
import "./ui.css";

/** A modal `<dialog>`, open while mounted. Escape, the close button and (unless
 * `closeOnBackdrop` is false) a click on the backdrop call `onClose`; focus goes back to where it
 * was when it opened. `label` names it for screen readers and is its visible title unless
 * `title` is false. */
export function Dialog(props: {
  label: string;
  onClose: () => void;
  title?: boolean;
  class?: string;
  closeOnBackdrop?: boolean;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const unmounting = useRef(false);
  useLayoutEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    ref.current?.showModal();
    return () => {
      unmounting.current = true;
      ref.current?.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.class}
      aria-label={props.label}
      onClose={() => unmounting.current || props.onClose()}
      onClick={(e) => props.closeOnBackdrop !== false && e.target === ref.current && props.onClose()}
    >
      <div class="dialog-head">
        {props.title !== false && <h2 class="dialog-title">{props.label}</h2>}
        <button type="button" class="icon dialog-close" aria-label="Close" onClick={props.onClose}>
          <CloseIcon />
        </button>
      </div>
      {props.children}
    </dialog>
  );
}
