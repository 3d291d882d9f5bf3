"""Reads: the snapshot from the read model, `?atVersion=N`, pages of orders, metrics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from domain.events import OrderSubmitted
from domain.streams import order_stream
from tests.support.order_histories import as_new_events, confirmed_history
from tests.support.read_side_api import ReadSideApi, projecting, serving, wait_until

Api = tuple[ReadSideApi, httpx.AsyncClient]


@pytest.fixture(scope="module")
async def api(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str, database_url: str
) -> AsyncIterator[Api]:
    async with (
        serving(pool, redis_server) as engine,
        projecting(database_url, engine.store),
        httpx.AsyncClient(base_url=f"http://{engine.base_url}", headers=engine.auth) as client,
    ):
        yield engine, client


async def _confirmed_order(api: ReadSideApi, attempts: int = 1) -> str:
    history = confirmed_history(attempts=attempts)
    submitted = history[0]
    assert isinstance(submitted, OrderSubmitted)
    await api.store.append(order_stream(submitted.order_id), 0, as_new_events(history))
    return submitted.order_id


async def _projected(api: Api, order_id: str, version: int) -> dict[str, Any]:
    """The order's snapshot once the projector (not the fold fallback) holds `version`."""
    engine, client = api

    async def ready() -> bool:
        snapshot = await engine.read_side.snapshots.order(order_id)
        return snapshot is not None and snapshot.state.version == version

    await wait_until(ready, what=f"order {order_id} projected at version {version}")
    body: dict[str, Any] = (await client.get(f"/api/orders/{order_id}")).json()
    return body


async def test_the_snapshot_has_every_field_in_token_units(api: Api) -> None:
    engine, _ = api
    order_id = await _confirmed_order(engine, attempts=2)
    snapshot = await _projected(api, order_id, 11)
    assert snapshot["status"] == "confirmed"
    assert snapshot["amountIn"] == "1.5"
    assert snapshot["attempts"] == 2
    assert snapshot["chosenVenue"] == "raydium"  # 60 % of the input
    assert [leg["amountIn"] for leg in snapshot["route"]] == ["0.9", "0.6"]
    assert snapshot["expectedAmountOut"] == "2250"
    assert snapshot["amountOut"] == "2249.999999"
    assert snapshot["executedPrice"] == "1499.999999"  # to USDC's 6 decimals
    assert snapshot["txHash"]
    assert snapshot["slot"] == 302
    assert snapshot["failureReason"] is None, "the first attempt's failure is history"
    assert snapshot["createdAt"] <= snapshot["updatedAt"]


async def test_at_version_folds_the_events(api: Api) -> None:
    engine, client = api
    order_id = await _confirmed_order(engine)
    await _projected(api, order_id, 6)
    pending = (await client.get(f"/api/orders/{order_id}?atVersion=1")).json()
    assert (pending["status"], pending["version"]) == ("pending", 1)
    building = (await client.get(f"/api/orders/{order_id}?atVersion=3")).json()
    assert (building["status"], building["chosenVenue"]) == ("building", "raydium")
    assert (await client.get(f"/api/orders/{order_id}?atVersion=7")).status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        (f"/api/orders/{uuid.uuid4()}", 404, "orderId"),
        (f"/api/orders/{uuid.uuid4()}?atVersion=1", 404, "orderId"),
        ("/api/orders/not-a-uuid", 400, "orderId"),
        (f"/api/orders/{uuid.uuid4()}?atVersion=0", 400, "atVersion"),
        (f"/api/orders/{uuid.uuid4()}?atVersion=x", 400, "atVersion"),
        ("/api/orders?limit=0", 400, "limit"),
        ("/api/orders?limit=501", 400, "limit"),
        ("/api/orders?status=lost", 400, "status"),
        ("/api/orders?type=swap", 400, "type"),
        ("/api/orders?cursor=bm90LWEtY3Vyc29y", 400, "cursor"),
    ],
)
async def test_bad_reads(api: Api, path: str, status: int, field: str) -> None:
    _, client = api
    reply = await client.get(path)
    assert reply.status_code == status, reply.text
    assert reply.json()["field"] == field


async def test_pages_are_newest_first_without_gaps_or_repeats(api: Api) -> None:
    engine, client = api
    mine = [await _confirmed_order(engine) for _ in range(5)]
    await _projected(api, mine[-1], 6)
    seen: list[str] = []
    cursor = None
    while True:
        query = "/api/orders?status=confirmed&type=market&limit=2"
        reply = (await client.get(query + (f"&cursor={cursor}" if cursor else ""))).json()
        seen += [item["orderId"] for item in reply["items"]]
        assert all(item["status"] == "confirmed" for item in reply["items"])
        cursor = reply["nextCursor"]
        if cursor is None:
            break
        if len(seen) == 2:  # an order submitted mid-way sorts above, never into, the pages
            await _confirmed_order(engine)
    assert len(seen) == len(set(seen))
    assert [order for order in seen if order in mine] == list(reversed(mine))
    assert (await client.get("/api/orders?status=failed&limit=1")).status_code == 200


async def _scrape(client: httpx.AsyncClient) -> dict[str, Metric]:
    reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == CONTENT_TYPE_LATEST
    return {family.name: family for family in text_string_to_metric_families(reply.text)}


def _value(family: Metric, sample_name: str, **labels: str) -> float:
    (value,) = [
        s.value
        for s in family.samples
        if s.name == sample_name and labels.items() <= s.labels.items()
    ]
    return value


async def test_metrics_count_orders_stages_lag_and_sockets(api: Api) -> None:
    engine, client = api
    await _projected(api, await _confirmed_order(engine), 6)
    families = await _scrape(client)
    assert _value(families["orderengine_orders"], "orderengine_orders", status="confirmed") >= 1
    stages = families["orderengine_order_stage_seconds"]
    submitted = _value(stages, "orderengine_order_stage_seconds_count", stage="submitted")
    assert submitted >= 1
    assert submitted == _value(
        stages, "orderengine_order_stage_seconds_bucket", stage="submitted", le="+Inf"
    )
    assert _value(stages, "orderengine_order_stage_seconds_count", stage="total") >= 1
    lag = families["orderengine_consumer_lag_events"]
    assert _value(lag, "orderengine_consumer_lag_events", consumer="order_snapshots") >= 0
    assert _value(families["orderengine_websockets_open"], "orderengine_websockets_open") == 0


async def test_metrics_time_requests_per_route_and_status_class(api: Api) -> None:
    engine, client = api
    order_id = await _confirmed_order(engine)
    await client.get(f"/api/orders/{order_id}")
    await client.get("/api/orders/not-a-uuid")
    families = await _scrape(client)
    requests = families["orderengine_http_request_duration_seconds"]
    count = "orderengine_http_request_duration_seconds_count"
    route = "/api/orders/{orderId}"
    assert _value(requests, count, route=route, method="GET", status="2xx") >= 1
    assert _value(requests, count, route=route, method="GET", status="4xx") >= 1
    pool = families["orderengine_db_pool_connections"]
    assert _value(pool, "orderengine_db_pool_connections", state="idle") >= 0
    assert "orderengine_db_pool_waits" in families
    assert "orderengine_db_pool_wait_seconds" in families


async def test_metrics_sample_the_event_loop_lag(api: Api) -> None:
    _, client = api

    async def sampled() -> bool:
        lag = (await _scrape(client))["orderengine_event_loop_lag_seconds"]
        return _value(lag, "orderengine_event_loop_lag_seconds_count") > 0

    await wait_until(sampled, what="an event-loop lag sample")


async def test_an_order_not_projected_yet_is_folded_from_its_events(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> None:
    # No projector here: the read model never gets the order.
    async with serving(pool, redis_server) as engine:
        order_id = await _confirmed_order(engine)
        async with httpx.AsyncClient(
            base_url=f"http://{engine.base_url}", headers=engine.auth
        ) as client:
            reply = await client.get(f"/api/orders/{order_id}")
    assert reply.status_code == 200
    assert reply.json()["status"] == "confirmed"
