"""`GET /api/launches`: the recent pool launches, newest first, each with the sniper
orders it matched and those it skipped (with the refusing filter); a non-admin key sees
only its own orders under each launch; a bad `limit` is a 400 naming it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from tests.support.api_keys import bearer, make_key, pool_url
from tests.support.read_side_api import ReadSideApi, projecting, serving, wait_until
from tests.support.sniper_rig import Rig, sniper_rig

Api = tuple[ReadSideApi, Rig]


@pytest.fixture
async def own_pool(own_database: str) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    # A database of its own: launches are ordered by the chain's slot, and another
    # test's simulator (its own chain) would interleave its pools with these.
    async with AsyncConnectionPool(own_database, min_size=1, max_size=8, open=False) as pool:
        yield pool


@pytest.fixture
async def api(
    own_pool: AsyncConnectionPool[AsyncConnection], own_database: str, redis_server: str
) -> AsyncIterator[Api]:
    async with (
        sniper_rig(own_pool, own_database, seed=17) as rig,
        serving(own_pool, redis_server) as engine,
        projecting(own_database, engine.store),
    ):
        yield engine, rig


def client_of(engine: ReadSideApi, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://{engine.base_url}", headers=bearer(key))


async def submit_sniper(client: httpx.AsyncClient, **fields: Any) -> str:
    body = {
        "type": "sniper",
        "tokenIn": "SOL",
        "amountIn": "1",
        "expiresAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    } | fields
    reply = await client.post("/api/orders/execute", json=body)
    assert reply.status_code == 202, reply.text
    order_id: str = reply.json()["orderId"]
    return order_id


async def launches(client: httpx.AsyncClient, query: str = "") -> list[dict[str, Any]]:
    reply = await client.get(f"/api/launches{query}")
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


async def test_launches_newest_first_with_the_snipers_they_matched_and_skipped(
    api: Api,
) -> None:
    engine, rig = api
    url = pool_url(rig.pool)
    alice_key, bob_key = make_key(url, "alice"), make_key(url, "bob")
    async with (
        client_of(engine, engine.admin_key) as admin,
        client_of(engine, alice_key) as alice,
        client_of(engine, bob_key) as bob,
    ):
        alices = await submit_sniper(alice)
        bobs = await submit_sniper(bob, filters={"minLpBurnedPct": 100})
        await rig.caught_up()
        freezable = await rig.launch(freezable=True)  # both refuse it
        half_burned = await rig.launch(lp_burned_pct=50)  # alice's; bob refuses it
        good = await rig.launch()  # bob's (alice's sniper matched already)

        async def projected() -> bool:
            items = await launches(admin)
            matched = [m for item in items for m in item["matched"]]
            return len(matched) == 2 and all(m["status"] == "triggered" for m in matched)

        await wait_until(projected, what="the matched snipers projected")
        newest, middle, oldest = await launches(admin)
        assert [item["pool"] for item in (newest, middle, oldest)] == [
            good.pool,
            half_burned.pool,
            freezable.pool,
        ]
        assert (newest["venue"], newest["quoteToken"]) == ("raydium", "SOL")
        assert (newest["baseMint"], newest["creator"]) == (good.base_mint, good.creator)
        assert (newest["slot"], newest["openTime"]) == (good.slot, good.open_time)
        assert newest["liquidity"] == "80"  # the quote reserve, in SOL
        assert (newest["freezable"], oldest["freezable"]) == (False, True)
        assert (middle["lpBurnedPct"], newest["mintRenounced"]) == (50, True)

        def verdicts(item: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
            return (
                {m["orderId"]: m["status"] for m in item["matched"]},
                {s["orderId"]: s["filter"] for s in item["skipped"]},
            )

        assert verdicts(newest) == ({bobs: "triggered"}, {})
        assert verdicts(middle) == ({alices: "triggered"}, {bobs: "minLpBurnedPct"})
        both_refused = {alices: "requireNotFreezable", bobs: "requireNotFreezable"}
        assert verdicts(oldest) == ({}, both_refused)
        assert (oldest["matchedCount"], oldest["skippedCount"]) == (0, 2)

        # A key sees every launch, and under each only its own orders.
        assert [verdicts(item) for item in await launches(alice)] == [
            ({}, {}),
            ({alices: "triggered"}, {}),
            ({}, {alices: "requireNotFreezable"}),
        ]
        (only,) = await launches(bob, "?limit=1")
        assert (only["pool"], verdicts(only)) == (good.pool, ({bobs: "triggered"}, {}))


@pytest.mark.parametrize(
    ("query", "field"),
    [("?limit=0", "limit"), ("?limit=201", "limit"), ("?limit=many", "limit")],
)
async def test_a_bad_limit_is_a_400_naming_it(api: Api, query: str, field: str) -> None:
    engine, _ = api
    async with client_of(engine, engine.admin_key) as admin:
        reply = await admin.get(f"/api/launches{query}")
    assert reply.status_code == 400, reply.text
    assert reply.json()["field"] == field, reply.text
