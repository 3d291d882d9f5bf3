// The one way the page talks to the engine: every fetch carries the API key as
// `Authorization: Bearer`, every WebSocket as `access_token` (browsers cannot set headers
// there). The key lives in sessionStorage for this tab's session only. A 401 (or a socket
// closed with 4401) asks for a key again and retries once.

const KEY_STORAGE = "orderengine.apiKey";
let asking = null;

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  document.dispatchEvent(new CustomEvent("apikey-changed"));
}

// Shows the key dialog; resolves once the user saved a key or chose to go on without one.
export function askForKey(reason) {
  if (asking) return asking;
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-reason").textContent = reason || "";
  input.value = apiKey();
  asking = new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue === "save") setApiKey(input.value.trim());
        asking = null;
        resolve(apiKey());
      },
      { once: true },
    );
  });
  dialog.showModal();
  input.focus();
  return asking;
}

function withKey(headers) {
  const key = apiKey();
  const all = new Headers(headers || {});
  if (key) all.set("Authorization", `Bearer ${key}`);
  return all;
}

// fetch() against the API; on 401 asks for a key and tries once more.
export async function apiFetch(path, options = {}) {
  let reply = await fetch(path, { ...options, headers: withKey(options.headers) });
  if (reply.status === 401) {
    await askForKey("The engine refused the request: it needs a valid API key.");
    reply = await fetch(path, { ...options, headers: withKey(options.headers) });
  }
  return reply;
}

// GET `path` as JSON; throws a ProblemError naming the API's detail on a refusal.
export async function getJson(path) {
  const reply = await apiFetch(path);
  if (!reply.ok) throw await ProblemError.from(reply);
  return reply.json();
}

export async function postJson(path, body, idempotencyKey) {
  const headers = { "Content-Type": "application/json" };
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  return apiFetch(path, {
    method: "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// The API's problem document (RFC 9457 with a `field` member) as an Error.
export class ProblemError extends Error {
  constructor(status, detail, field) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.field = field || null;
  }

  static async from(reply) {
    let body = {};
    try {
      body = await reply.json();
    } catch {
      body = {};
    }
    const detail = body.detail || body.title || `${reply.status} ${reply.statusText}`;
    return new ProblemError(reply.status, detail, body.field);
  }
}

// The WebSocket URL of an API path on this origin, the key as `access_token`.
export function socketUrl(path, params = {}) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const key = apiKey();
  if (key) url.searchParams.set("access_token", key);
  return url.toString();
}

export const FINAL_STATUSES = new Set(["confirmed", "failed", "expired", "cancelled"]);

export function escapeText(value) {
  return value === null || value === undefined ? "" : String(value);
}
