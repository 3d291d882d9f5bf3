// Engine health: `/ready` (PostgreSQL, Redis, the live feed) and, from `/metrics`, orders
// by status (in flight: the ones not final) and each consumer's lag.

import { FINAL_STATUSES } from "./api.js";

const POLL_MS = 3000;

export class HealthPanel {
  constructor(list, badge) {
    this.list = list;
    this.badge = badge;
  }

  start() {
    this.poll();
  }

  async poll() {
    const facts = [];
    try {
      const reply = await fetch("/ready");
      const ready = await reply.json();
      this.badge.textContent = ready.status;
      this.badge.className = `badge ${reply.ok ? "ok" : "down"}`;
      for (const [name, value] of Object.entries(ready)) {
        if (name !== "status") facts.push([name, value]);
      }
    } catch (error) {
      this.badge.textContent = "unreachable";
      this.badge.className = "badge down";
      facts.push(["api", String(error)]);
    }
    try {
      const text = await (await fetch("/metrics")).text();
      facts.push(...metricFacts(parseMetrics(text)));
    } catch (error) {
      facts.push(["metrics", String(error)]);
    }
    this.render(facts);
    setTimeout(() => this.poll(), POLL_MS);
  }

  render(facts) {
    this.list.replaceChildren(
      ...facts.flatMap(([name, value]) => {
        const term = document.createElement("dt");
        term.textContent = name;
        const detail = document.createElement("dd");
        detail.textContent = value;
        detail.dataset.fact = name;
        return [term, detail];
      }),
    );
  }
}

// Prometheus text: [{ name, labels: {..}, value }], comments skipped.
export function parseMetrics(text) {
  const samples = [];
  const line = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
  for (const row of text.split("\n")) {
    if (row.startsWith("#")) continue;
    const match = line.exec(row);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function metricFacts(samples) {
  const facts = [];
  const orders = samples.filter((s) => s.name === "orderengine_orders");
  const inFlight = orders
    .filter((s) => !FINAL_STATUSES.has(s.labels.status))
    .reduce((sum, s) => sum + s.value, 0);
  facts.push(["orders in flight", String(inFlight)]);
  for (const s of orders) facts.push([`orders ${s.labels.status}`, String(s.value)]);
  for (const s of samples.filter((s) => s.name === "orderengine_consumer_lag_events")) {
    facts.push([`lag ${s.labels.consumer || Object.values(s.labels).join(" ")}`, String(s.value)]);
  }
  return facts;
}
