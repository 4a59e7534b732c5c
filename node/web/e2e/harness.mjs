// The end-to-end harness: real paperplane daemons on loopback, each in a fresh temporary home,
// driven by their CLI and local API, and a headless Chromium (Debian's /usr/bin/chromium, no
// browser download) with one browser context per user.
//
// Every wait is for a state: `waitUntil` polls a condition with a deadline, and the pages are
// awaited through Playwright's auto-waiting locators. Nothing sleeps for a fixed time.
//
// The binary is `$PAPERPLANE_BIN`, else `target/debug/paperplane` at the repository's root.
// Set `PAPERPLANE_E2E_KEEP=1` to keep the temporary homes (and the daemons' logs) afterwards.

import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));

/** node/web, where the e2e output goes. */
export const WEB_DIR = resolve(here, "..");

/** The paperplane binary under test. */
export const BIN = process.env.PAPERPLANE_BIN
  ? resolve(process.env.PAPERPLANE_BIN)
  : resolve(WEB_DIR, "../../target/debug/paperplane");

/** How long any one wait for a state may take. */
export const TIMEOUT = 30_000;

/** Polls `condition` (sync or async) until it returns a truthy value, which is returned.
 * Exceptions count as "not yet"; at the deadline the last one (or `what`) is thrown. */
export async function waitUntil(condition, { what = "a condition", timeout = TIMEOUT, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last ? `: ${last.message ?? last}` : "";
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Runs the binary; resolves with its stdout, rejects with its stderr. */
function run(args, { timeout = TIMEOUT } = {}) {
  return new Promise((resolvePromise, reject) => {
    execFile(BIN, args, { timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const e = new Error(`paperplane ${args.join(" ")} failed: ${stderr.trim() || error.message}`);
        e.stdout = stdout;
        e.stderr = stderr;
        e.code = error.code;
        reject(e);
      } else {
        resolvePromise(stdout);
      }
    });
  });
}

/** The running daemons, killed by `stopAll` (and, as a last resort, when the process exits). */
const daemons = new Set();
function killDaemonsNow() {
  for (const d of daemons) {
    try {
      d.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
    if (!process.env.PAPERPLANE_E2E_KEEP) rmSync(d.user.home, { recursive: true, force: true });
  }
  daemons.clear();
}
process.on("exit", killDaemonsNow);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    killDaemonsNow();
    process.exit(130);
  });
}

/** A user: a home, a daemon and what the tests need to reach it. */
export class User {
  constructor(name, home) {
    this.name = name;
    this.home = home;
    this.log = join(home, "daemon.log");
    this.proc = null;
    this.peerId = null;
    this.apiAddr = null;
    this.token = null;
  }

  get apiPort() {
    return Number(this.apiAddr.split(":").pop());
  }

  /** The web app's origin, e.g. `http://127.0.0.1:41234`. */
  get origin() {
    return `http://${this.apiAddr}`;
  }

  /** The last lines of the daemon's log (for error messages). */
  logTail(lines = 30) {
    try {
      return readFileSync(this.log, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

/** Creates a user in a fresh temporary home and starts their daemon; resolves once its API
 * answers. `name` is the handle (lower case); the display name is it capitalised. */
export async function startDaemon(name) {
  const home = mkdtempSync(join(tmpdir(), `paperplane-e2e-${name}-`));
  const user = new User(name, home);
  const display = name.charAt(0).toUpperCase() + name.slice(1);
  if (!existsSync(BIN)) {
    rmSync(home, { recursive: true, force: true });
    throw new Error(`no paperplane binary at ${BIN}: build it (cargo build --bin paperplane) or set PAPERPLANE_BIN`);
  }
  try {
    const init = JSON.parse(await run(["--home", home, "--json", "init", "--handle", name, "--name", display]));
    user.peerId = init.peer_id;
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const fd = openSync(user.log, "a");
  const proc = spawn(
    BIN,
    [
      "--home",
      home,
      "daemon",
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--api",
      "127.0.0.1:0",
      "--no-mdns",
      "--no-notify",
    ],
    { stdio: ["ignore", fd, fd], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "info" } },
  );
  closeSync(fd);
  user.proc = proc;
  const entry = { proc, user, exited: false };
  daemons.add(entry);
  proc.on("exit", () => {
    entry.exited = true;
  });
  const addrFile = join(home, "api.addr");
  await waitUntil(
    async () => {
      if (entry.exited) throw new Error(`the daemon exited:\n${user.logTail()}`);
      if (!existsSync(addrFile)) return false;
      user.apiAddr = readFileSync(addrFile, "utf8").trim();
      user.token = readFileSync(join(home, "api.token"), "utf8").trim();
      if (!user.apiAddr) return false;
      const r = await fetch(`${user.origin}/v1/status`, { headers: { authorization: `Bearer ${user.token}` } });
      return r.ok;
    },
    { what: `${name}'s daemon to answer`, interval: 50 },
  );
  return user;
}

/** Stops every daemon started (SIGTERM, then SIGKILL after 5 s) and removes their homes unless
 * `PAPERPLANE_E2E_KEEP` is set. Never throws. */
export async function stopAll() {
  const stopping = [...daemons].map(
    (d) =>
      new Promise((done) => {
        daemons.delete(d);
        if (d.exited) return done();
        const hard = setTimeout(() => d.proc.kill("SIGKILL"), 5_000);
        d.proc.once("exit", () => {
          clearTimeout(hard);
          done();
        });
        try {
          d.proc.kill("SIGTERM");
        } catch {
          clearTimeout(hard);
          done();
        }
      }).then(() => {
        if (!process.env.PAPERPLANE_E2E_KEEP) rmSync(d.user.home, { recursive: true, force: true });
        else console.log(`# kept ${d.user.name}'s home: ${d.user.home}`);
      }),
  );
  await Promise.allSettled(stopping);
}

/** Runs the CLI as `user`; with `--json` among the arguments, the output is parsed. */
export async function cli(user, ...args) {
  const json = args.includes("--json");
  const out = await run(["--home", user.home, ...args]);
  return json ? JSON.parse(out) : out;
}

/** Calls `user`'s local API with their bearer token; resolves with the parsed JSON (or text),
 * rejects on a non-2xx answer. */
export async function api(user, method, path, body) {
  const init = { method, headers: { authorization: `Bearer ${user.token}` } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(`${user.origin}${path}`, init);
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Connects `a` to `b` and waits until each holds the other's profile with messaging keys. */
export async function meet(a, b) {
  const status = await cli(b, "status", "--json");
  const addr = status.listen_addrs.find((x) => x.startsWith("/ip4/127.0.0.1/")) ?? status.listen_addrs[0];
  await cli(a, "connect", addr, "--json");
  const knows = (x, y) => async () => (await cli(x, "profile", "show", y.peerId, "--json")).messaging_keys === true;
  await waitUntil(knows(a, b), { what: `${a.name} to hold ${b.name}'s profile with messaging keys` });
  await waitUntil(knows(b, a), { what: `${b.name} to hold ${a.name}'s profile with messaging keys` });
}

/** `a` follows `b` (so `b`'s messages land in `a`'s inbox, not in requests, and `b`'s posts
 * join `a`'s feed). */
export async function follow(a, b) {
  await cli(a, "follow", b.peerId);
}

/** The browser, launched from Debian's Chromium. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A one-time sign-in link of `user`'s daemon (`paperplane open --print`). */
export async function signInLink(user) {
  const out = await cli(user, "open", "--print");
  const link = out.match(/http:\/\/127\.0\.0\.1:\d+\/signin\?code=[0-9a-f]+/);
  if (!link) throw new Error(`no sign-in link in: ${out}`);
  return link[0];
}

/** Signs `page`'s browser context in to `user`'s web app and waits for the app to show. */
export async function signIn(page, user) {
  const link = await signInLink(user);
  await page.goto(link);
  await page.getByRole("navigation", { name: "Main" }).waitFor({ timeout: TIMEOUT });
  return link;
}

/** Opens a hash route (`"chat/<peer>"`) of `user`'s app in `page`. */
export async function openRoute(page, user, route) {
  const url = `${user.origin}/#/${route}`;
  if (page.url().startsWith(user.origin + "/")) {
    await page.evaluate((hash) => (location.hash = hash), `#/${route}`);
  } else {
    await page.goto(url);
  }
}

// ---- a small PNG, made here (no image files in the repository) ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A `width`×`height` RGB PNG: a diagonal gradient between two colours, so a screenshot shows
 * it is a real image. */
export function makePng(width = 64, height = 48, from = [255, 120, 60], to = [60, 90, 255]) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      for (let c = 0; c < 3; c++) raw[row + 1 + x * 3 + c] = Math.round(from[c] + (to[c] - from[c]) * t);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
