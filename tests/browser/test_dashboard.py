"""The dashboard driven through Chromium against the real engine: what a user sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Request, Route, WebSocketRoute, expect
from solders.keypair import Keypair

from tests.browser.conftest import ConsoleErrors
from tests.support.api_keys import make_key
from tests.support.dashboard import DashboardEngine
from tests.support.servers import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "bench" / "results"

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

pytestmark = pytest.mark.slow


def test_the_page_shows_prices_health_and_the_form_without_errors(
    page: Page, dashboard: DashboardEngine
) -> None:
    expect(page.locator("#ready-badge")).to_have_text("ready")
    chart = page.locator('.price-chart[data-pair="SOL/USDC"]')
    expect(chart).to_be_visible()
    expect(chart.locator(".price")).to_have_text(re.compile(r"^\d+(\.\d+)? USDC$"))
    expect(page.locator('#health [data-fact="orders in flight"]')).to_be_visible()
    expect(page.locator("#launches-table")).to_have_attribute("data-launches", re.compile(r"^\d+$"))
    expect(page.locator("#launches-notice")).not_to_contain_text("unavailable")
    options = page.locator("#f-token-in option").all_inner_texts()
    assert {"SOL", "USDC"} <= set(options)


def submit(page: Page, order_type: str, fields: dict[str, str]) -> None:
    page.select_option("#f-type", order_type)
    for selector, value in fields.items():
        if page.locator(selector).evaluate("element => element.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.click("#order-form button[type=submit]")


def timeline_versions(page: Page) -> list[int]:
    items = page.locator("#timeline li").evaluate_all(
        "items => items.map(item => Number(item.dataset.version))"
    )
    return [int(version) for version in items]


def test_a_market_order_from_the_form_reaches_confirmed_live(page: Page, api: httpx.Client) -> None:
    submit(page, "market", {"#f-token-in": "SOL", "#f-token-out": "USDC", "#f-amount-in": "0.5"})
    link = page.locator("#submit-outcome a")
    expect(link).to_have_attribute("data-order-id", re.compile(UUID))
    order_id = link.get_attribute("data-order-id")
    expect(page.locator("#order-title")).to_have_text(f"Order {order_id}")
    expect(page.locator("#timeline li").last).to_contain_text("confirmed")
    expect(page.locator("#order-status")).to_have_text("confirmed")
    events = api.get(f"/api/orders/{order_id}/events").json()
    assert timeline_versions(page) == [event["version"] for event in events]
    assert events[0]["type"] == "OrderSubmitted"
    expect(page.locator('[data-fact="txHash"]')).to_have_text(
        re.compile(r"^[1-9A-HJ-NP-Za-km-z]{64,88}$")
    )
    expect(page.locator('[data-fact="slot"]')).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#route tbody tr")).not_to_have_count(0)
    snapshot = api.get(f"/api/orders/{order_id}").json()
    quotes = page.locator("#quotes thead th")
    expect(quotes).to_have_count(len(snapshot["quotes"]) + 1)
    expect(page.locator("#cancel-order")).to_be_hidden()
    row = page.locator(f'#orders-table tr[data-order-id="{order_id}"]')
    expect(row).to_have_attribute("data-status", "confirmed")
    expect(row.locator('[data-cell="amountOut"]')).to_have_text(f"{snapshot['amountOut']} USDC")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"#f-amount-in": "-1"}, "amountIn"),
        ({"#f-amount-in": "1", "#f-slippage": "9999"}, "slippageBps"),
        ({"#f-amount-in": "1", "#f-token-out": "SOL"}, "tokenOut"),
    ],
)
def test_a_refusal_shows_the_apis_detail_and_highlights_its_field(
    page: Page, api: httpx.Client, console: ConsoleErrors, fields: dict[str, str], field: str
) -> None:
    console.expected_statuses.add(400)
    before = api.get("/api/orders", params={"limit": 500}).json()["items"]
    with page.expect_request("**/api/orders/execute") as request:
        submit(page, "market", {"#f-token-in": "SOL", "#f-token-out": "USDC", **fields})
    body = request.value.post_data_json
    reply = api.post("/api/orders/execute", json=body)
    assert reply.status_code == 400
    problem = reply.json()
    assert problem["field"] == field
    outcome = page.locator("#submit-outcome")
    expect(outcome).to_have_text(f"400: {problem['detail']}")
    expect(outcome).to_have_attribute("role", "alert")
    refused = page.locator(f'#order-form [data-field="{field}"]')
    expect(refused).to_have_attribute("aria-invalid", "true")
    expect(refused).to_be_focused()
    assert page.locator("#order-form [aria-invalid]").count() == 1
    assert api.get("/api/orders", params={"limit": 500}).json()["items"] == before


def an_hour_ahead() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def submit_unreachable_limit(page: Page) -> str:
    submit(
        page,
        "limit",
        {
            "#f-token-in": "SOL",
            "#f-token-out": "USDC",
            "#f-amount-in": "0.25",
            "#f-limit-price": "1000000",
            "#f-expires": an_hour_ahead(),
        },
    )
    link = page.locator("#submit-outcome a")
    expect(link).to_have_attribute("data-order-id", re.compile(UUID))
    order_id = link.get_attribute("data-order-id")
    assert order_id is not None
    return order_id


def test_an_armed_limit_order_is_cancelled_from_its_page(page: Page, api: httpx.Client) -> None:
    order_id = submit_unreachable_limit(page)
    expect(page.locator("#submit-outcome .warning")).to_contain_text("market")
    expect(page.locator("#order-status")).to_have_text("armed")
    expect(page.locator('[data-fact="limitPrice"]')).to_have_text("1000000")
    cancel = page.locator("#cancel-order")
    expect(cancel).to_be_visible()
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(cancel).to_be_hidden()
    expect(page.locator("#timeline li").last).to_contain_text("OrderCancelled")
    assert api.get(f"/api/orders/{order_id}").json()["status"] == "cancelled"
    page.select_option("#filter-status", "cancelled")
    expect(page.locator(f'#orders-table tr[data-order-id="{order_id}"]')).to_be_visible()
    expect(page.locator('#orders-table tbody tr:not([data-status="cancelled"])')).to_have_count(0)


def test_a_reload_mid_stream_continues_the_timeline_without_gap_or_duplicate(
    page: Page, api: httpx.Client
) -> None:
    order_id = submit_unreachable_limit(page)
    expect(page.locator("#order")).to_have_attribute("data-live", "true")
    seen = timeline_versions(page)
    assert seen == [1, 2]
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.reload()
    expect(page.locator("#order")).to_have_attribute("data-live", "true")
    # Resumed after the last version shown, not replayed from the start.
    resumed = [url for url in sockets if f"/api/orders/{order_id}/stream" in url]
    assert resumed
    assert parse_qs(urlsplit(resumed[-1]).query)["afterVersion"] == ["2"]
    assert api.post(f"/api/orders/{order_id}/cancel").status_code == 200
    expect(page.locator("#order-status")).to_have_text("cancelled")
    events = api.get(f"/api/orders/{order_id}/events").json()
    assert timeline_versions(page) == [event["version"] for event in events] == [1, 2, 3]


def test_a_sniper_order_from_the_form_sends_its_terms_and_shows_the_answer(
    page: Page, api: httpx.Client, console: ConsoleErrors
) -> None:
    console.expected_statuses.add(400)  # exits are not built yet: `exit` is refused
    creator = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
    expires = an_hour_ahead()
    with page.expect_response("**/api/orders/execute") as response:
        submit(
            page,
            "sniper",
            {
                "#f-token-in": "SOL",
                "#f-amount-in": "2",
                "#f-slippage": "1500",
                "#f-expires": expires,
                "#f-target-kind": "creator",
                "#f-target": creator,
                "#f-min-liq": "50",
                "#f-renounced": "true",
                "#f-lp-burned": "90",
                "#f-max-price": "0.000004",
                "#f-tp": "40",
            },
        )
    sent = response.value.request.post_data_json
    assert sent == {
        "type": "sniper",
        "tokenIn": "SOL",
        "amountIn": "2",
        "slippageBps": 1500,
        "expiresAt": expires,
        "target": {"creator": creator},
        "filters": {"minLiquidity": "50", "requireMintRenounced": True, "minLpBurnedPct": 90},
        "maxPrice": "0.000004",
        "exit": {"takeProfitPct": 40},
    }
    answer = response.value.json()
    outcome = page.locator("#submit-outcome")
    if response.value.status == 202:
        expect(outcome.locator("a")).to_have_attribute("data-order-id", answer["orderId"])
        expect(page.locator("#order-status")).to_have_text("armed")
    else:
        expect(outcome).to_have_text(f"{response.value.status}: {answer['detail']}")
        # The refused field's input, or the first of its members (`exit` is an object).
        refused = page.locator("#order-form [aria-invalid=true]")
        expect(refused).to_have_count(1)
        named = refused.get_attribute("data-field") or ""
        assert named == answer["field"] or named.startswith(answer["field"] + "."), named


def test_a_sniper_armed_from_the_form_is_triggered_by_a_launch_shown_on_the_page(
    page: Page, api: httpx.Client, dashboard: DashboardEngine
) -> None:
    creator = str(Keypair().pubkey())  # a creator of this test's own: no other pool is its
    submit(
        page,
        "sniper",
        {
            "#f-token-in": "SOL",
            "#f-amount-in": "0.1",
            "#f-expires": an_hour_ahead(),
            "#f-target-kind": "creator",
            "#f-target": creator,
        },
    )
    link = page.locator("#submit-outcome a")
    expect(link).to_have_attribute("data-order-id", re.compile(UUID))
    order_id = link.get_attribute("data-order-id")
    expect(page.locator("#order-status")).to_have_text("armed")
    launch = dashboard.rpc(
        "simulator_launchPool",
        {"quoteToken": "SOL", "openInSlots": 0, "crowd": False, "creator": creator},
    )
    row = page.locator(f'#launches-table tr[data-pool="{launch["pool"]}"]')
    sniper = row.locator(f'a[data-order-id="{order_id}"]')
    # Slots pass only when asked (the test simulator's clock): the creation confirms a slot
    # after its own, and the buy lands a slot or two after it is sent.
    timeline = page.locator("#timeline li")
    for _ in range(150):
        dashboard.rpc("simulator_advanceSlots", {"slots": 1})
        if page.locator("#order-status").inner_text() in ("confirmed", "failed"):
            break
        page.wait_for_timeout(200)
    expect(page.locator("#order-status")).to_have_text("confirmed")
    expect(timeline.filter(has_text="PoolMatched")).to_have_count(1)
    expect(timeline.filter(has_text="TriggerFired")).to_have_count(1)
    expect(row).to_be_visible()
    expect(row.locator(f'[data-cell="pool"] [title="{creator}"]')).to_be_visible()
    expect(row.locator('[data-cell="checks"]')).to_contain_text("SOL")
    expect(sniper).to_have_attribute("data-status", "confirmed")
    listed = api.get("/api/launches").json()["items"]
    shown = next(item for item in listed if item["pool"] == launch["pool"])
    assert [m["orderId"] for m in shown["matched"]] == [order_id]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#launches").screenshot(path=str(SCREENSHOTS / "dashboard-launches.png"))


def test_the_page_asks_for_a_key_on_401_and_sends_it_as_bearer_and_access_token(
    page: Page, console: ConsoleErrors, dashboard: DashboardEngine
) -> None:
    refused = {"done": False}

    def refuse_once(route: Route) -> None:
        if refused["done"]:
            route.continue_()
            return
        refused["done"] = True
        route.fulfill(status=401, json={"status": 401, "detail": "no key"})

    console.expected_statuses.add(401)
    key = make_key(dashboard.engine.database_url, admin=True)  # another key than the page's
    requests: list[Request] = []
    sockets: list[str] = []
    page.on("request", lambda request: requests.append(request))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.route("**/api/tokens", refuse_once)
    page.reload()
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-input")).to_be_focused()
    page.keyboard.press("Control+A")  # the dialog shows the key it has; replace it
    page.keyboard.type(key)
    page.click("#key-dialog button[value=save]")
    expect(dialog).to_be_hidden()
    expect(page.locator("#key-state")).to_have_text("key set")
    page.reload()  # kept for the session: no second question
    submit(page, "market", {"#f-token-in": "SOL", "#f-token-out": "USDC", "#f-amount-in": "0.1"})
    expect(page.locator("#order-status")).to_have_text("confirmed")
    expect(dialog).to_be_hidden()
    api_requests = [r for r in requests if "/api/" in r.url and r.resource_type != "websocket"]
    after_key = [r for r in api_requests if r.url.endswith("/api/tokens")][1:]
    assert after_key
    posted = [r for r in api_requests if r.method == "POST"]
    assert posted
    for request in [*after_key, *posted]:
        assert request.headers.get("authorization") == f"Bearer {key}"
    # Never in an HTTP URL (a server logs those); only WebSockets carry it as a parameter.
    assert all(key not in request.url for request in requests if request.url.startswith("http"))
    # Streams opened once the new key was saved carry it (earlier ones had the page's).
    streams = [url for url in sockets if "/stream" in url and f"access_token={key}" in url]
    assert streams
    page.click("#key-forget")
    expect(page.locator("#key-state")).to_have_text("no key")


def test_keyboard_alone_submits_and_the_page_fits_a_laptop_and_a_phone(page: Page) -> None:
    page.focus("#f-amount-in")
    page.keyboard.type("0.2")
    page.keyboard.press("Enter")
    expect(page.locator("#order-status")).to_have_text("confirmed")
    expect(page.locator('.price-chart[data-pair="SOL/USDC"]')).to_have_attribute(
        "data-points", re.compile(r"^[2-9]|\d\d+")
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))
    assert horizontal_overflow(page) == 0
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#order-status")).to_be_visible()
    assert horizontal_overflow(page) == 0
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)


def horizontal_overflow(page: Page) -> int:
    """How far the page is wider than the window (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_stream_closed_4401_asks_for_a_key_and_reconnects_with_it(
    page: Page, dashboard: DashboardEngine, api: httpx.Client
) -> None:
    order = {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "0.1"}
    order_id = api.post("/api/orders/execute", json=order).json()["orderId"]
    before = dashboard.admin_key
    key = make_key(dashboard.engine.database_url, admin=True)
    urls: list[str] = []

    def refuse_first(socket: WebSocketRoute) -> None:
        urls.append(socket.url)
        if len(urls) == 1:
            socket.close(code=4401, reason="no key")
        else:
            socket.connect_to_server()

    page.route_web_socket(re.compile(f"/api/orders/{order_id}/stream"), refuse_first)
    page.goto(f"{dashboard.base_url}/#/orders/{order_id}")
    expect(page.locator("#key-dialog")).to_be_visible()
    page.fill("#key-input", key)
    page.click("#key-dialog button[value=save]")
    expect(page.locator("#order-status")).to_have_text("confirmed")
    events = api.get(f"/api/orders/{order_id}/events").json()
    expect(page.locator("#timeline li")).to_have_count(len(events))
    assert timeline_versions(page) == [event["version"] for event in events]
    assert f"access_token={before}" in urls[0]
    assert f"access_token={key}" in urls[-1]
