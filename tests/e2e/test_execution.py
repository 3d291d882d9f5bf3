"""Orders through real worker and dispatcher processes, PostgreSQL, Redis and the
simulator's HTTP service: confirmed, retried then failed, and a worker killed mid-flight."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from simulator.base58 import b58decode
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.responses import SignatureStatus
from tests.e2e.conftest import Stack, StackFactory

ORDERS = [
    {"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"},
    {"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "2500"},  # big enough to split
    {"tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "300"},
    {"tokenIn": "MEME", "tokenOut": "SOL", "amountIn": "25000"},
    {"tokenIn": "JUP", "tokenOut": "USDC", "amountIn": "100"},
]


async def submit(stack: Stack, order: dict[str, Any], slippage_bps: int = 100) -> str:
    body = {"type": "market", "slippageBps": slippage_bps, **order}
    response = await stack.client.post("/api/orders/execute", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["orderId"])


async def history(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    response = await stack.client.get(f"/api/orders/{order_id}/events")
    assert response.status_code == 200
    events: list[dict[str, Any]] = response.json()
    return events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event["data"] for event in events if event["type"] == kind]


async def test_orders_are_confirmed_with_venue_quotes_signature_and_slot(
    stack: StackFactory,
) -> None:
    async with stack() as running:
        quote = await running.client.get(
            "/api/quote", params={"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}
        )
        assert quote.status_code == 200, quote.text
        assert {q["venue"] for q in quote.json()["quotes"]} == {"raydium", "meteora"}
        order_ids = [await submit(running, order) for order in ORDERS]
        await running.engine.wait_for_final(len(order_ids), timeout_s=60)
        split = False
        for order_id in order_ids:
            events = await history(running, order_id)
            assert events[-1]["type"] == "OrderConfirmed", events[-1]
            route = of_type(events, "RouteSelected")[-1]
            assert {q["venue"] for q in route["quotes"]} >= {"raydium", "meteora"}
            split = split or len(route["legs"]) > 1
            confirmed = of_type(events, "OrderConfirmed")[0]
            assert len(b58decode(confirmed["signature"])) == 64
            assert confirmed["slot"] > 0
            assert float(confirmed["amountOut"]) >= float(route["minAmountOut"])
        assert split, "the 2,500 SOL order should split across pools"


async def test_forced_slippage_retries_then_fails_with_the_reason(stack: StackFactory) -> None:
    async with stack(SimulatorConfig(seed=3, p_slippage=1.0)) as running:
        order_id = await submit(running, ORDERS[0])
        await running.engine.wait_for_final(1, timeout_s=30)
        events = await history(running, order_id)
        failures = of_type(events, "AttemptFailed")
        assert [f["willRetry"] for f in failures] == [True, True, False]
        assert len({f["signature"] for f in failures}) == 3, "each attempt signs anew"
        assert events[-1]["type"] == "OrderFailed"
        assert "slippage" in events[-1]["data"]["reason"]
        assert [e["type"] for e in events].count("RoutingStarted") == 3, "each retry re-quotes"


@pytest.mark.slow
async def test_forced_expiry_retries_then_fails_with_the_reason(stack: StackFactory) -> None:
    async with stack(SimulatorConfig(seed=4, p_land=0.0), MAX_ATTEMPTS="2") as running:
        order_id = await submit(running, ORDERS[0])
        await running.engine.wait_for_final(1, timeout_s=60)
        events = await history(running, order_id)
        failures = of_type(events, "AttemptFailed")
        assert [f["code"] for f in failures] == ["BlockhashNotFound"] * 2
        assert events[-1]["type"] == "OrderFailed"
        assert "expired" in events[-1]["data"]["reason"]


@pytest.mark.slow
async def test_a_worker_killed_mid_flight_leaves_every_order_final_and_landed_once(
    stack: StackFactory,
) -> None:
    async with stack(SimulatorConfig(seed=5), workers=2) as running:
        order_ids = [await submit(running, ORDERS[i % 3]) for i in range(40)]
        await running.engine.wait_for_final(5, timeout_s=30)  # some done, many under way
        running.engine.kill("worker-0")
        await running.engine.wait_for_final(len(order_ids), timeout_s=30)
        for order_id in order_ids:
            events = await history(running, order_id)
            signatures = [s["signature"] for s in of_type(events, "TransactionSigned")]
            statuses = running.simulator.call(partial(_statuses, signatures=signatures))
            landed = [s for s in statuses if s is not None and s.err is None and s.result]
            assert len(landed) <= 1, f"order {order_id} landed {len(landed)} times"
            confirmed = of_type(events, "OrderConfirmed")
            assert len(confirmed) == (1 if landed else 0)
            if landed:
                assert confirmed[0]["signature"] == landed[0].signature


def _statuses(sim: Simulator, signatures: list[str]) -> list[SignatureStatus | None]:
    return sim.signature_statuses(signatures).value
