// The composer's emoji, a curated set in a few categories (no external data), and the quick
// reactions offered on a message.

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** A string's emoji, one per grapheme (so ZWJ sequences and variation selectors stay whole). */
const split = (s: string) => [...segmenter.segment(s)].map((g) => g.segment);

/** Emoji by category, in the order the picker shows them. */
export const EMOJI: { name: string; list: string[] }[] = [
  {
    name: "Smileys",
    list: split(
      "😀😃😄😁😆😅😂🤣🥲😊😇🙂🙃😉😌😍🥰😘😋😛😜🤪😝🤗🤭🤫🤔🫡🤨😐😑😶😏😒🙄😬😮‍💨😴🤤😷🤒🥵🥶🥴😵‍💫🤯🤠🥳😎🤓🧐😕🙁😮😲😳🥺😨😰😥😢😭😱😖😣😞😩😫🥱😤😡🤬😈💀💩🤡👻👽🤖",
    ),
  },
  {
    name: "Gestures",
    list: split("👋🤚🖐️✋🖖👌🤌🤏✌️🤞🫶🤟🤘🤙👈👉👆👇☝️👍👎✊👊👏🙌👐🤲🤝🙏💪"),
  },
  {
    name: "Hearts",
    list: split("❤️🧡💛💚💙💜🖤🤍🤎💔❤️‍🔥💕💞💓💗💖💘💝"),
  },
  {
    name: "Things",
    list: split(
      "🔥✨⭐🌟💯🎉🎊🎁🎈🏆⚽🏀🎮🎧🎵📷💡✅❌❓❗💤💬👀🌈☀️🌙🌧️❄️🌊🌸🌹🌻🍀🐶🐱🦊🐻🐼🦄🍕🍔🍟🌮🍣🍩🍰🎂🍫☕🍺🍷🥂🍾🧗🚀✈️🏠",
    ),
  },
];

/** The quick reactions of a message's picker (Instagram's six). */
export const QUICK_REACTIONS = ["❤️", "😂", "😮", "😢", "😡", "👍"];
