// The composer's emoji picker: a grid of common emoji by category. Escape closes it.
import { useEffect, useRef, useState } from "preact/hooks";

import { EMOJI } from "./emoji";

/** A popover grid; `onPick` inserts the emoji, `onClose` hides the picker. */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const [category, setCategory] = useState(0);
  const grid = useRef<HTMLDivElement>(null);
  useEffect(() => {
    grid.current?.querySelector("button")?.focus();
  }, [category]);
  return (
    <div
      class="popover emoji-picker"
      role="dialog"
      aria-label="Emoji"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div class="emoji-tabs" role="tablist" aria-label="Emoji categories">
        {EMOJI.map((c, i) => (
          <button
            type="button"
            role="tab"
            aria-selected={i === category}
            onClick={() => setCategory(i)}
          >
            {c.name}
          </button>
        ))}
      </div>
      <div class="emoji-grid" ref={grid} role="tabpanel" aria-label={EMOJI[category].name}>
        {EMOJI[category].list.map((emoji) => (
          <button type="button" aria-label={emoji} onClick={() => onPick(emoji)}>
            {emoji}
          </button>
        ))}
      </div>
    </div>
  );
}
