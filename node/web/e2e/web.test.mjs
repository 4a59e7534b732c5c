// End-to-end tests of the web app in a real (headless) Chromium against real daemons on
// loopback: Alice, Bob, Carol and Dave, one browser context each for Alice and Bob.
//
//   PAPERPLANE_BIN=/path/to/paperplane node --test e2e/
//
// The daemons and the browser are shared by the tests (started once, in `before`), but each test
// makes the messages, posts and requests it looks at, so any one runs alone too
// (`--test-name-pattern`). Screenshots go to node/web/e2e-output/screenshots/.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import {
  TIMEOUT,
  WEB_DIR,
  api,
  cli,
  follow,
  launchBrowser,
  makePng,
  meet,
  openRoute,
  signIn,
  signInLink,
  startDaemon,
  stopAll,
  waitUntil,
} from "./harness.mjs";

const SHOTS = join(WEB_DIR, "e2e-output", "screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Records the EventSources a page opens, so a test can wait until the live stream is up
 * (instrumentation injected by the test, not part of the app). */
const TRACK_EVENT_SOURCES = () => {
  const Original = window.EventSource;
  if (!Original || Original.__tracked) return;
  const sources = [];
  window.__eventSources = sources;
  class Tracked extends Original {
    constructor(...args) {
      super(...args);
      sources.push(this);
    }
  }
  Tracked.__tracked = true;
  window.EventSource = Tracked;
};

let alice, bob, carol, dave;
let browser;
let aliceCtx, bobCtx, alicePage, bobPage;
let tmp;
let n = 0;
/** A text unique to this run and call, so each test finds its own message. */
const unique = (what) => `${what} #${++n}-${Date.now() % 100000}`;

async function newContext() {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  ctx.setDefaultTimeout(TIMEOUT);
  await ctx.addInitScript(TRACK_EVENT_SOURCES);
  return ctx;
}

/** Waits until the page's live-event stream is open. */
async function live(page) {
  await page.waitForFunction(() => (window.__eventSources ?? []).some((s) => s.readyState === 1), null, {
    timeout: TIMEOUT,
  });
}

/** Opens the chat with `peer` (a User) on `page` signed in to `user`, and waits until it has loaded
 * (its message log or its empty state shows) and the live stream is open. */
async function openChat(page, user, peer) {
  await openRoute(page, user, `chat/${peer.peerId}`);
  const chat = page.locator('section[aria-label="Chat"]');
  await chat.locator('[role="log"], div.chat-empty').first().waitFor();
  await live(page);
  return chat;
}

/** Sends `text` with the composer of the open chat `chat`; resolves with the message's id once
 * its bubble shows. */
async function sendFromPage(chat, text) {
  await chat.getByRole("textbox", { name: "Message" }).fill(text);
  await chat.getByRole("button", { name: "Send", exact: true }).click();
  const sent = chat.locator(".bubble[data-message-id]", { hasText: text });
  await sent.waitFor();
  return sent.getAttribute("data-message-id");
}

/** The bubble of message `id`. */
const bubble = (page, id) => page.locator(`.bubble[data-message-id="${id}"]`);

/** Waits until nothing on the page says "Loading…" and every image has loaded. */
async function settled(page) {
  await page.waitForFunction(
    () =>
      !document.body.innerText.includes("Loading…") &&
      [...document.images].every((img) => img.complete && (img.naturalWidth > 0 || !img.src)),
    null,
    { timeout: TIMEOUT },
  );
}

/** The id in a CLI's JSON answer (`{ id }`, or an object with it nested). */
function idOf(out) {
  if (typeof out === "string") return out.trim();
  return out.id ?? out.post_id ?? out.message?.id ?? out.group?.id;
}

describe("web app", { timeout: 180_000 }, () => {
  before(async () => {
    tmp = join(WEB_DIR, "e2e-output", "tmp");
    mkdirSync(tmp, { recursive: true });
    mkdirSync(SHOTS, { recursive: true });
    [alice, bob, carol, dave] = await Promise.all(["alice", "bob", "carol", "dave"].map(startDaemon));
    await Promise.all([meet(alice, bob), meet(carol, alice), meet(dave, alice)]);
    // Alice and Bob follow each other: their messages land in each other's inbox and Bob's posts
    // in Alice's feed. Nobody follows Carol or Dave: what they send Alice is a request.
    await Promise.all([follow(alice, bob), follow(bob, alice)]);
    browser = await launchBrowser();
    [aliceCtx, bobCtx] = await Promise.all([newContext(), newContext()]);
    [alicePage, bobPage] = await Promise.all([aliceCtx.newPage(), bobCtx.newPage()]);
    await Promise.all([signIn(alicePage, alice), signIn(bobPage, bob)]);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stopAll();
  });

  it("1. signs in through `paperplane open`'s link: HttpOnly session cookie, the inbox shows", async () => {
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      const link = await signInLink(alice);
      const response = await page.goto(link);
      assert.equal(response.status(), 200);
      assert.equal(page.url(), `${alice.origin}/`, "the link redirects to the app");
      // The inbox: the conversation list with its folders.
      await page.locator('section[aria-label="Conversations"]').waitFor();
      await page.getByRole("navigation", { name: "Folders" }).waitFor();
      await page.getByRole("link", { name: "Messages", exact: true }).first().waitFor();

      const cookies = await ctx.cookies(alice.origin);
      const session = cookies.find((c) => c.name === `paperplane_session_${alice.apiPort}`);
      assert.ok(session, `a session cookie is set (got ${cookies.map((c) => c.name).join(", ") || "none"})`);
      assert.equal(session.httpOnly, true, "the session cookie is HttpOnly");
      assert.equal(session.sameSite, "Strict", "the session cookie is SameSite=Strict");
      const visible = await page.evaluate(() => document.cookie);
      assert.ok(!visible.includes("paperplane_session"), `document.cookie shows no session: "${visible}"`);

      // The app's API calls work with that cookie alone.
      const status = await page.evaluate(async () => (await fetch("/v1/status")).status);
      assert.equal(status, 200);

      // The link is one-time: a second browser cannot use it again.
      const other = await newContext();
      try {
        const again = await (await other.newPage()).goto(link);
        assert.equal(again.status(), 403, "a used link is refused");
      } finally {
        await other.close();
      }
    } finally {
      await ctx.close();
    }
  });

  it("2. a message sent from Alice's page arrives live on Bob's open chat", async () => {
    const aliceChat = await openChat(alicePage, alice, bob);
    const bobChat = await openChat(bobPage, bob, alice);
    await bobPage.evaluate(() => (window.__notReloaded = true));

    const text = unique("Hello Bob, from the browser");
    await aliceChat.getByRole("textbox", { name: "Message" }).fill(text);
    await aliceChat.getByRole("button", { name: "Send", exact: true }).click();
    await aliceChat.locator(".bubble", { hasText: text }).waitFor();
    // The composer is cleared once sent.
    await waitUntil(async () => (await aliceChat.getByRole("textbox", { name: "Message" }).inputValue()) === "", {
      what: "the composer to clear",
    });

    await bobChat.locator('[role="log"] .bubble', { hasText: text }).waitFor();
    assert.equal(await bobPage.evaluate(() => window.__notReloaded), true, "Bob's page was not reloaded");
    // The daemon agrees: Bob has it.
    const chat = await cli(bob, "chat", alice.peerId, "--json");
    assert.ok(chat.some((m) => m.text === text && !m.outgoing));
  });

  it("2a. a message Alice sends with the CLI shows live on her own open chat", async () => {
    const aliceChat = await openChat(alicePage, alice, bob);
    await alicePage.evaluate(() => (window.__notReloaded = true));
    const text = unique("Sent from the terminal");
    const sent = await cli(alice, "send", bob.peerId, "--no-wait", "--json", "--", text);
    await bubble(alicePage, sent.id).waitFor();
    assert.equal(await alicePage.evaluate(() => window.__notReloaded), true, "not reloaded");
    assert.match(await bubble(alicePage, sent.id).innerText(), /Sent from the terminal/);
  });

  it("2c. a message arriving while the tab is in the background shows a browser notification", async () => {
    // The browser's Notification API is replaced by a recorder, and the tab's visibility is
    // switched by the test: what is checked is the app's part (when it notifies, and with what).
    const ctx = await newContext();
    try {
      await ctx.addInitScript(() => {
        window.__notes = [];
        window.__hidden = false;
        class Recorder {
          static permission = "granted";
          static requestPermission = async () => "granted";
          constructor(title, options) {
            window.__notes.push({ title, body: options?.body ?? "" });
          }
          close() {}
        }
        window.Notification = Recorder;
        Object.defineProperty(document, "visibilityState", {
          configurable: true,
          get: () => (window.__hidden ? "hidden" : "visible"),
        });
      });
      const page = await ctx.newPage();
      await signIn(page, alice);
      await openRoute(page, alice, "inbox");
      await live(page);
      const seen = unique("While you look");
      await cli(bob, "send", alice.peerId, "--no-wait", "--", seen);
      // The inbox shows it live: the event reached the page.
      await page.getByRole("list", { name: "Chats" }).getByText(seen).waitFor();
      assert.deepEqual(await page.evaluate(() => window.__notes), [], "no notification while the tab is visible");

      await page.evaluate(() => (window.__hidden = true));
      const away = unique("While you are away");
      await cli(bob, "send", alice.peerId, "--no-wait", "--", away);
      const notes = await waitUntil(
        async () => {
          const notes = await page.evaluate(() => window.__notes);
          return notes.length > 0 && notes;
        },
        { what: "a notification" },
      );
      assert.equal(notes.length, 1, JSON.stringify(notes));
      assert.equal(notes[0].title, "Bob");
      assert.equal(notes[0].body, away);
    } finally {
      await ctx.close();
    }
  });

  it("2b. the chat works from the keyboard alone: Tab to the chat, type, Enter sends", async () => {
    await cli(alice, "send", bob.peerId, "--no-wait", "--", unique("So that the chat exists"));
    await openRoute(alicePage, alice, "inbox");
    const row = alicePage.getByRole("list", { name: "Chats" }).getByRole("link", { name: "Bob", exact: true });
    await row.waitFor();
    // Tab until the inbox row for Bob has the focus (a handful of presses: the rail, the
    // inbox header), then open it with Enter.
    await waitUntil(
      async () => {
        await alicePage.keyboard.press("Tab");
        return row.evaluate((el) => el === document.activeElement);
      },
      { what: "Bob's inbox row to take the focus", interval: 0 },
    );
    await alicePage.keyboard.press("Enter");
    const composer = alicePage.getByRole("textbox", { name: "Message" });
    await composer.waitFor();
    await composer.focus();
    const text = unique("Typed without a mouse");
    await alicePage.keyboard.type(text);
    await alicePage.keyboard.press("Enter");
    await alicePage.locator(".bubble", { hasText: text }).waitFor();
    await waitUntil(async () => (await cli(bob, "chat", alice.peerId, "--json")).some((m) => m.text === text), {
      what: "Bob's daemon to have the message",
    });
  });

  it("3a. typing, a quoted reply, an edit and an unsend on Alice's page show live on Bob's", async () => {
    const aliceChat = await openChat(alicePage, alice, bob);
    const bobChat = await openChat(bobPage, bob, alice);
    const question = unique("Which trail?");
    const questionId = await sendFromPage(bobChat, question);
    await bubble(alicePage, questionId).waitFor();

    // Typing: Bob sees it while Alice writes.
    const composer = aliceChat.getByRole("textbox", { name: "Message" });
    await composer.pressSequentially("The north");
    await bobChat.locator(".typing", { hasText: "typing" }).waitFor();

    // A reply quoting Bob's question.
    const row = (page, id) => page.locator(".row", { has: bubble(page, id) });
    await row(alicePage, questionId).hover();
    await row(alicePage, questionId).getByRole("button", { name: "Reply" }).click();
    await composer.fill(unique("The north one"));
    await composer.press("Enter");
    const reply = aliceChat.locator(".row", { has: alicePage.locator(".quote", { hasText: question }) });
    await reply.waitFor();
    const replyId = await reply.locator(".bubble[data-message-id]").getAttribute("data-message-id");
    await row(bobPage, replyId).locator(".quote", { hasText: question }).waitFor();

    // An edit of the reply.
    await row(alicePage, replyId).hover();
    await row(alicePage, replyId).getByRole("button", { name: "More" }).click();
    await alicePage.getByRole("group", { name: "Message actions" }).getByRole("button", { name: "Edit" }).click();
    const edited = unique("The north one, at 9");
    await composer.fill(edited);
    await composer.press("Enter");
    await bubble(bobPage, replyId).filter({ hasText: edited }).waitFor();
    await row(bobPage, replyId).getByText("Edited").waitFor();

    // An unsend of another message.
    const oops = unique("Wrong chat, sorry");
    const oopsId = await sendFromPage(aliceChat, oops);
    await bubble(bobPage, oopsId).filter({ hasText: oops }).waitFor();
    await row(alicePage, oopsId).hover();
    await row(alicePage, oopsId).getByRole("button", { name: "More" }).click();
    await alicePage.getByRole("group", { name: "Message actions" }).getByRole("button", { name: "Unsend" }).click();
    await bubble(bobPage, oopsId).filter({ hasText: "Message unsent" }).waitFor();
    const theirs = (await cli(bob, "chat", alice.peerId, "--json")).find((m) => m.id === oopsId);
    assert.equal(theirs.kind, "unsent", "Bob's daemon has it unsent");
  });

  it("3. Bob double-clicks a bubble to like it; the heart shows live on Alice's page", async () => {
    const aliceChat = await openChat(alicePage, alice, bob);
    await openChat(bobPage, bob, alice);
    const id = await sendFromPage(aliceChat, unique("Like this one"));
    await alicePage.evaluate(() => (window.__notReloaded = true));
    await bubble(bobPage, id).waitFor();

    await bubble(bobPage, id).dblclick();
    const reactionsOf = (page) =>
      page.locator(".bubble-stack", { has: bubble(page, id) }).locator('[aria-label="Reactions"]');
    await reactionsOf(bobPage).getByText("❤️").waitFor();
    await reactionsOf(alicePage).getByText("❤️").waitFor();
    assert.equal(await alicePage.evaluate(() => window.__notReloaded), true, "Alice's page was not reloaded");
    const mine = (await cli(alice, "chat", bob.peerId, "--json")).find((m) => m.id === id);
    assert.ok(
      mine.reactions.some((r) => r.emoji === "❤️"),
      `Alice's daemon has the reaction: ${JSON.stringify(mine.reactions)}`,
    );
  });

  it("4. Alice shares Bob's post from her feed into the chat; Bob sees the card", async () => {
    const file = join(tmp, "post.png");
    writeFileSync(file, makePng(96, 96, [250, 180, 40], [200, 40, 120]));
    const caption = unique("Sunset at the lake");
    const postId = idOf(await cli(bob, "post", file, "--caption", caption, "--json"));
    assert.match(postId, /^[0-9a-f]+$/, "post prints an id");
    await follow(alice, bob);
    await openChat(bobPage, bob, alice);

    await openRoute(alicePage, alice, "feed");
    const article = alicePage.locator(`article[data-post-id="${postId}"]`);
    // The post reaches Alice's daemon from Bob's; the feed shows it live (or on its next load).
    await article.waitFor();
    await article.getByRole("button", { name: "Send post" }).click();
    const sheet = alicePage.locator('dialog[aria-label="Share"]');
    await sheet.waitFor();
    await sheet.getByRole("button", { name: /Bob/ }).click();
    await sheet.getByRole("button", { name: "Send", exact: true }).click();
    await sheet.waitFor({ state: "hidden" });

    const card = bobPage.locator('[role="log"] .bubble.card', { hasText: caption });
    await card.waitFor();
    await card.getByRole("link", { name: "Post by Bob" }).waitFor();
    // The card's photo is the post's, served by Bob's own daemon.
    await bobPage.waitForFunction(
      (c) =>
        [...document.querySelectorAll('[role="log"] .bubble.card')].some(
          (el) => el.textContent.includes(c) && el.querySelector("img")?.naturalWidth > 0,
        ),
      caption,
      { timeout: TIMEOUT },
    );
  });

  it("5. a photo sent in a chat opens full size on the recipient's page", async () => {
    const cliFile = join(tmp, "chat-photo.png");
    writeFileSync(cliFile, makePng(120, 80, [30, 200, 160], [20, 40, 200]));
    const pageFile = join(tmp, "chat-photo-page.png");
    writeFileSync(pageFile, makePng(100, 140, [240, 220, 60], [230, 60, 60]));
    await openChat(bobPage, bob, alice);

    // Sent by the CLI…
    const cliId = idOf(await cli(alice, "send", bob.peerId, unique("Our view"), "--photo", cliFile, "--json"));
    // …and with the page's attach button.
    const aliceChat = await openChat(alicePage, alice, bob);
    const before = new Set(await aliceChat.locator(".bubble.photo[data-message-id]").evaluateAll((els) => els.map((e) => e.dataset.messageId)));
    const [chooser] = await Promise.all([
      alicePage.waitForEvent("filechooser"),
      aliceChat.getByRole("button", { name: "Attach a photo" }).click(),
    ]);
    await chooser.setFiles(pageFile);
    const pageId = await waitUntil(
      async () =>
        (await aliceChat.locator(".bubble.photo[data-message-id]").evaluateAll((els) => els.map((e) => e.dataset.messageId)))
          .filter((id) => !before.has(id) && id !== cliId)[0],
      { what: "the photo sent from the page to show in Alice's chat" },
    );

    for (const [id, width] of [
      [cliId, 120],
      [pageId, 100],
    ]) {
      const open = bubble(bobPage, id).getByRole("button", { name: "Open photo" });
      await open.waitFor(); // once fetched from Alice and decrypted
      await open.click();
      const viewer = bobPage.locator('dialog[aria-label="Photo"]');
      await viewer.waitFor();
      const img = viewer.locator("img");
      await waitUntil(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), {
        what: "the photo in the viewer to load",
      });
      assert.equal(await img.evaluate((el) => el.naturalWidth), width, "the viewer shows the photo sent");
      await viewer.getByRole("button", { name: "Close" }).click();
      await viewer.waitFor({ state: "hidden" });
    }
  });

  it("6. Alice accepts Carol's message request; the chat moves to the inbox", async () => {
    const text = unique("Hi Alice, it's Carol");
    await cli(carol, "send", alice.peerId, text, "--json");
    await waitUntil(async () => (await cli(alice, "requests", "--json")).some((c) => c.peer === carol.peerId), {
      what: "Carol's request to reach Alice",
    });

    await openRoute(alicePage, alice, "requests");
    const requests = alicePage.getByRole("list", { name: "Message requests" });
    const row = requests.getByRole("listitem").filter({ has: alicePage.getByRole("link", { name: "Carol" }) });
    await row.waitFor();
    await row.getByRole("button", { name: "Accept" }).click();
    await row.waitFor({ state: "detached" });

    await openRoute(alicePage, alice, "inbox");
    await alicePage.getByRole("list", { name: "Chats" }).getByRole("link", { name: "Carol" }).waitFor();
    const inbox = await cli(alice, "inbox", "--json");
    assert.ok(inbox.some((c) => c.peer === carol.peerId), "the CLI's inbox has the chat with Carol");
    const left = await cli(alice, "requests", "--json");
    assert.ok(!left.some((c) => c.peer === carol.peerId), "and it is no longer a request");
  });

  it("7. refuses API calls from a foreign origin, even with the session cookie", async (t) => {
    const server = createServer((_, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>elsewhere</title><p>A page of another origin</p>");
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const foreign = `http://127.0.0.1:${server.address().port}/`;
    const page = await aliceCtx.newPage();
    try {
      const before = await cli(alice, "receipts", "--json");
      assert.equal(before.on, true, "read receipts start on");
      await page.goto(foreign);
      const target = alice.origin;
      const outcome = await page.evaluate(async ({ origin, dave }) => {
        const attempt = async (url, init) => {
          try {
            const r = await fetch(url, init);
            let body = null;
            try {
              body = await r.text();
            } catch {
              // unreadable
            }
            return { type: r.type, status: r.status, body };
          } catch (e) {
            return { error: String(e) };
          }
        };
        return {
          put: await attempt(`${origin}/v1/settings/read-receipts`, {
            method: "PUT",
            mode: "no-cors",
            credentials: "include",
            headers: { "content-type": "text/plain" },
            body: '{"on":false}',
          }),
          // What a form or a simple request could do: a cross-origin POST with the cookie.
          post: await attempt(`${origin}/v1/settings/read-receipts`, {
            method: "POST",
            mode: "no-cors",
            credentials: "include",
            headers: { "content-type": "text/plain" },
            body: '{"on":false}',
          }),
          // A simple request (no preflight) that needs no body: without the Origin check it
          // would make Alice follow Dave.
          follow: await attempt(`${origin}/v1/follow/${dave}`, {
            method: "POST",
            mode: "no-cors",
            credentials: "include",
          }),
          get: await attempt(`${origin}/v1/status`, { mode: "no-cors", credentials: "include" }),
          getCors: await attempt(`${origin}/v1/status`, { credentials: "include" }),
        };
      }, { origin: target, dave: dave.peerId });
      t.diagnostic(`from the foreign page: ${JSON.stringify(outcome)}`);
      // Whatever the browser did, the foreign page read nothing…
      for (const [what, r] of Object.entries(outcome)) {
        assert.ok(
          r.error || r.type === "opaque" || r.status === 403,
          `${what}: the foreign page read an answer: ${JSON.stringify(r)}`,
        );
        assert.ok(!(r.body ?? "").includes(alice.peerId), `${what}: the foreign page saw the peer id`);
      }
      // …and changed nothing.
      const afterwards = await cli(alice, "receipts", "--json");
      assert.deepEqual(afterwards, before, "the read-receipts setting did not change");
      const following = await cli(alice, "following", "--json");
      assert.ok(!following.some((f) => f.peer_id === dave.peerId), "Alice does not follow Dave");

      // With the session cookie but a foreign Origin, the daemon answers 403…
      const evil = await aliceCtx.request.put(`${target}/v1/settings/read-receipts`, {
        headers: { origin: "http://evil.example", "content-type": "application/json" },
        data: '{"on":false}',
      });
      assert.equal(evil.status(), 403, "a foreign Origin is refused");
      const evilGet = await aliceCtx.request.get(`${target}/v1/status`, { headers: { origin: "http://evil.example" } });
      assert.equal(evilGet.status(), 403, "a foreign Origin is refused on reads too");
      // …and so it does for another loopback port (the foreign page's own origin).
      const otherPort = await aliceCtx.request.get(`${target}/v1/status`, {
        headers: { origin: foreign.replace(/\/$/, "") },
      });
      assert.equal(otherPort.status(), 403, "another loopback port is a foreign origin");
      // The same call from the app's own origin goes through (nothing changes: it sets "on").
      const own = await aliceCtx.request.put(`${target}/v1/settings/read-receipts`, {
        headers: { origin: target, "content-type": "application/json" },
        data: '{"on":true}',
      });
      assert.equal(own.status(), 200, "the app's own origin is accepted");
      assert.deepEqual(await cli(alice, "receipts", "--json"), before);
    } finally {
      await page.close();
      await new Promise((r) => server.close(r));
    }
  });

  it("8. screenshots of every page, desktop and phone, with real content", async () => {
    // Content: a conversation with a reaction and a photo, posts with photos, a group, a request.
    const file = join(tmp, "shot.png");
    writeFileSync(file, makePng(160, 160, [255, 140, 60], [120, 60, 220]));
    const alicePost = join(tmp, "alice-post.png");
    writeFileSync(alicePost, makePng(160, 160, [40, 170, 255], [30, 220, 120]));
    await cli(alice, "profile", "set", "--bio", "Photos, trips and paper planes.");
    await cli(alice, "post", alicePost, "--caption", "Morning light", "--json");
    const bobPost = idOf(await cli(bob, "post", file, "--caption", "Weekend hike", "--json"));
    await cli(bob, "send", alice.peerId, "Are you coming on Saturday? 🏔️", "--json");
    const yes = idOf(await cli(alice, "send", bob.peerId, "Yes! I'll bring the camera 📷", "--json"));
    await cli(bob, "react", yes, "--json");
    await cli(alice, "send", bob.peerId, "Look at this", "--photo", file, "--json");
    const group = idOf(await cli(alice, "group", "create", "Weekend trip", bob.peerId, carol.peerId, "--json"));
    await cli(alice, "send", `#${group}`, "Who's driving on Saturday?", "--json");
    await waitUntil(async () => (await cli(bob, "group", "list", "--json")).some((g) => g.id === group), {
      what: "Bob to be in the group",
    });
    await cli(bob, "send", `#${group}`, "I can drive 🚗", "--json");
    await cli(dave, "send", alice.peerId, "Hi! Do you sell prints of your photos?", "--json");
    await waitUntil(async () => (await cli(alice, "requests", "--json")).some((c) => c.peer === dave.peerId), {
      what: "Dave's request to reach Alice",
    });

    const ready = {
      inbox: async (p) => p.getByRole("list", { name: "Chats" }).waitFor(),
      requests: async (p) => p.getByRole("list", { name: "Message requests" }).getByRole("link", { name: "Dave" }).waitFor(),
      chat: async (p) => {
        await p.locator('[role="log"] .bubble.photo img').first().waitFor();
        await readInList(p, "Bob");
      },
      group: async (p) => {
        await p.locator('[role="log"] .bubble', { hasText: "I can drive" }).waitFor();
        await readInList(p, "Weekend trip");
      },
      "group-info": async (p) => p.getByRole("list", { name: "Members" }).waitFor(),
      feed: async (p) => p.locator(`article[data-post-id="${bobPost}"]`).waitFor(),
      profile: async (p) => {
        await p.getByRole("heading", { name: "alice", level: 1 }).waitFor();
        await postGrid(p, alice);
      },
      "profile-other": async (p) => {
        await p.getByRole("heading", { name: "bob", level: 1 }).waitFor();
        await p.getByRole("button", { name: "Unfollow" }).waitFor();
        await postGrid(p, bob);
      },
      settings: async (p) => {
        await p.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
        // The read-receipts switch is disabled until it has loaded; then it shows the daemon's value.
        const receipts = p.getByRole("checkbox", { name: "Read receipts" });
        await waitUntil(() => receipts.isEnabled(), { what: "the read-receipts switch to load" });
        const { on } = await cli(alice, "receipts", "--json");
        assert.equal(await receipts.isChecked(), on, "the switch shows the daemon's read-receipts setting");
      },
      safety: async (p) => p.getByRole("heading", { name: "Safety number", level: 1 }).waitFor(),
    };
    /** Where the conversation list shows beside the open chat (wide screens), waits until the
     * chat's row is marked read (no unread badge) now that it is open. */
    const readInList = async (p, name) => {
      const row = p
        .getByRole("list", { name: "Chats" })
        .getByRole("listitem")
        .filter({ has: p.getByRole("link", { name, exact: true }) });
      await waitUntil(async () => !(await row.isVisible()) || (await row.locator(".badge").count()) === 0, {
        what: `the open chat "${name}" to show as read in the list`,
      });
    };
    /** Waits until a profile's grid shows as many posts as Alice's daemon has by `author`. */
    const postGrid = async (p, author) => {
      const feed = await api(alice, "GET", "/v1/feed?limit=1000");
      const count = feed.filter((post) => post.author === author.peerId).length;
      await p.waitForFunction(
        (n) => document.querySelectorAll('ul[aria-label="Posts"] > li').length === n,
        count,
        { timeout: TIMEOUT },
      );
    };
    const routes = {
      inbox: "inbox",
      requests: "requests",
      chat: `chat/${bob.peerId}`,
      group: `group/${group}`,
      "group-info": `group/${group}/info`,
      feed: "feed",
      profile: "profile",
      "profile-other": `profile/${bob.peerId}`,
      settings: "settings",
      safety: `safety/${bob.peerId}`,
    };
    const missing = [];
    for (const [size, viewport] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ]) {
      await alicePage.setViewportSize(viewport);
      for (const [name, route] of Object.entries(routes)) {
        await openRoute(alicePage, alice, route);
        try {
          await ready[name](alicePage);
          await settled(alicePage);
        } catch (e) {
          missing.push(`${name}-${size}: ${e.message.split("\n")[0]}`);
        }
        await alicePage.screenshot({ path: join(SHOTS, `${name}-${size}.png`) });
      }
    }
    await alicePage.setViewportSize(DESKTOP);
    assert.deepEqual(missing, [], "every page showed its content before its screenshot");
  });
});
