// Measures the web app against real daemons (not a test: it prints figures).
//
//   PAPERPLANE_BIN=/path/to/paperplane node e2e/measure.mjs
//
// (a) The first page: over 20 loads, the time from navigation start to the inbox list being
//     rendered, for a signed-in user with ~50 chats (groups and direct chats).
// (b) A chat of 10,000 messages, filled through the API: the time to its first render, how many
//     message rows are in the DOM (the list is virtualised), and the frame times while scrolling
//     from the bottom to the top with the mouse wheel.
//
// Environment: MEASURE_LOADS (20), MEASURE_CHATS (50), MEASURE_MESSAGES (10000),
// MEASURE_SCROLL_SECONDS (how long the scroll may take at most, 120).

import { api, cli, follow, launchBrowser, meet, signIn, startDaemon, stopAll, waitUntil } from "./harness.mjs";

const LOADS = Number(process.env.MEASURE_LOADS ?? 20);
const CHATS = Number(process.env.MEASURE_CHATS ?? 50);
const MESSAGES = Number(process.env.MEASURE_MESSAGES ?? 10_000);
const SCROLL_SECONDS = Number(process.env.MEASURE_SCROLL_SECONDS ?? 120);

const quantile = (values, q) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
};
const ms = (x) => `${x.toFixed(1)} ms`;
const stats = (values) =>
  `median ${ms(quantile(values, 0.5))}, p95 ${ms(quantile(values, 0.95))}, max ${ms(Math.max(...values))} (n=${values.length})`;

/** Runs `tasks` (functions returning promises) `width` at a time. */
async function inParallel(tasks, width) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** Records when the inbox list first has a row (`__inboxAt`) and when a chat first shows a
 * message (`__chatAt`), in ms since navigation start. */
const WATCH = () => {
  const marks = { __inboxAt: 'ul[aria-label="Chats"] li', __chatAt: '[role="log"] .bubble' };
  const check = () => {
    let pending = false;
    for (const [name, selector] of Object.entries(marks)) {
      if (window[name] !== undefined) continue;
      if (document.querySelector(selector)) window[name] = performance.now();
      else pending = true;
    }
    return pending;
  };
  new MutationObserver((_, observer) => check() || observer.disconnect()).observe(document, {
    childList: true,
    subtree: true,
  });
};

/** A fresh load of `url` (from about:blank, so a hash route is a real navigation). */
async function load(page, url) {
  await page.goto("about:blank");
  await page.goto(url);
}

let browser;
try {
  const started = Date.now();
  const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map(startDaemon));
  await Promise.all([meet(alice, bob), meet(alice, carol)]);
  await Promise.all([follow(alice, bob), follow(bob, alice), follow(alice, carol)]);
  console.log(`daemons up and connected in ${Date.now() - started} ms`);

  // ---- (a) the first page, with ~CHATS chats ----
  const t0 = Date.now();
  await cli(carol, "send", alice.peerId, "Hello from Carol", "--json");
  await cli(bob, "send", alice.peerId, "Hello from Bob", "--json");
  const groups = Math.max(0, CHATS - 2);
  await inParallel(
    Array.from({ length: groups }, (_, i) => async () => {
      const g = await api(alice, "POST", "/v1/groups", { name: `Group ${i + 1}`, members: [bob.peerId] });
      await api(alice, "POST", `/v1/groups/${g.id}/messages`, { text: `Hi group ${i + 1}`, wait_ms: 0 });
    }),
    4,
  );
  const inbox = await waitUntil(
    async () => {
      const list = await api(alice, "GET", "/v1/inbox");
      return list.length >= CHATS ? list : false;
    },
    { what: `${CHATS} chats in Alice's inbox` },
  );
  console.log(`(a) ${inbox.length} chats made in ${Date.now() - t0} ms`);

  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  ctx.setDefaultTimeout(60_000);
  await ctx.addInitScript(WATCH);
  const page = await ctx.newPage();
  await signIn(page, alice);
  await page.locator('ul[aria-label="Chats"] li').first().waitFor();
  const inboxTimes = [];
  const fcpTimes = [];
  for (let i = 0; i < LOADS; i++) {
    await load(page, `${alice.origin}/#/inbox`);
    await page.waitForFunction(() => window.__inboxAt !== undefined);
    const { at, fcp, rows } = await page.evaluate(() => ({
      at: window.__inboxAt,
      fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
      rows: document.querySelectorAll('ul[aria-label="Chats"] li').length,
    }));
    if (rows < Math.min(CHATS, inbox.length)) {
      // The list may render in one go; all of it is expected.
      await page.waitForFunction((n) => document.querySelectorAll('ul[aria-label="Chats"] li').length >= n, inbox.length);
    }
    inboxTimes.push(at);
    if (Number.isFinite(fcp)) fcpTimes.push(fcp);
  }
  console.log(`(a) navigation start → inbox list rendered, ${LOADS} loads: ${stats(inboxTimes)}`);
  if (fcpTimes.length) console.log(`    first contentful paint: ${stats(fcpTimes)}`);

  // ---- (b) a chat of MESSAGES messages ----
  const t1 = Date.now();
  let sent = 0;
  await inParallel(
    Array.from({ length: MESSAGES }, (_, i) => async () => {
      await api(bob, "POST", "/v1/messages", {
        to: alice.peerId,
        text: `Message ${i + 1} of ${MESSAGES}: ${i % 7 === 0 ? "a somewhat longer line of text so that some rows wrap onto a second line in the bubble, as real chats do" : "hello"}`,
        wait_ms: 0,
      });
      sent++;
    }),
    32,
  );
  console.log(`(b) ${sent} messages queued by Bob's API in ${Date.now() - t1} ms`);
  await waitUntil(
    async () => {
      const chat = (await api(alice, "GET", "/v1/inbox")).find((c) => c.peer === bob.peerId);
      return chat && chat.unread >= MESSAGES;
    },
    { what: `Alice to receive ${MESSAGES} messages`, timeout: 600_000, interval: 1000 },
  );
  console.log(`(b) all ${MESSAGES} delivered to Alice after ${Date.now() - t1} ms`);
  // The chat's oldest message (the chat may hold a few more than were sent here).
  let oldest = (await api(alice, "GET", `/v1/chats/${bob.peerId}?limit=10000`))[0]?.id;
  let total = 0;
  for (let page = await api(alice, "GET", `/v1/chats/${bob.peerId}?limit=10000`); page.length > 0; ) {
    total += page.length;
    oldest = page[0].id;
    page = await api(alice, "GET", `/v1/chats/${bob.peerId}?limit=10000&before=${oldest}`);
  }
  console.log(`(b) the chat holds ${total} messages`);

  // First render, from a fresh load of the chat's address.
  const firstRender = [];
  for (let i = 0; i < 5; i++) {
    await load(page, `${alice.origin}/#/chat/${bob.peerId}`);
    await page.waitForFunction(() => window.__chatAt !== undefined);
    firstRender.push(await page.evaluate(() => window.__chatAt));
  }
  console.log(`(b) navigation start → first message rendered (fresh load of the chat): ${stats(firstRender)}`);

  // And within the app (inbox → chat, as a user clicks).
  await load(page, `${alice.origin}/#/inbox`);
  await page.locator('ul[aria-label="Chats"] li').first().waitFor();
  const inApp = await page.evaluate(
    (peer) =>
      new Promise((resolve) => {
        const start = performance.now();
        location.hash = `#/chat/${peer}`;
        const check = () => {
          if (document.querySelector('[role="log"] .bubble')) resolve(performance.now() - start);
          else requestAnimationFrame(check);
        };
        check();
      }),
    bob.peerId,
  );
  console.log(`(b) inbox → chat opened in the app, to the first message rendered: ${ms(inApp)}`);

  const log = page.locator('[role="log"]');
  await log.locator(".bubble").first().waitFor();
  const dom = await page.evaluate(() => ({
    rows: document.querySelectorAll('[role="log"] [data-index]').length,
    bubbles: document.querySelectorAll('[role="log"] .bubble').length,
    nodes: document.getElementsByTagName("*").length,
  }));
  console.log(
    `(b) message rows in the DOM: ${dom.rows} (bubbles ${dom.bubbles}) for ${total} messages; ${dom.nodes} elements in the page`,
  );

  // Scroll from the bottom to the top with the wheel, recording frame times.
  const box = await log.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.evaluate(() => {
    window.__frames = [];
    window.__long = [];
    window.__framing = true;
    let last = performance.now();
    const tick = (t) => {
      if (t - last > 50) window.__long.push(performance.timeOrigin + t);
      window.__frames.push(t - last);
      last = t;
      if (window.__framing) requestAnimationFrame(tick);
    };
    requestAnimationFrame((t) => {
      last = t;
      requestAnimationFrame(tick);
    });
  });
  const olderPages = [];
  const onOlder = (request) => {
    if (/\/v1\/chats\/[^/?]+\?.*before=/.test(request.url())) olderPages.push(Date.now());
  };
  page.on("requestfinished", onOlder);
  const scrollStart = Date.now();
  let steps = 0;
  let atTopSince = null;
  let maxRows = 0;
  for (;;) {
    await page.mouse.wheel(0, -600);
    steps++;
    const s = await page.evaluate(
      () =>
        new Promise((resolve) =>
          requestAnimationFrame(() => {
            const el = document.querySelector('[role="log"]');
            const first = el.querySelector("[data-index] .bubble, [data-index] [data-message-id]");
            resolve({
              top: el.scrollTop,
              rows: el.querySelectorAll("[data-index]").length,
              firstId: first?.getAttribute("data-message-id") ?? null,
            });
          }),
        ),
    );
    maxRows = Math.max(maxRows, s.rows);
    if (s.top <= 0 && s.firstId === oldest) break;
    // At the top but the oldest message is not shown: older ones are loading. Give up if that
    // lasts (the page stopped loading older messages).
    if (s.top <= 0) atTopSince ??= Date.now();
    else atTopSince = null;
    if (atTopSince && Date.now() - atTopSince > 15_000) {
      console.log("(b) stopped: at the top for 15 s without reaching the oldest message");
      break;
    }
    if (Date.now() - scrollStart > SCROLL_SECONDS * 1000) {
      console.log(`(b) stopped after ${SCROLL_SECONDS} s of scrolling`);
      break;
    }
  }
  const { frames, long } = await page.evaluate(() => {
    window.__framing = false;
    return { frames: window.__frames, long: window.__long };
  });
  page.off("requestfinished", onOlder);
  // A long frame "at a load" ends within 500 ms after a page of older messages arrived.
  const longWithLoad = long.filter((t) => olderPages.some((r) => t >= r && t - r < 500)).length;
  const loads = olderPages.length;
  const reached = await page.evaluate(
    (id) => !!document.querySelector(`[role="log"] [data-message-id="${id}"]`),
    oldest,
  );
  console.log(
    `(b) scrolled bottom → top in ${steps} wheel steps of 600 px, ${Date.now() - scrollStart} ms; oldest message reached: ${reached}; at most ${maxRows} rows in the DOM meanwhile`,
  );
  console.log(`(b) frame times while scrolling: ${stats(frames)}`);
  console.log(
    `    frames over 50 ms: ${frames.filter((f) => f > 50).length} (${longWithLoad} of them ending within 500 ms after one of the ${loads} pages of older messages arrived), over 100 ms: ${frames.filter((f) => f > 100).length}`,
  );
} finally {
  await browser?.close().catch(() => {});
  await stopAll();
}
