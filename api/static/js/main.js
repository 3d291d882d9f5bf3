// The dashboard's wiring: the panels, the key dialog and the `#/orders/<id>` route.

import { apiKey, askForKey, setApiKey } from "./api.js";
import { HealthPanel } from "./health.js";
import { LaunchesPanel } from "./launches.js";
import { fillTokens, setUpOrderForm } from "./order-form.js";
import { OrderList } from "./order-list.js";
import { OrderPage } from "./order-page.js";
import { PriceCharts } from "./prices.js";

const byId = (id) => document.getElementById(id);

const form = byId("order-form");
const orderPage = new OrderPage(byId("order"));
const list = new OrderList(byId("orders-table"), byId("order-filters"), byId("orders-notice"));
const prices = new PriceCharts(byId("price-charts"), byId("prices-notice"));
prices.onTokens = (tokens) => {
  if (!form.dataset.tokens) {
    fillTokens(form, tokens);
    form.dataset.tokens = "loaded";
  }
};
setUpOrderForm(form, {
  onAccepted: (accepted) => {
    window.location.hash = `#/orders/${accepted.orderId}`;
  },
});

function route() {
  const match = /^#\/orders\/([0-9a-fA-F-]{36})$/.exec(window.location.hash);
  if (match) orderPage.show(match[1]);
  else orderPage.hide();
}

function showKeyState() {
  byId("key-state").textContent = apiKey() ? "key set" : "no key";
}

byId("key-button").addEventListener("click", () => askForKey(""));
byId("key-forget").addEventListener("click", () => setApiKey(""));
byId("order-close").addEventListener("click", () => {
  window.location.hash = "#/";
});
document.addEventListener("apikey-changed", showKeyState);
window.addEventListener("hashchange", route);

showKeyState();
route();
list.start();
prices.start();
new LaunchesPanel(byId("launches-table"), byId("launches-notice")).start();
new HealthPanel(byId("health"), byId("ready-badge")).start();
document.body.dataset.ready = "true";
