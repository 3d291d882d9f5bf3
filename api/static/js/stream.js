// Follows one order's event stream (API.md "Stream"): replay after `afterVersion`, then
// live. Versions already seen are dropped; a socket that drops before the final event is
// reopened after the last version seen, so the caller sees every version once, in order.

import { askForKey, socketUrl } from "./api.js";

const RETRY_MS = 500;
// Closed for too many sockets on one key (4429): try again, but not at once.
const CROWDED_RETRY_MS = 5000;

export class OrderFollower {
  // onEvent(message) per new version; onLive() once replay ended; onEnd(code, reason).
  constructor(orderId, afterVersion, { onEvent, onLive, onEnd }) {
    this.orderId = orderId;
    this.version = afterVersion;
    this.onEvent = onEvent;
    this.onLive = onLive || (() => {});
    this.onEnd = onEnd || (() => {});
    this.stopped = false;
    this.socket = null;
    this.open();
  }

  open() {
    if (this.stopped) return;
    const path = `/api/orders/${encodeURIComponent(this.orderId)}/stream`;
    const socket = new WebSocket(socketUrl(path, { afterVersion: String(this.version) }));
    this.socket = socket;
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", (closed) => this.closed(closed));
    // An error is always followed by a close, which decides what to do.
    socket.addEventListener("error", () => {});
  }

  receive(message) {
    if (message.type === "live") {
      this.onLive();
    } else if (message.type === "event" && message.version > this.version) {
      this.version = message.version;
      this.onEvent(message);
    } else if (message.type === "error") {
      this.lastError = message.detail || message.message || JSON.stringify(message);
    }
  }

  async closed(closed) {
    this.socket = null;
    if (this.stopped) return;
    if (closed.code === 1000 || closed.code === 4404 || closed.code === 4403) {
      this.stopped = true;
      this.onEnd(closed.code, this.lastError || closed.reason);
      return;
    }
    if (closed.code === 4401) await askForKey("The stream needs a valid API key.");
    setTimeout(() => this.open(), closed.code === 4429 ? CROWDED_RETRY_MS : RETRY_MS);
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000);
  }
}
