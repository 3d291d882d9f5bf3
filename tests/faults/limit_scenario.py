"""One fault while limit orders are armed and the market moves through their limits
(issue 14), then its promises: no arm fired twice, nothing executed twice, no order
whose limit the market met for 3 slots in a row left unfired, every fired order final.

The slots are driven here (the rig's simulator runs at time scale 0): each step moves
SOL/USDC's reference price up by a few basis points and advances one slot; after each
the exact best single-pool output for every amount the orders use is read from the
quote service, so the test knows when each order's limit was met. Its row joins the
fault table (`tests/faults/conftest.py`); the load is the armed orders and the fired
ones executing through the engine.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from domain.tokens import SOL, USDC
from tests.faults.conftest import ROWS, FaultRow
from tests.support.engine_checks import double_executions, repeated_commands, wait_until_final
from tests.support.fault_rig import FaultRig

AMOUNTS = ["0.2", "0.5", "1"]  # SOL
ORDERS = 60
RAMP_SLOTS = 80
MOVE_BPS = 4  # a slot, up: 3.2 % over the ramp
FAULT_AT_SLOT = 25
HOLD_S = 60  # at the top, slots going on, for every order the ramp reached to fire
SLOT_S = 0.1
_TRIGGERS = (
    "SELECT substr(stream_id, 7), data->>'generation', recorded_at FROM events"
    " WHERE event_type = 'TriggerFired'"
)


class Market:
    """The quote service's exact best single-pool output per amount, slot by slot."""

    def __init__(self, client: httpx.AsyncClient, simulator_url: str) -> None:
        self._client = client
        self._url = simulator_url
        self.outs: list[dict[int, int]] = []

    async def rpc(self, method: str, params: dict[str, object]) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [params]}
        reply = (await self._client.post(self._url, json=body)).json()
        assert "result" in reply, reply
        return reply["result"]

    async def look(self) -> None:
        amounts = [int(float(a) * 10**SOL.decimals) for a in AMOUNTS]
        body = {"inputMint": SOL.mint, "outputMint": USDC.mint, "amounts": amounts}
        reply = (await self._client.post(f"{self._url}/quote/ladder", json=body)).json()
        self.outs.append(
            {
                amount: max(int(pool["quotes"][i]["outAmount"]) for pool in reply["pools"])
                for i, amount in enumerate(amounts)
            }
        )

    def held_three(self, amount: int, limit: int) -> bool:
        met = [outs[amount] >= limit for outs in self.outs]
        return any(met[i] and met[i + 1] and met[i + 2] for i in range(len(met) - 2))


async def exercise_limits(
    rig: FaultRig, fault: str, inject: Callable[[FaultRig], Awaitable[None]]
) -> None:
    """Arm orders above the market, ramp the price through them with `inject` on the
    way, then check every promise and add a row to the table."""
    if "evaluator" not in rig.engine.processes:
        rig.start("evaluator")
    api = f"http://{rig.apis[0]}"
    rng = random.Random(14)
    restarts_before = rig.unplanned_restarts()
    with rig.horizon_sampler() as horizon:
        async with httpx.AsyncClient(timeout=10, headers=rig.engine.auth) as client:
            market = Market(client, rig.simulator.url)
            await market.look()
            orders: dict[str, tuple[int, int]] = {}
            for index in range(ORDERS):
                amount = AMOUNTS[index % len(AMOUNTS)]
                atomic = int(float(amount) * 10**SOL.decimals)
                limit = math.ceil(market.outs[-1][atomic] * (1 + rng.uniform(0.001, 0.03)))
                body = {
                    "type": "limit", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": amount,
                    "minAmountOut": f"{limit / 10**USDC.decimals:.6f}",
                    "expiresAt": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
                }  # fmt: skip
                reply = await client.post(f"{api}/api/orders/execute", json=body)
                assert reply.status_code == 202, reply.text
                limit_atomic = round(float(body["minAmountOut"]) * 10**USDC.decimals)
                orders[reply.json()["orderId"]] = (atomic, limit_atomic)
            await _until_armed(rig, len(orders))
            faulted_at = 0.0
            for slot in range(RAMP_SLOTS):
                if slot == FAULT_AT_SLOT:
                    faulted_at = time.monotonic()
                    await inject(rig)
                await market.rpc("simulator_movePrice", {"pair": "SOL/USDC", "bps": MOVE_BPS})
                await _next_slot(market)
            should = {
                oid for oid, (amount, limit) in orders.items() if market.held_three(amount, limit)
            }
            # The market stays at the top (each of those orders still met): slots go on until
            # every one of them fired, or the deadline says one never will.
            deadline = time.monotonic() + HOLD_S
            fires = await asyncio.to_thread(_fires, rig.engine.database_url)
            while not should <= {oid for oid, _ in fires} and time.monotonic() < deadline:
                await _next_slot(market)
                fires = await asyncio.to_thread(_fires, rig.engine.database_url)
    unplanned = rig.unplanned_restarts() - restarts_before
    fired = {order_id for order_id, _ in fires}
    twice = len(fires) - len(set(fires))
    missed = should - fired
    still_open = await wait_until_final(rig.engine.database_url, fired, 60)
    recovery_s = time.monotonic() - faulted_at
    doubles = await asyncio.to_thread(double_executions, rig.engine.database_url, rig.simulator.url)
    repeated = await asyncio.to_thread(repeated_commands, rig.engine.database_url)
    ROWS.append(
        FaultRow(
            f"limit orders: {fault} ({len(should)} of {ORDERS} armed orders reached)",
            len(orders), len(orders), len(missed | still_open), len(doubles) + twice,
            len(repeated), 0, 0, recovery_s, unplanned, horizon.longest_s * 1000,
        )
    )  # fmt: skip
    assert twice == 0, f"{twice} arms fired twice"
    assert not missed, f"{len(missed)} orders met for 3 slots never fired; logs in {rig.logs}"
    assert not still_open, f"{len(still_open)} fired orders never final; logs in {rig.logs}"
    assert not doubles, doubles
    assert not repeated, repeated[:5]
    assert not unplanned, f"{rig.restarts} restarts, {rig.planned} planned; logs in {rig.logs}"
    assert len(should) >= ORDERS // 3, f"the ramp reached only {len(should)} orders"


async def _until_armed(rig: FaultRig, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while await asyncio.to_thread(_armed, rig.engine.database_url) < count:
        assert time.monotonic() < deadline, f"orders not armed; logs in {rig.logs}"
        await asyncio.sleep(0.1)


async def _next_slot(market: Market) -> None:
    await market.rpc("simulator_advanceSlots", {"slots": 1})
    await market.look()
    await asyncio.sleep(SLOT_S)


def _armed(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM armed_orders WHERE armed").fetchone()
    return int(row[0]) if row else 0


def _fires(database_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        return [(str(row[0]), str(row[1])) for row in conn.execute(_TRIGGERS)]
