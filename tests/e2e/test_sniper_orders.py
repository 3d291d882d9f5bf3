"""Sniper orders through the real processes (dispatcher, worker, evaluator with its pool
watcher, sniper matcher and buyer, projector), PostgreSQL, Redis and the simulator's
HTTP service: a sniper arms, a `simulator_launchPool` that fails its filter is recorded
on it and leaves it armed, the next one that passes matches it, and its buy is fired
at the pool's open plus `delaySlots` (never earlier) and confirms with the launched
token; the snapshot shows the match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.e2e.conftest import Stack, StackFactory
from tests.e2e.test_limit_orders import rpc, slots_running
from tests.e2e.test_read_side import _orderengine
from tests.support.read_side_api import projected_snapshots, wait_until

DELAY = 2


def sniper_rows(stack: Stack) -> int:
    with psycopg.connect(stack.engine.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM armed_snipers WHERE generation > 0").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.slow
async def test_a_sniper_skips_a_freezable_pool_and_buys_the_next_at_its_open_plus_delay(
    stack: StackFactory, redis_server: str
) -> None:
    async with stack(POOL_WATCH_POLL_MS="20") as running:
        running.engine.start("evaluator")
        running.engine.start("projector")
        body = {
            "type": "sniper",
            "tokenIn": "SOL",
            "amountIn": "0.5",
            "expiresAt": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
            "filters": {"minLiquidity": "50", "requireNotFreezable": True},
            "maxPrice": "0.00001",
            "delaySlots": DELAY,
            "priorityFee": 300_000,
        }
        reply = await running.client.post("/api/orders/execute", json=body)
        assert (reply.status_code, reply.json()["status"]) == (202, "armed"), reply.text
        order_id = reply.json()["orderId"]
        await wait_until(lambda: sniper_rows(running) == 1, what="the sniper matcher", seconds=60)

        async def events() -> list[dict[str, object]]:
            return list((await running.client.get(f"/api/orders/{order_id}/events")).json())

        async def has(kind: str) -> bool:
            return any(e["type"] == kind for e in await events())

        await rpc(running, "simulator_launchPool", {"freezable": True, "crowd": False})
        await rpc(running, "simulator_advanceSlots", {"slots": 1})
        await wait_until(lambda: has("PoolSkipped"), what="the freezable pool skipped", seconds=30)
        launch = await rpc(running, "simulator_launchPool", {"openInSlots": 3, "crowd": False})
        async with slots_running(running):
            await wait_until(lambda: has("OrderConfirmed"), what="the sniper's buy", seconds=60)
        history = await events()
        kinds = [e["type"] for e in history]
        assert kinds[:4] == ["OrderSubmitted", "OrderArmed", "PoolSkipped", "PoolMatched"]
        assert kinds.count("TriggerFired") == 1
        assert kinds.count("TransactionSigned") == 1
        skipped = history[2]["data"]
        matched = history[3]["data"]
        fired = next(e for e in history if e["type"] == "TriggerFired")["data"]
        confirmed = history[-1]["data"]
        assert isinstance(skipped, dict)
        assert skipped["filter"] == "requireNotFreezable"
        assert isinstance(matched, dict)
        assert matched["pool"] == launch["pool"]
        assert isinstance(fired, dict)
        assert isinstance(confirmed, dict)
        # Never before open + delay; with 20 ms slots a look may come a slot or two late.
        assert launch["openSlot"] + DELAY <= fired["slot"] <= launch["openSlot"] + DELAY + 10
        assert confirmed["slot"] > fired["slot"]
        legs = confirmed["legs"]
        assert isinstance(legs, list)
        assert [leg["pool"] for leg in legs] == [launch["pool"]]

        (snapshot,) = await projected_snapshots(
            running.engine.database_url, redis_server, [order_id], "confirmed"
        )
        assert snapshot["tokenOut"] == launch["baseMint"]
        assert snapshot["matchedPool"]["pool"] == launch["pool"]
        assert snapshot["poolsSkipped"] == 1
        assert snapshot["lastSkipped"]["filter"] == "requireNotFreezable"
        assert snapshot["entryPrice"] is not None
        assert float(snapshot["entryPrice"]) <= 0.00001
        assert snapshot["filters"]["minLiquidity"] == "50"
        code, out = await _orderengine(running.engine.environment(), "history", order_id)
        assert code == 0, out
        assert "matched pool" in out
        assert "requireNotFreezable refused it" in out


@pytest.mark.slow
async def test_a_sigkill_of_the_evaluator_between_match_and_buy_still_buys_once(
    stack: StackFactory,
) -> None:
    async with stack(POOL_WATCH_POLL_MS="20") as running:
        engine = running.engine
        engine.start("evaluator")
        body = {
            "type": "sniper",
            "tokenIn": "SOL",
            "amountIn": "0.2",
            "expiresAt": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
        }
        orders = [
            (await running.client.post("/api/orders/execute", json=body)).json()["orderId"]
            for _ in range(3)
        ]
        await wait_until(lambda: sniper_rows(running) == 3, what="the sniper matcher", seconds=60)

        async def kinds(order_id: str) -> list[str]:
            events = (await running.client.get(f"/api/orders/{order_id}/events")).json()
            return [e["type"] for e in events]

        async def all_have(kind: str) -> bool:
            return all([kind in await kinds(order_id) for order_id in orders])

        launch = await rpc(running, "simulator_launchPool", {"openInSlots": 4, "crowd": False})
        await rpc(running, "simulator_advanceSlots", {"slots": 1})
        await wait_until(lambda: all_have("PoolMatched"), what="the matches", seconds=30)
        engine.kill("evaluator")  # matched, not bought: the pool is not open yet
        engine.start("evaluator")
        async with slots_running(running):
            await wait_until(lambda: all_have("OrderConfirmed"), what="the buys", seconds=90)
        for order_id in orders:
            history = await kinds(order_id)
            assert history.count("PoolMatched") == 1
            assert history.count("TriggerFired") == 1, history
            assert history.count("TransactionSigned") == 1, "one buy, one transaction"
            assert history.count("OrderConfirmed") == 1
        assert launch["openSlot"] > launch["slot"]
