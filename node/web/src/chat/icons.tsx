// Line icons for the messaging pages' buttons (inline SVG: no icon font, no emoji font needed).
// Each is decorative; the button or link around it carries the accessible name.
import type { ComponentChildren } from "preact";

function Svg({ children }: { children: ComponentChildren }) {
  return (
    <svg class="ico" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      {children}
    </svg>
  );
}

const line = { fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round" } as const;

/** A pencil on a square: a new message. */
export const IconCompose = () => (
  <Svg>
    <path {...line} d="M12 3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-7" />
    <path {...line} d="M18.4 2.6a2 2 0 0 1 3 3L12 15l-4 1 1-4z" />
  </Svg>
);

/** Two people: a group. */
export const IconGroup = () => (
  <Svg>
    <circle {...line} cx="9" cy="8" r="4" />
    <path {...line} d="M2 21v-1a6 6 0 0 1 12 0v1" />
    <path {...line} d="M16 4.1a4 4 0 0 1 0 7.8M22 21v-1a6 6 0 0 0-4-5.6" />
  </Svg>
);

/** A shield: the safety number. */
export const IconShield = () => (
  <Svg>
    <path {...line} d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5z" />
    <path {...line} d="m9 12 2 2 4-4" />
  </Svg>
);

/** An "i" in a circle: details. */
export const IconInfo = () => (
  <Svg>
    <circle {...line} cx="12" cy="12" r="10" />
    <path {...line} d="M12 16v-5M12 8h.01" />
  </Svg>
);

/** A picture: attach a photo. */
export const IconPhoto = () => (
  <Svg>
    <rect {...line} x="3" y="3" width="18" height="18" rx="3" />
    <circle {...line} cx="9" cy="9" r="2" />
    <path {...line} d="m21 15-5-5L5 21" />
  </Svg>
);

/** A smiling face: emoji and reactions. */
export const IconSmile = () => (
  <Svg>
    <circle {...line} cx="12" cy="12" r="10" />
    <path {...line} d="M8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01" />
  </Svg>
);

/** A curved arrow: reply. */
export const IconReply = () => (
  <Svg>
    <path {...line} d="M9 14 4 9l5-5" />
    <path {...line} d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
  </Svg>
);

/** Three dots: more actions. */
export const IconMore = () => (
  <Svg>
    <circle cx="5" cy="12" r="1.8" fill="currentColor" />
    <circle cx="12" cy="12" r="1.8" fill="currentColor" />
    <circle cx="19" cy="12" r="1.8" fill="currentColor" />
  </Svg>
);

/** A chevron: back. */
export const IconBack = () => (
  <Svg>
    <path {...line} d="m15 18-6-6 6-6" />
  </Svg>
);

/** A cross: close. */
export const IconClose = () => (
  <Svg>
    <path {...line} d="M18 6 6 18M6 6l12 12" />
  </Svg>
);

/** A bell: notifications. */
export const IconBell = () => (
  <Svg>
    <path {...line} d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
    <path {...line} d="M10.3 21a1.9 1.9 0 0 0 3.4 0" />
  </Svg>
);

/** The paper plane. */
export const IconPlane = () => (
  <Svg>
    <path {...line} d="M22 2 11 13" />
    <path {...line} d="M22 2 15 22l-4-9-9-4z" />
  </Svg>
);
