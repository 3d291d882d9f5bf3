// The live list of orders: the newest page from `GET /api/orders` (filters by status and
// type), polled for new orders, and each order not final followed over its own stream,
// so a status change shows as soon as it is committed, not at the next poll.

import { FINAL_STATUSES, getJson } from "./api.js";
import { OrderFollower } from "./stream.js";

const POLL_MS = 1000;
// A row made final by its stream waits this long for the poll to bring its amounts.
const REFRESH_AFTER_MS = 2 * POLL_MS;
// Rows shown and followed: 50, or `?rows=N` (1..500) in the page's address.
const PAGE = Math.min(500, Math.max(1, Number(new URLSearchParams(location.search).get("rows")) || 50));

export class OrderList {
  constructor(table, filters, notice) {
    this.body = table.querySelector("tbody");
    this.filters = filters;
    this.notice = notice;
    this.rows = new Map(); // orderId -> { row, snapshot, follower }
    this.table = table;
    this.liveStreams = 0; // followers past their replay, for tests and bench/dashboard.py
    this.timer = null;
    this.generation = 0; // a filter change starts a new one; older answers are dropped
    this.dirty = new Set(); // entries a stream changed, rendered at the next frame
    this.frame = 0;
    filters.addEventListener("change", () => this.reset());
    setInterval(() => this.renderAges(), 1000);
  }

  start() {
    this.poll();
  }

  reset() {
    for (const entry of this.rows.values()) if (entry.follower) entry.follower.stop();
    this.liveStreams = 0;
    this.table.dataset.liveStreams = "0";
    this.rows.clear();
    this.dirty.clear();
    this.body.replaceChildren();
    clearTimeout(this.timer);
    this.generation += 1;
    this.poll();
  }

  query() {
    const params = new URLSearchParams({ limit: String(PAGE) });
    const status = this.filters.elements.namedItem("status").value;
    const type = this.filters.elements.namedItem("type").value;
    if (status) params.set("status", status);
    if (type) params.set("type", type);
    return `/api/orders?${params}`;
  }

  async poll() {
    const generation = this.generation;
    try {
      const page = await getJson(this.query());
      if (generation !== this.generation) return;
      this.notice.textContent = "";
      this.merge(page.items);
    } catch (error) {
      if (generation !== this.generation) return;
      this.notice.textContent = `Orders unavailable: ${error.message}`;
    }
    this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  merge(snapshots) {
    // Newest first; rows already shown keep their live state (a stream may be ahead). A
    // row its stream made final takes the snapshot's amounts at the same version.
    for (const snapshot of [...snapshots].reverse()) {
      const known = this.rows.get(snapshot.orderId);
      if (known) {
        const newer = snapshot.version > known.snapshot.version;
        if (newer || (known.stale && snapshot.version === known.snapshot.version)) {
          known.stale = false;
          this.update(known, snapshot);
        }
        continue;
      }
      this.add(snapshot);
    }
    while (this.body.rows.length > PAGE) this.remove(this.body.rows[this.body.rows.length - 1]);
  }

  add(snapshot) {
    const row = document.createElement("tr");
    row.dataset.orderId = snapshot.orderId;
    const cells = ["id", "status", "type", "pair", "amountIn", "amountOut", "age"];
    for (const name of cells) {
      const cell = document.createElement("td");
      cell.dataset.cell = name;
      row.append(cell);
    }
    const link = document.createElement("a");
    link.href = `#/orders/${snapshot.orderId}`;
    link.textContent = snapshot.orderId.slice(0, 8);
    link.setAttribute("aria-label", `order ${snapshot.orderId}`);
    row.cells[0].append(link);
    this.body.prepend(row);
    const entry = { row, snapshot, follower: null };
    this.rows.set(snapshot.orderId, entry);
    this.render(entry);
    if (!FINAL_STATUSES.has(snapshot.status)) {
      entry.follower = new OrderFollower(snapshot.orderId, snapshot.version, {
        onEvent: (message) => this.live(entry, message),
        onLive: () => this.countLive(entry, 1),
        onEnd: () => {
          this.countLive(entry, -1);
          entry.follower = null;
        },
      });
    }
  }

  countLive(entry, change) {
    if (change > 0 && entry.counted) return;
    if (change < 0 && !entry.counted) return;
    entry.counted = change > 0;
    this.liveStreams += change;
    this.table.dataset.liveStreams = String(this.liveStreams);
  }

  remove(row) {
    const entry = this.rows.get(row.dataset.orderId);
    if (entry && entry.follower) {
      this.countLive(entry, -1);
      entry.follower.stop();
    }
    this.rows.delete(row.dataset.orderId);
    row.remove();
  }

  update(entry, snapshot) {
    entry.snapshot = { ...entry.snapshot, ...snapshot };
    this.render(entry);
  }

  live(entry, message) {
    entry.snapshot = { ...entry.snapshot, status: message.status, version: message.version };
    this.dirty.add(entry);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.renderDirty());
    if (FINAL_STATUSES.has(message.status)) {
      // Its amounts come with the next poll's snapshot; one fetch of its own only if that
      // poll did not bring them (a filter may have dropped it from the page).
      entry.stale = true;
      setTimeout(() => this.refresh(entry), REFRESH_AFTER_MS);
    }
  }

  // The rows the streams changed since the last frame, rendered in one pass per frame
  // (a burst of events costs one style and layout pass, not one per event).
  renderDirty() {
    this.frame = 0;
    const at = Date.now();
    for (const entry of this.dirty) {
      if (this.rows.get(entry.snapshot.orderId) !== entry) continue; // gone meanwhile
      this.render(entry);
      document.dispatchEvent(
        new CustomEvent("order-row-updated", {
          detail: { orderId: entry.snapshot.orderId, version: entry.snapshot.version, at },
        }),
      );
    }
    this.dirty.clear();
  }

  async refresh(entry, tries = 10) {
    if (!entry.stale || this.rows.get(entry.snapshot.orderId) !== entry) return;
    try {
      const snapshot = await getJson(`/api/orders/${entry.snapshot.orderId}`);
      if (snapshot.version >= entry.snapshot.version) {
        entry.stale = false;
        return this.update(entry, snapshot);
      }
    } catch {
      // The next try, or the next poll, shows it.
    }
    if (tries > 0) setTimeout(() => this.refresh(entry, tries - 1), 300);
  }

  render({ row, snapshot }) {
    const text = {
      status: snapshot.status,
      type: snapshot.type,
      pair: `${snapshot.tokenIn} → ${snapshot.tokenOut || "?"}`,
      amountIn: `${snapshot.amountIn} ${snapshot.tokenIn}`,
      amountOut: snapshot.amountOut ? `${snapshot.amountOut} ${snapshot.tokenOut}` : "—",
    };
    for (const [name, value] of Object.entries(text)) {
      row.querySelector(`[data-cell="${name}"]`).textContent = value;
    }
    row.dataset.status = snapshot.status;
    row.dataset.version = String(snapshot.version);
    row.querySelector('[data-cell="status"]').className = `status status-${snapshot.status}`;
    this.renderAge(row, snapshot);
  }

  renderAges() {
    for (const entry of this.rows.values()) this.renderAge(entry.row, entry.snapshot);
  }

  renderAge(row, snapshot) {
    const seconds = Math.max(0, (Date.now() - Date.parse(snapshot.createdAt)) / 1000);
    row.querySelector('[data-cell="age"]').textContent = age(seconds);
  }
}

export function age(seconds) {
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}
