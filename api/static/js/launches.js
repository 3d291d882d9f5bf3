// The recent pool launches and the sniper orders each one matched or skipped:
// `GET /api/launches` polled; a row is re-rendered only when its launch's answer changed.

import { getJson } from "./api.js";

const POLL_MS = 2000;
const SHOWN = 10;

export class LaunchesPanel {
  constructor(table, notice) {
    this.body = table.querySelector("tbody");
    this.table = table;
    this.notice = notice;
    this.shown = new Map(); // pool -> { row, text } (text: the launch's JSON, to spot changes)
  }

  start() {
    this.poll();
  }

  async poll() {
    try {
      const page = await getJson(`/api/launches?limit=${SHOWN}`);
      this.notice.textContent = page.items.length ? "" : "No launch recorded yet.";
      this.render(page.items);
    } catch (error) {
      this.notice.textContent = `Launches unavailable: ${error.message}`;
    }
    setTimeout(() => this.poll(), POLL_MS);
  }

  render(items) {
    const rows = [];
    const pools = new Set();
    for (const launch of items) {
      pools.add(launch.pool);
      const text = JSON.stringify(launch);
      let entry = this.shown.get(launch.pool);
      if (!entry) {
        entry = { row: document.createElement("tr"), text: "" };
        entry.row.dataset.pool = launch.pool;
        this.shown.set(launch.pool, entry);
      }
      if (entry.text !== text) {
        fillRow(entry.row, launch);
        entry.text = text;
      }
      rows.push(entry.row);
    }
    for (const pool of [...this.shown.keys()]) if (!pools.has(pool)) this.shown.delete(pool);
    // Newest first; rows already in place stay (no re-layout for an unchanged list).
    const current = [...this.body.rows];
    if (current.length !== rows.length || current.some((row, i) => row !== rows[i])) {
      this.body.replaceChildren(...rows);
    }
    this.table.dataset.launches = String(rows.length);
  }
}

function fillRow(row, launch) {
  const cells = {
    pool: lines(
      shortAddress(launch.pool, `${launch.venue} ${launch.kind} pool ${launch.pool}`),
      shortAddress(launch.creator, `created by ${launch.creator}`),
    ),
    snipers: snipers(launch),
    checks: lines(text(`${launch.liquidity} ${launch.quoteToken}`), text(checks(launch))),
    created: lines(text(`slot ${launch.slot}`), openTime(launch.openTime)),
  };
  row.replaceChildren(
    ...Object.entries(cells).map(([name, content]) => {
      const cell = document.createElement("td");
      cell.dataset.cell = name;
      cell.append(content);
      return cell;
    }),
  );
}

function text(value) {
  return document.createTextNode(value);
}

// Nodes one under the other in one cell.
function lines(...nodes) {
  const block = document.createElement("div");
  for (const node of nodes) {
    const line = document.createElement("div");
    line.append(node);
    block.append(line);
  }
  return block;
}

function shortAddress(address, label) {
  const span = document.createElement("span");
  span.className = "mono";
  span.textContent = `${address.slice(0, 4)}…${address.slice(-4)}`;
  span.title = address;
  span.setAttribute("aria-label", label);
  return span;
}

function openTime(unixSeconds) {
  const time = document.createElement("time");
  const at = new Date(unixSeconds * 1000);
  time.dateTime = at.toISOString();
  time.textContent = `opens ${at.toISOString().slice(11, 19)}`;
  time.title = `${at.toISOString()} on the chain's clock`;
  return time;
}

function checks(launch) {
  return [
    launch.mintRenounced ? "mint renounced" : "mint authority kept",
    launch.freezable ? "freezable" : "not freezable",
    `LP burned ${launch.lpBurnedPct} %`,
    `top holder ${launch.topHolderPct} %`,
  ].join(" · ");
}

// The matched orders as links with their status, then the skipped ones with the filter.
function snipers(launch) {
  const list = document.createElement("ul");
  list.className = "snipers";
  for (const matched of launch.matched) list.append(sniperItem(matched, matched.status || "…"));
  if (launch.matchedCount > launch.matched.length) {
    list.append(note(`and ${launch.matchedCount - launch.matched.length} more matched`));
  }
  for (const skipped of launch.skipped) {
    const item = sniperItem(skipped, `skipped: ${skipped.filter}`);
    item.classList.add("skipped");
    list.append(item);
  }
  if (launch.skippedCount > launch.skipped.length) {
    list.append(note(`and ${launch.skippedCount - launch.skipped.length} more skipped`));
  }
  if (!list.children.length) list.append(note("none"));
  return list;
}

function sniperItem(verdict, label) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = `#/orders/${verdict.orderId}`;
  link.textContent = verdict.orderId.slice(0, 8);
  link.dataset.orderId = verdict.orderId;
  link.dataset.status = verdict.status || "";
  link.setAttribute("aria-label", `sniper order ${verdict.orderId}`);
  const status = document.createElement("span");
  status.className = verdict.filter ? "muted" : `status status-${verdict.status}`;
  status.textContent = ` ${label}`;
  item.append(link, status);
  return item;
}

function note(value) {
  const item = document.createElement("li");
  item.className = "muted";
  item.textContent = value;
  return item;
}
