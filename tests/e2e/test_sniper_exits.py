"""A sniper's take-profit exit through the real processes (dispatcher, worker, evaluator
with its exit watcher, projector), PostgreSQL, Redis and the simulator's HTTP service: a
sniper with exit terms buys a `simulator_launchPool` at its open and holds the position;
a second, bigger sniper buys the same pool a few slots later and lifts its price; the
exit watcher's sale quote meets the take profit and creates one child market order that
sells the whole position; the child confirms and the parent ends `confirmed` with
`exitReason: takeProfit`. The snapshots link both ways, and `orderengine history` and
the events show the entry and the exit with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import Stack, StackFactory
from tests.e2e.test_limit_orders import rpc, slots_running
from tests.e2e.test_read_side import _orderengine
from tests.e2e.test_sniper_orders import sniper_rows
from tests.support.read_side_api import projected_snapshots, wait_until


async def event_kinds(running: Stack, order_id: str) -> list[str]:
    """The types of the order's events, oldest first."""
    events = (await running.client.get(f"/api/orders/{order_id}/events")).json()
    return [event["type"] for event in events]


@pytest.mark.slow
async def test_a_take_profit_exit_sells_through_one_child_and_the_parent_ends_with_it(
    stack: StackFactory, redis_server: str
) -> None:
    # The lifting buy moves a 20 SOL pool by far more than the default 5 % guard.
    async with stack(POOL_WATCH_POLL_MS="20", MAX_PRICE_IMPACT_BPS="5000") as running:
        running.engine.start("evaluator")
        running.engine.start("projector")
        expires = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
        holder = {
            "type": "sniper",
            "tokenIn": "SOL",
            "amountIn": "0.2",
            "expiresAt": expires,
            "priorityFee": 300_000,
            "exit": {"takeProfitPct": 20, "stopLossPct": 90, "maxHoldSlots": 100_000},
        }
        lifter = {"type": "sniper", "tokenIn": "SOL", "amountIn": "8", "slippageBps": 5000,
                  "expiresAt": expires, "delaySlots": 6}  # fmt: skip
        client = running.client
        reply = await client.post("/api/orders/execute", json=holder)
        assert (reply.status_code, reply.json()["status"]) == (202, "armed"), reply.text
        order_id = reply.json()["orderId"]
        reply = await client.post("/api/orders/execute", json=lifter)
        assert reply.status_code == 202, reply.text
        await wait_until(lambda: sniper_rows(running) == 2, what="the sniper matcher", seconds=60)

        async def kinds(order: str) -> list[str]:
            return await event_kinds(running, order)

        async def has(order: str, kind: str) -> bool:
            return kind in await kinds(order)

        launch = await rpc(
            running,
            "simulator_launchPool",
            {"openInSlots": 2, "crowd": False, "quoteReserve": "20"},
        )
        async with slots_running(running):
            await wait_until(lambda: has(order_id, "PositionClosed"), what="the exit", seconds=120)
        history = (await client.get(f"/api/orders/{order_id}/events")).json()
        names = [e["type"] for e in history]
        assert names.count("OrderConfirmed") == 1, "one buy"
        assert names[-4:] == ["OrderConfirmed", "PositionOpened", "ExitTriggered", "PositionClosed"]
        triggered = history[-2]["data"]
        assert triggered["reason"] == "takeProfit"
        child_id = triggered["exitOrderId"]
        assert float(triggered["value"]) >= 0.2 * 1.2, "the sale quote met the take profit"
        assert await kinds(child_id) == [
            "OrderSubmitted",
            "RoutingStarted",
            "RouteSelected",
            "TransactionSigned",
            "TransactionSent",
            "OrderConfirmed",
        ]
        parent, child = await projected_snapshots(
            running.engine.database_url, redis_server, [order_id, child_id], "confirmed"
        )
        assert (parent["exitOrderId"], parent["exitReason"]) == (child_id, "takeProfit")
        assert parent["exit"] == {"takeProfitPct": 20, "stopLossPct": 90, "maxHoldSlots": 100_000}
        assert parent["entryPrice"] is not None
        assert float(parent["exitProceeds"]) > 0.2, "sold at a profit"
        assert (child["parentOrderId"], child["type"], child["status"]) == (
            order_id,
            "market",
            "confirmed",
        )
        assert (child["tokenIn"], child["tokenOut"]) == (launch["baseMint"], "SOL")
        assert child["amountIn"] == parent["amountOut"], "the whole position"
        code, out = await _orderengine(running.engine.environment(), "history", order_id)
        assert code == 0, out
        assert "entry price" in out
        assert "by takeProfit" in out
        code, out = await _orderengine(running.engine.environment(), "history", child_id)
        assert code == 0, out
        assert f"the exit of sniper order {order_id}" in out


@pytest.mark.slow
async def test_a_sigkill_of_the_evaluator_while_holding_still_exits_once(
    stack: StackFactory,
) -> None:
    async with stack(POOL_WATCH_POLL_MS="20") as running:
        engine = running.engine
        engine.start("evaluator")
        body = {
            "type": "sniper",
            "tokenIn": "SOL",
            "amountIn": "0.1",
            "expiresAt": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
            "exit": {"maxHoldSlots": 5},
        }
        orders = [
            (await running.client.post("/api/orders/execute", json=body)).json()["orderId"]
            for _ in range(2)
        ]
        await wait_until(lambda: sniper_rows(running) == 2, what="the sniper matcher", seconds=60)

        async def kinds(order: str) -> list[str]:
            return await event_kinds(running, order)

        async def all_have(kind: str) -> bool:
            return all([kind in await kinds(order) for order in orders])

        await rpc(running, "simulator_launchPool", {"openInSlots": 0, "crowd": False})
        async with slots_running(running):
            await wait_until(lambda: all_have("PositionOpened"), what="the buys", seconds=60)
        engine.kill("evaluator")  # holding; the slots stop with the clock
        held = [await kinds(order) for order in orders]
        assert all("ExitTriggered" not in history for history in held), held
        await rpc(running, "simulator_advanceSlots", {"slots": 10})  # past maxHoldSlots
        engine.start("evaluator")
        async with slots_running(running):
            await wait_until(lambda: all_have("PositionClosed"), what="the exits", seconds=90)
        for order in orders:
            history = (await running.client.get(f"/api/orders/{order}/events")).json()
            names = [e["type"] for e in history]
            assert names.count("OrderConfirmed") == 1, names
            assert names.count("ExitTriggered") == 1, names
            (triggered,) = [e["data"] for e in history if e["type"] == "ExitTriggered"]
            assert triggered["reason"] == "maxHold"
            child = await kinds(triggered["exitOrderId"])
            assert child.count("OrderSubmitted") == 1
            assert child.count("TransactionSigned") == 1, "one sale, one transaction"
            assert child[-1] == "OrderConfirmed"
