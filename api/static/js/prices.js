// A live price chart per pair: `GET /api/tokens` polled (each pair's price of one unit of
// its base, from the engine's own quoter), drawn with the vendored uPlot.

import { getJson } from "./api.js";

const POLL_MS = 2000;
const KEEP_POINTS = 300;

export class PriceCharts {
  constructor(container, notice) {
    this.container = container;
    this.notice = notice;
    this.charts = new Map(); // "BASE/QUOTE" -> { plot, times, prices, label }
    this.onTokens = () => {};
  }

  start() {
    this.poll();
  }

  async poll() {
    try {
      const universe = await getJson("/api/tokens");
      this.notice.textContent = "";
      this.onTokens(universe.tokens);
      const now = Date.now() / 1000;
      for (const pair of universe.pairs) this.add(pair, now);
    } catch (error) {
      this.notice.textContent = `Prices unavailable: ${error.message}`;
    }
    setTimeout(() => this.poll(), POLL_MS);
  }

  add(pair, now) {
    const name = `${pair.base}/${pair.quote}`;
    let chart = this.charts.get(name);
    if (!chart) chart = this.create(name, pair);
    if (pair.price === null) return;
    chart.times.push(now);
    chart.prices.push(Number(pair.price));
    if (chart.times.length > KEEP_POINTS) {
      chart.times.shift();
      chart.prices.shift();
    }
    chart.label.textContent = `${pair.price} ${pair.quote}`;
    chart.figure.dataset.points = String(chart.times.length);
    if (chart.plot) chart.plot.setData([chart.times, chart.prices]);
  }

  create(name, pair) {
    const figure = document.createElement("figure");
    figure.className = "price-chart";
    figure.dataset.pair = name;
    const caption = document.createElement("figcaption");
    const label = document.createElement("span");
    label.className = "price";
    caption.append(`${name} `, label);
    const plotArea = document.createElement("div");
    plotArea.className = "plot";
    plotArea.setAttribute("role", "img");
    plotArea.setAttribute("aria-label", `${name} price over time`);
    figure.append(caption, plotArea);
    this.container.append(figure);
    const chart = { times: [], prices: [], label, figure, plot: null };
    if (window.uPlot) {
      const options = {
        width: Math.max(240, plotArea.clientWidth || 300),
        height: 140,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true } },
        axes: [
          { stroke: "#555" },
          { stroke: "#555", size: 100, values: (_, splits) => splits.map(priceLabel) },
        ],
        series: [{}, { label: `${pair.quote} per ${pair.base}`, stroke: "#1f6feb", width: 2 }],
      };
      chart.plot = new window.uPlot(options, [[], []], plotArea);
      new ResizeObserver(() => {
        chart.plot.setSize({ width: Math.max(240, plotArea.clientWidth), height: 140 });
      }).observe(plotArea);
    }
    this.charts.set(name, chart);
    return chart;
  }
}

// Three significant digits, without exponents for the small prices of new tokens.
function priceLabel(value) {
  return value === 0 ? "0" : String(Number(value.toPrecision(3)));
}
