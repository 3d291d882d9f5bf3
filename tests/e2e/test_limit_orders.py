"""Limit orders through the real processes (dispatcher, worker, trigger evaluator,
projector), PostgreSQL, Redis and the simulator's HTTP service: an order armed above
the market fires once `simulator_movePrice` pushes the market through its limit,
confirms at or above it and streams every step; an unreachable one expires on time;
a cancel ends an armed one at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from db.pool import create_pool
from tests.e2e.conftest import Stack, StackFactory
from tests.e2e.test_read_side import _orderengine
from tests.support.read_side_api import serving, wait_until

LIMIT = {"type": "limit", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}


async def rpc(stack: Stack, method: str, params: dict[str, Any]) -> Any:
    async with httpx.AsyncClient() as client:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [params]}
        reply = await client.post(stack.simulator.url, json=body)
    return reply.json()["result"]


async def slots_passing(stack: Stack, stop: asyncio.Event) -> None:
    """The chain's slots, at 20 ms each (the simulator runs on its own clock only
    when its time scale is above 0)."""
    while not stop.is_set():
        await rpc(stack, "simulator_advanceSlots", {"slots": 1})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)


@asynccontextmanager
async def slots_running(stack: Stack) -> AsyncIterator[None]:
    """`slots_passing` for the block: the chain moves while the block waits on it."""
    stop = asyncio.Event()
    clock = asyncio.create_task(slots_passing(stack, stop))
    try:
        yield
    finally:
        stop.set()
        await clock


async def market_out(stack: Stack) -> float:
    quote = await stack.client.get(
        "/api/quote", params={"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}
    )
    return float(quote.json()["expectedAmountOut"])


@pytest.mark.slow
async def test_a_limit_order_fires_when_the_price_moves_and_confirms_above_its_limit(
    stack: StackFactory, redis_server: str
) -> None:
    async with stack() as running:
        engine = running.engine
        engine.start("evaluator")
        engine.start("projector")
        pool = create_pool(engine.database_url, min_size=1, max_size=8, acquire_timeout_s=5)
        await pool.open(wait=True)
        stop = asyncio.Event()
        try:
            async with serving(pool, redis_server) as api:
                wanted = f"{await market_out(running) * 1.02:.6f}"  # 2 % above the market
                async with connect(
                    f"ws://{api.base_url}/api/orders/execute", additional_headers=api.auth
                ) as socket:
                    await socket.send(json.dumps(LIMIT | {"minAmountOut": wanted}))
                    accepted = json.loads(await socket.recv())
                    assert accepted["type"] == "accepted", accepted
                    armed = [json.loads(await socket.recv()) for _ in range(3)]
                    assert [m.get("status") for m in armed] == ["pending", "armed", None]
                    await wait_until(
                        lambda: armed_rows(running) == 1, what="the evaluator", seconds=60
                    )
                    clock = asyncio.create_task(slots_passing(running, stop))
                    # Nothing fires while the market stays below the limit.
                    with contextlib.suppress(TimeoutError):
                        early = await asyncio.wait_for(socket.recv(), 1.0)
                        pytest.fail(f"fired below its limit: {early!r}")
                    await rpc(running, "simulator_movePrice", {"pair": "SOL/USDC", "bps": 400})
                    messages = [json.loads(raw) async for raw in socket]
                    assert socket.close_code == 1000
                order_id = accepted["orderId"]
                events = [m for m in [*armed, *messages] if m["type"] == "event"]
                assert [m["version"] for m in events] == list(range(1, len(events) + 1))
                statuses = [m["status"] for m in events]
                assert statuses[:3] == ["pending", "armed", "triggered"]
                assert statuses[-1] == "confirmed"
                fired = [m for m in events if m["event"] == "TriggerFired"]
                assert len(fired) == 1
                confirmed = events[-1]["data"]
                assert float(confirmed["amountOut"]) >= float(wanted)

                async with httpx.AsyncClient(
                    base_url=f"http://{api.base_url}", headers=api.auth
                ) as client:

                    async def projected() -> bool:
                        reply = await client.get(f"/api/orders/{order_id}")
                        return reply.status_code == 200 and reply.json()["status"] == "confirmed"

                    await wait_until(projected, what="the projector process", seconds=20)
                    snapshot = (await client.get(f"/api/orders/{order_id}")).json()
                    listed = await client.get("/api/orders", params={"type": "limit"})
                assert snapshot["minAmountOut"] == wanted.rstrip("0").rstrip(".")
                assert snapshot["triggerSlot"] == fired[0]["data"]["slot"]
                assert float(snapshot["triggerQuote"]["expectedAmountOut"]) >= float(wanted)
                assert snapshot["filledAfterExpiry"] is False
                assert [o["orderId"] for o in listed.json()["items"]] == [order_id]
        finally:
            stop.set()
            await pool.close()
        await clock
        code, out = await _orderengine(engine.environment(), "history", order_id)
        assert code == 0, out
        assert "fired in slot" in out


@pytest.mark.slow
async def test_an_unreachable_limit_expires_on_time_and_a_cancel_ends_another(
    stack: StackFactory,
) -> None:
    async with stack() as running:
        running.engine.start("evaluator")
        unreachable = f"{await market_out(running) * 2:.6f}"
        other = LIMIT | {"minAmountOut": unreachable}
        cancelled = (await running.client.post("/api/orders/execute", json=other)).json()
        # The evaluator process is up once its table holds that order (a loaded machine
        # may take seconds to start it); its lateness is measured from then on.
        await wait_until(
            lambda: armed_rows(running) == 1, what="the evaluator's projection", seconds=60
        )
        reply = await running.client.post(f"/api/orders/{cancelled['orderId']}/cancel")
        assert (reply.status_code, reply.json()["status"]) == (200, "cancelled")
        expires = datetime.now(UTC) + timedelta(seconds=2)
        body = LIMIT | {"minAmountOut": unreachable, "expiresAt": expires.isoformat()}
        expiring = (await running.client.post("/api/orders/execute", json=body)).json()

        async def ended() -> bool:
            events = await running.client.get(f"/api/orders/{expiring['orderId']}/events")
            return bool(events.json()[-1]["type"] == "OrderExpired")

        await wait_until(ended, what="the order expired", seconds=20)
        events = (await running.client.get(f"/api/orders/{expiring['orderId']}/events")).json()
        late = datetime.fromisoformat(events[-1]["recordedAt"]) - expires
        # Within about one slot of expiresAt (the evaluator looks every 50 ms).
        assert timedelta(0) <= late < timedelta(seconds=1), late
        assert [e["type"] for e in events] == ["OrderSubmitted", "OrderArmed", "OrderExpired"]


def armed_rows(stack: Stack) -> int:
    with psycopg.connect(stack.engine.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM armed_orders WHERE armed").fetchone()
    return int(row[0]) if row else 0
