// The order form: market, limit and sniper orders. It checks nothing itself: it sends
// what was typed and shows the API's own answer, the refused field highlighted.

import { postJson, ProblemError } from "./api.js";

const INTEGER = /^-?\d+$/;
const INTEGER_FIELDS = new Set([
  "slippageBps",
  "delaySlots",
  "priorityFee",
  "filters.minLpBurnedPct",
  "filters.maxTopHolderPct",
  "exit.takeProfitPct",
  "exit.stopLossPct",
  "exit.maxHoldSlots",
]);
// Which inputs each order type sends (by data-field, dotted for nested members).
const FIELDS = {
  market: ["type", "tokenIn", "tokenOut", "amountIn", "slippageBps"],
  limit: [
    ...["type", "tokenIn", "tokenOut", "amountIn", "slippageBps"],
    ...["limitPrice", "minAmountOut", "expiresAt"],
  ],
  sniper: [
    ...["type", "tokenIn", "amountIn", "slippageBps", "expiresAt", "maxPrice", "delaySlots"],
    ...["priorityFee", "filters.minLiquidity", "filters.maxLiquidity"],
    ...["filters.requireMintRenounced", "filters.requireNotFreezable"],
    ...["filters.minLpBurnedPct", "filters.maxTopHolderPct"],
    ...["exit.takeProfitPct", "exit.stopLossPct", "exit.maxHoldSlots"],
  ],
};
const ALWAYS_SENT = new Set(["type", "tokenIn", "tokenOut", "amountIn"]);

export function setUpOrderForm(form, { onAccepted }) {
  const typeSelect = form.elements.namedItem("type");
  const showType = () => {
    for (const part of form.querySelectorAll("[data-for-types]")) {
      part.hidden = !part.dataset.forTypes.split(" ").includes(typeSelect.value);
    }
  };
  typeSelect.addEventListener("change", showType);
  showType();
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    await submit(form, onAccepted);
  });
}

export function fillTokens(form, tokens) {
  for (const name of ["tokenIn", "tokenOut"]) {
    const select = form.elements.namedItem(name);
    const chosen = select.value || (name === "tokenIn" ? "SOL" : "USDC");
    select.replaceChildren(
      ...tokens.map((token) => new Option(token.symbol, token.symbol, false, false)),
    );
    select.value = chosen;
  }
}

function inputOf(form, field) {
  return form.querySelector(`[data-field="${field}"]`);
}

export function orderBody(form) {
  const type = form.elements.namedItem("type").value;
  const body = {};
  for (const field of FIELDS[type]) {
    const input = inputOf(form, field);
    const raw = input.value.trim();
    if (raw === "" && !ALWAYS_SENT.has(field)) continue;
    let value = raw;
    if (input.dataset.kind === "boolean") value = raw === "true";
    else if (INTEGER_FIELDS.has(field) && INTEGER.test(raw)) value = Number(raw);
    const [outer, inner] = field.split(".");
    if (inner) body[outer] = { ...(body[outer] || {}), [inner]: value };
    else body[outer] = value;
  }
  if (type === "sniper") {
    const kind = inputOf(form, "target.kind").value;
    const target = inputOf(form, "target").value.trim();
    if (kind && target) body.target = { [kind]: target };
  }
  return body;
}

function clearRefusal(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }
}

// The input a problem's `field` names: exact, else its outer member (`filters`, `exit`).
function refusedInput(form, field) {
  if (!field) return null;
  const candidates = [field, field.split(".")[0], field.split(/[.[]/)[0]];
  for (const name of candidates) {
    const input = inputOf(form, name);
    if (input && !input.closest("[hidden]")) return input;
  }
  // A whole object refused (`exit`): its first member's input that is shown.
  for (const input of form.querySelectorAll(`[data-field^="${field}."]`)) {
    if (!input.closest("[hidden]")) return input;
  }
  return null;
}

async function submit(form, onAccepted) {
  const outcome = form.querySelector("#submit-outcome");
  const button = form.querySelector("button[type=submit]");
  clearRefusal(form);
  outcome.className = "outcome";
  outcome.textContent = "Sending…";
  button.disabled = true;
  try {
    const reply = await postJson("/api/orders/execute", orderBody(form), crypto.randomUUID());
    if (!reply.ok) throw await ProblemError.from(reply);
    const accepted = await reply.json();
    showAccepted(outcome, accepted);
    onAccepted(accepted);
  } catch (error) {
    const problem =
      error instanceof ProblemError ? error : new ProblemError(0, `Network error: ${error}`);
    showRefusal(form, outcome, problem);
  } finally {
    button.disabled = false;
  }
}

function showAccepted(outcome, accepted) {
  outcome.className = "outcome accepted";
  outcome.setAttribute("role", "status");
  const link = document.createElement("a");
  link.href = `#/orders/${accepted.orderId}`;
  link.textContent = accepted.orderId;
  link.dataset.orderId = accepted.orderId;
  outcome.replaceChildren(`Accepted (${accepted.status}): `, link);
  for (const warning of accepted.warnings || []) {
    const line = document.createElement("p");
    line.className = "warning";
    line.textContent = `Warning: ${warning}`;
    outcome.append(line);
  }
}

function showRefusal(form, outcome, problem) {
  outcome.className = "outcome refused";
  outcome.setAttribute("role", "alert");
  outcome.textContent = problem.status ? `${problem.status}: ${problem.detail}` : problem.detail;
  outcome.dataset.refusedField = problem.field || "";
  const input = refusedInput(form, problem.field);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "submit-outcome");
    input.focus();
  }
}
