// One order: its snapshot (quotes per pool side by side, route legs, signature and slot),
// its timeline replayed then live over the stream, and a cancel button while it is not
// final. The timeline seen so far is kept for the tab's session, so a reload resumes the
// stream after the last version shown: nothing missed, nothing twice.

import { FINAL_STATUSES, getJson, postJson, ProblemError } from "./api.js";
import { OrderFollower } from "./stream.js";

const TIMELINE_STORAGE = "orderengine.timeline.";

export class OrderPage {
  constructor(section) {
    this.section = section;
    this.follower = null;
    this.orderId = null;
    this.refreshing = null;
    section.querySelector("#cancel-order").addEventListener("click", () => this.cancel());
  }

  show(orderId) {
    if (this.orderId === orderId) return;
    this.hide();
    this.orderId = orderId;
    this.section.hidden = false;
    this.section.querySelector("#order-title").textContent = `Order ${orderId}`;
    this.section.querySelector("#order-outcome").textContent = "";
    this.timeline = loadTimeline(orderId);
    this.section.querySelector("#timeline").replaceChildren();
    this.section.dataset.live = "false";
    for (const event of this.timeline) this.renderEvent(event);
    this.refresh();
    const last = this.timeline.length ? this.timeline[this.timeline.length - 1].version : 0;
    this.follower = new OrderFollower(orderId, last, {
      onEvent: (message) => this.event(message),
      onLive: () => {
        this.section.dataset.live = "true";
      },
      onEnd: (code, reason) => this.ended(code, reason),
    });
    this.section.focus();
  }

  hide() {
    if (this.follower) this.follower.stop();
    this.follower = null;
    this.orderId = null;
    this.section.hidden = true;
  }

  event(message) {
    const event = {
      version: message.version,
      event: message.event,
      status: message.status,
      recordedAt: message.recordedAt,
    };
    this.timeline.push(event);
    saveTimeline(this.orderId, this.timeline);
    this.renderEvent(event);
    this.setStatus(message.status);
    this.refreshSoon();
  }

  ended(code, reason) {
    this.section.dataset.live = "ended";
    if (code === 4404) this.section.querySelector("#order-outcome").textContent = reason;
    this.refreshSoon();
  }

  renderEvent(event) {
    const item = document.createElement("li");
    item.dataset.version = String(event.version);
    const time = new Date(event.recordedAt);
    item.innerHTML = "<span class=version></span> <strong></strong> <span class=status></span> <time></time>";
    item.querySelector(".version").textContent = `v${event.version}`;
    item.querySelector("strong").textContent = event.event;
    item.querySelector(".status").textContent = event.status;
    item.querySelector("time").dateTime = event.recordedAt;
    item.querySelector("time").textContent = time.toISOString().slice(11, 23);
    this.section.querySelector("#timeline").append(item);
  }

  setStatus(status) {
    const cell = this.section.querySelector("#order-status");
    cell.textContent = status;
    cell.className = `status status-${status}`;
    this.section.querySelector("#cancel-order").hidden = FINAL_STATUSES.has(status);
  }

  refreshSoon() {
    clearTimeout(this.refreshing);
    this.refreshing = setTimeout(() => this.refresh(), 150);
  }

  async refresh() {
    const orderId = this.orderId;
    try {
      const snapshot = await getJson(`/api/orders/${orderId}`);
      if (orderId === this.orderId) this.renderSnapshot(snapshot);
    } catch (error) {
      if (orderId === this.orderId) {
        this.section.querySelector("#order-outcome").textContent = error.message;
      }
    }
  }

  renderSnapshot(snapshot) {
    const last = this.timeline.length ? this.timeline[this.timeline.length - 1] : null;
    // The stream may be ahead of the read model; the newest status wins.
    const status = last && last.version > snapshot.version ? last.status : snapshot.status;
    this.setStatus(status);
    const facts = {
      type: snapshot.type,
      pair: `${snapshot.tokenIn} → ${snapshot.tokenOut || "?"}`,
      amountIn: `${snapshot.amountIn} ${snapshot.tokenIn}`,
      expectedAmountOut: snapshot.expectedAmountOut || "—",
      minAmountOut: snapshot.minAmountOut || "—",
      amountOut: snapshot.amountOut || "—",
      executedPrice: snapshot.executedPrice || "—",
      limitPrice: snapshot.limitPrice || "—",
      expiresAt: snapshot.expiresAt || "—",
      attempts: String(snapshot.attempts),
      failureReason: snapshot.failureReason || "—",
      txHash: snapshot.txHash || "—",
      slot: snapshot.slot === null || snapshot.slot === undefined ? "—" : String(snapshot.slot),
    };
    for (const [name, value] of Object.entries(facts)) {
      this.section.querySelector(`[data-fact="${name}"]`).textContent = value;
    }
    this.renderQuotes(snapshot.quotes || [], snapshot.chosenVenue);
    this.renderRoute(snapshot.route || []);
  }

  renderQuotes(quotes, chosenVenue) {
    const table = this.section.querySelector("#quotes");
    const head = table.querySelector("thead tr");
    head.replaceChildren(th(""), ...quotes.map((q) => th(`${q.venue} · ${q.label || q.pool}`)));
    const rows = [
      ["amount out", (q) => q.amountOut],
      ["fee", (q) => q.feeAmount],
      ["price impact", (q) => q.priceImpact],
    ];
    table.querySelector("tbody").replaceChildren(
      ...rows.map(([label, value]) => {
        const row = document.createElement("tr");
        row.append(th(label, "row"), ...quotes.map((q) => td(value(q))));
        return row;
      }),
    );
    table.querySelector("caption").textContent = quotes.length
      ? `Quotes per pool (chosen venue: ${chosenVenue || "—"})`
      : "Quotes per pool: none yet (the order has not been routed)";
  }

  renderRoute(route) {
    const body = this.section.querySelector("#route tbody");
    body.replaceChildren(
      ...route.map((leg) => {
        const row = document.createElement("tr");
        row.append(td(leg.venue), td(leg.label || leg.pool), td(leg.amountIn), td(leg.amountOut));
        return row;
      }),
    );
  }

  async cancel() {
    const outcome = this.section.querySelector("#order-outcome");
    outcome.textContent = "Cancelling…";
    try {
      const reply = await postJson(`/api/orders/${this.orderId}/cancel`, undefined, crypto.randomUUID());
      if (!reply.ok) throw await ProblemError.from(reply);
      const snapshot = await reply.json();
      outcome.textContent =
        reply.status === 202 ? "Cancel requested: the sent swap must end first." : "Cancelled.";
      this.renderSnapshot(snapshot);
    } catch (error) {
      outcome.textContent = error instanceof ProblemError ? `${error.status}: ${error.detail}` : String(error);
    }
  }
}

function th(text, scope = "col") {
  const cell = document.createElement("th");
  cell.scope = scope;
  cell.textContent = text;
  return cell;
}

function td(text) {
  const cell = document.createElement("td");
  cell.textContent = text;
  return cell;
}

function loadTimeline(orderId) {
  try {
    const stored = JSON.parse(sessionStorage.getItem(TIMELINE_STORAGE + orderId) || "[]");
    // Only an unbroken run 1..n is trusted; anything else is replayed from the start.
    return stored.every((event, index) => event.version === index + 1) ? stored : [];
  } catch {
    return [];
  }
}

function saveTimeline(orderId, timeline) {
  sessionStorage.setItem(TIMELINE_STORAGE + orderId, JSON.stringify(timeline));
}
