// The composer: a growing textarea (Enter sends, Shift+Enter breaks the line), the emoji
// picker, the photo button, and the banners for a reply or an edit in progress.
import { useEffect, useRef, useState } from "preact/hooks";

import { EmojiPicker } from "./EmojiPicker";
import { person } from "../ui/profiles";
import type { MessageView } from "./types";
import { CloseIcon, PhotoIcon, SmileIcon } from "../ui/icons";

/** What the composer is doing beyond writing a new message. */
export type Mode = { kind: "reply"; message: MessageView } | { kind: "edit"; message: MessageView } | null;

/** The composer; `onSubmit` gets the text (a new message, a reply or an edit by `mode`). */
export function Composer(props: {
  mode: Mode;
  onCancelMode: () => void;
  onSubmit: (text: string) => Promise<boolean>;
  onPhoto: ((file: File) => Promise<void>) | null;
  onTyping: (active: boolean) => void;
}) {
  const { mode } = props;
  const [text, setText] = useState("");
  const [picker, setPicker] = useState(false);
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const file = useRef<HTMLInputElement>(null);
  const emojiButton = useRef<HTMLButtonElement>(null);

  // An edit starts from the message's text; a reply just moves the focus here.
  useEffect(() => {
    if (mode?.kind === "edit") setText(mode.message.text);
    if (mode) area.current?.focus();
  }, [mode]);

  // The textarea grows with its text, up to a few lines.
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 140)}px`;
  }, [text]);

  const submit = async () => {
    const value = text.trim();
    if (!value || busy) return;
    setBusy(true);
    const ok = await props.onSubmit(value);
    setBusy(false);
    if (ok) {
      setText("");
      props.onTyping(false);
    }
    area.current?.focus();
  };

  const insert = (emoji: string) => {
    const el = area.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    setText(text.slice(0, start) + emoji + text.slice(end));
    requestAnimationFrame(() => {
      if (!el) return;
      el.focus();
      el.setSelectionRange(start + emoji.length, start + emoji.length);
    });
  };

  return (
    <div class="composer-wrap">
      {mode && (
        <div class="composer-mode">
          <span>
            {mode.kind === "edit" ? (
              "Editing message"
            ) : (
              <>
                Replying to <b>{mode.message.outgoing ? "yourself" : person(mode.message.from).name}</b>
                <span class="composer-quote">{mode.message.text || "a message"}</span>
              </>
            )}
          </span>
          <button
            type="button"
            class="icon"
            aria-label={mode.kind === "edit" ? "Cancel edit" : "Cancel reply"}
            onClick={() => {
              if (mode.kind === "edit") setText("");
              props.onCancelMode();
            }}
          >
            <CloseIcon />
          </button>
        </div>
      )}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <button
          type="button"
          class="icon"
          ref={emojiButton}
          aria-label="Emoji"
          aria-expanded={picker}
          onClick={() => setPicker(!picker)}
        >
          <SmileIcon />
        </button>
        {picker && (
          <EmojiPicker
            onPick={insert}
            onClose={() => {
              setPicker(false);
              emojiButton.current?.focus();
            }}
          />
        )}
        <textarea
          ref={area}
          rows={1}
          aria-label="Message"
          placeholder="Message…"
          value={text}
          maxLength={4096}
          onInput={(e) => {
            const value = (e.target as HTMLTextAreaElement).value;
            setText(value);
            props.onTyping(value.length > 0);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              submit();
            } else if (e.key === "Escape" && mode) {
              if (mode.kind === "edit") setText("");
              props.onCancelMode();
            }
          }}
          onBlur={() => props.onTyping(false)}
        />
        {text.trim() ? (
          <button type="submit" class="send" disabled={busy}>
            {mode?.kind === "edit" ? "Save" : "Send"}
          </button>
        ) : (
          props.onPhoto && (
            <>
              <button type="button" class="icon" aria-label="Attach a photo" onClick={() => file.current?.click()}>
                <PhotoIcon />
              </button>
              <input
                ref={file}
                type="file"
                accept="image/jpeg,image/png,image/webp"
                class="visually-hidden"
                tabIndex={-1}
                aria-hidden="true"
                onChange={async (e) => {
                  const input = e.target as HTMLInputElement;
                  const chosen = input.files?.[0];
                  input.value = "";
                  if (chosen && props.onPhoto) {
                    setBusy(true);
                    await props.onPhoto(chosen);
                    setBusy(false);
                  }
                }}
              />
            </>
          )
        )}
      </form>
    </div>
  );
}
