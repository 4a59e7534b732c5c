// The daemon's local API, as the web app calls it. The page is served by the daemon itself, so
// every call is same-origin and authenticated by the session cookie that `paperplane open`'s
// one-time link set (HttpOnly: this code never sees it). The API's shapes are in
// `GET /v1/openapi.json`; each area of the app declares the ones it reads next to its pages.

/** An error answer of the API: the HTTP status and the API's one-line `error`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Listeners told when the session is gone (401): the app then shows how to sign in again. */
const signedOutListeners = new Set<() => void>();
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const response = await fetch(`/v1/${path}`, init);
  if (response.status === 401) signedOutListeners.forEach((l) => l());
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const json = await response.json();
      if (typeof json?.error === "string") message = json.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message);
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("content-type") ?? "";
  return (type.includes("json") ? response.json() : response.text()) as Promise<T>;
}

/** `path` is relative to `/v1/`, e.g. `inbox` or `chats/${peer}`; segments must be escaped by
 * the caller with `seg()`. */
export const api = {
  get: <T>(path: string) => call<T>("GET", path),
  post: <T>(path: string, body?: unknown) => call<T>("POST", path, body ?? {}),
  put: <T>(path: string, body?: unknown) => call<T>("PUT", path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => call<T>("PATCH", path, body ?? {}),
  del: <T>(path: string, body?: unknown) => call<T>("DELETE", path, body),
};

/** One path segment, escaped. */
export const seg = (s: string) => encodeURIComponent(s);

/** The URL of a feed photo by its content hash (an `<img src>`: the cookie goes with it). */
export const photoUrl = (hash: string) => `/v1/photos/${seg(hash)}`;

/** The URL of a chat message's photo. */
export const chatPhotoUrl = (message: string) => `/v1/messages/${seg(message)}/photo`;

/** Base64 of a file's bytes (uploads are JSON bodies with base64 photos). */
export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
