import { useRef, useState } from "preact/hooks";

import { photoUrl } from "../api";
import { ChevronIcon, HeartIcon } from "../ui/icons";
import type { PhotoView } from "./types";

/** A post's photos: one, or several side by side to swipe through (or step with the arrow
 * buttons, or the arrow keys once focused). A double click calls `onDoubleClick` (a like) and
 * shows a heart over the photo. The frame takes the first photo's shape, between 4:5 and 1.91:1. */
export function Carousel(props: { photos: PhotoView[]; label: string; onDoubleClick: () => void }) {
  const { photos, label } = props;
  const track = useRef<HTMLDivElement>(null);
  const [index, setIndex] = useState(0);
  const [ratio, setRatio] = useState(1);
  const [burst, setBurst] = useState(0);
  const many = photos.length > 1;

  const go = (i: number) => {
    const el = track.current;
    if (!el) return;
    const to = Math.max(0, Math.min(photos.length - 1, i));
    el.scrollTo({ left: to * el.clientWidth, behavior: "smooth" });
    setIndex(to);
  };

  return (
    <div
      class="carousel"
      role="group"
      aria-roledescription="carousel"
      aria-label={label}
      style={{ aspectRatio: String(ratio) }}
    >
      <div
        ref={track}
        class="carousel-track"
        tabIndex={many ? 0 : -1}
        onScroll={(e) => {
          const el = e.currentTarget;
          setIndex(Math.round(el.scrollLeft / Math.max(1, el.clientWidth)));
        }}
        onKeyDown={(e) => {
          if (e.key === "ArrowRight") go(index + 1);
          else if (e.key === "ArrowLeft") go(index - 1);
          else return;
          e.preventDefault();
        }}
        onDblClick={() => {
          props.onDoubleClick();
          setBurst((n) => n + 1);
        }}
      >
        {photos.map((photo, i) => (
          <Photo
            key={i}
            hash={photo.hash}
            alt={many ? `${label}, photo ${i + 1} of ${photos.length}` : label}
            onSize={i === 0 ? (w, h) => setRatio(Math.min(1.91, Math.max(0.8, w / h))) : undefined}
          />
        ))}
      </div>
      {burst > 0 && (
        <span key={burst} class="carousel-burst" aria-hidden="true">
          <HeartIcon filled size={96} />
        </span>
      )}
      {many && (
        <>
          {index > 0 && (
            <button type="button" class="carousel-arrow prev" aria-label="Previous photo" onClick={() => go(index - 1)}>
              <ChevronIcon />
            </button>
          )}
          {index < photos.length - 1 && (
            <button type="button" class="carousel-arrow next" aria-label="Next photo" onClick={() => go(index + 1)}>
              <ChevronIcon right />
            </button>
          )}
          <div class="carousel-dots" aria-hidden="true">
            {photos.map((_, i) => (
              <span key={i} class={i === index ? "carousel-dot active" : "carousel-dot"} />
            ))}
          </div>
          <span class="carousel-count" aria-live="polite">
            {index + 1}/{photos.length}
          </span>
        </>
      )}
    </div>
  );
}

/** One photo, or a grey tile saying it could not be fetched. */
function Photo(props: { hash: string; alt: string; onSize?: (w: number, h: number) => void }) {
  const [failed, setFailed] = useState(false);
  if (failed) {
    return (
      <div class="carousel-photo missing" role="img" aria-label={props.alt}>
        Photo not available yet
      </div>
    );
  }
  return (
    <img
      class="carousel-photo"
      src={photoUrl(props.hash)}
      alt={props.alt}
      draggable={false}
      onLoad={(e) => props.onSize?.(e.currentTarget.naturalWidth, e.currentTarget.naturalHeight)}
      onError={() => setFailed(true)}
    />
  );
}
