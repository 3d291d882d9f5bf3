"""Orders through real worker and dispatcher processes, PostgreSQL, Redis and the
simulator's HTTP service: confirmed, retried then failed, and a worker killed mid-flight;
each in both ledgers (SIMULATOR_LEDGER): CPMM pools in our math, and in the real program."""

from __future__ import annotations

import base64
from functools import partial
from typing import Any

import pytest
from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from simulator.base58 import b58decode
from simulator.config import LedgerMode, SimulatorConfig
from simulator.core import Simulator
from simulator.cpmm_program.executed_pool import ExecutedCpmmPool
from simulator.program_layouts import COMPUTE_BUDGET, MEMO_PROGRAM, PROGRAM_OF_KIND
from tests.e2e.conftest import Stack, StackFactory

ORDERS = [
    {"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"},
    # Big enough to split (within the wallet's 50M MEME): SOL/USDC's pools are so deep
    # that only more than the wallet's 1,000 SOL would.
    {"tokenIn": "MEME", "tokenOut": "SOL", "amountIn": "1000000"},
    {"tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "300"},
    {"tokenIn": "MEME", "tokenOut": "SOL", "amountIn": "25000"},
    {"tokenIn": "JUP", "tokenOut": "USDC", "amountIn": "100"},
]
# Orders the wallet can pay for many times over (it starts with 1,000 SOL).
SMALL = [ORDERS[0], ORDERS[2], ORDERS[3]]
VENUE_PROGRAMS = set(PROGRAM_OF_KIND.values())
pytestmark = pytest.mark.parametrize("ledger", ["math", "litesvm"])


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
    stack: StackFactory, ledger: LedgerMode
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
        cpmm_legs: set[str] = set()
        for order_id in order_ids:
            events = await history(running, order_id)
            assert events[-1]["type"] == "OrderConfirmed", events[-1]
            route = of_type(events, "RouteSelected")[-1]
            assert {q["venue"] for q in route["quotes"]} >= {"raydium", "meteora"}
            split = split or len(route["legs"]) > 1
            cpmm_legs |= {leg["pool"] for leg in route["legs"] if leg["label"] == "Raydium CPMM"}
            confirmed = of_type(events, "OrderConfirmed")[0]
            assert len(b58decode(confirmed["signature"])) == 64
            assert confirmed["slot"] > 0
            assert float(confirmed["amountOut"]) >= float(route["minAmountOut"])
            signed = of_type(events, "TransactionSigned")[-1]
            assert signed["signature"] == confirmed["signature"]
            _assert_real_transaction(signed, len(route["legs"]), order_id)
        assert split, "the 1M MEME order should split across pools"
        assert cpmm_legs, "no order went through a CPMM pool"
        executed = running.simulator.call(partial(_executed_in_program, pools=cpmm_legs))
        assert executed == (ledger == "litesvm")


def _executed_in_program(sim: Simulator, pools: set[str]) -> bool:
    """Whether these CPMM pools live in the program, their state its accounts."""
    found = [sim.catalog.by_address(pool).pool for pool in pools]
    in_program = [p for p in found if isinstance(p, ExecutedCpmmPool)]
    for pool in in_program:
        assert (pool.reserve_x, pool.reserve_y) == pool.program_pool.reserves()
    return len(in_program) == len(found)


def _assert_real_transaction(signed: dict[str, Any], legs: int, order_id: str) -> None:
    """The recorded bytes are a v0 transaction whose ed25519 signature verifies and is
    the recorded one, on the recorded blockhash: a compute budget, a swap per leg, and
    the memo that makes it this order's own."""
    tx = VersionedTransaction.from_bytes(base64.b64decode(signed["transaction"]))
    assert tx.verify_with_results() == [True]
    assert str(tx.signatures[0]) == signed["signature"]
    message = tx.message
    assert isinstance(message, MessageV0)
    assert str(message.recent_blockhash) == signed["blockhash"]
    keys = [str(key) for key in message.account_keys]
    programs = [keys[ix.program_id_index] for ix in message.instructions]
    assert programs[:2] == [COMPUTE_BUDGET, COMPUTE_BUDGET]
    assert len(programs) == 2 + legs + 1
    assert set(programs[2:-1]) <= VENUE_PROGRAMS
    assert programs[-1] == MEMO_PROGRAM
    assert bytes(message.instructions[-1].data) == f"oe:{order_id}".encode()


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
        order_ids = [await submit(running, SMALL[i % 3]) for i in range(40)]
        await running.engine.wait_for_final(5, timeout_s=30)  # some done, many under way
        running.engine.kill("worker-0")
        await running.engine.wait_for_final(len(order_ids), timeout_s=30)
        for order_id in order_ids:
            events = await history(running, order_id)
            signatures = [s["signature"] for s in of_type(events, "TransactionSigned")]
            fates = running.simulator.call(partial(_fates, signatures=signatures))
            landed = [s for s, fate in zip(signatures, fates, strict=True) if fate == "executed"]
            assert len(landed) <= 1, f"order {order_id} landed {len(landed)} times"
            confirmed = of_type(events, "OrderConfirmed")
            assert len(confirmed) == (1 if landed else 0)
            if landed:
                assert confirmed[0]["signature"] == landed[0]


def _fates(sim: Simulator, signatures: list[str]) -> list[str]:
    return [sim.ledger.fate(signature) for signature in signatures]


EXTREMES = [
    ({"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "18446744073.709551615"}, False),
    ({"tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "1000000000000"}, False),
    ({"tokenIn": "MEME", "tokenOut": "SOL", "amountIn": "1000000000000"}, False),
    ({"tokenIn": "JUP", "tokenOut": "USDC", "amountIn": "1000000000000"}, False),
    ({"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "0.000000001"}, True),
    ({"tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "0.000001"}, True),
    ({"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1001"}, True),  # more than it holds
]


async def test_the_extremes_each_end_and_the_fat_fingers_send_nothing(
    stack: StackFactory,
) -> None:
    async with stack(SimulatorConfig(seed=8)) as running:
        for order, _ in EXTREMES:
            quote = await running.client.get("/api/quote", params=order)
            assert quote.status_code in (200, 400), quote.text
        order_ids = [await submit(running, order) for order, _ in EXTREMES]
        await running.engine.wait_for_final(len(order_ids), timeout_s=60)
        for order_id, (order, may_send) in zip(order_ids, EXTREMES, strict=True):
            events = await history(running, order_id)
            assert events[-1]["type"] in ("OrderConfirmed", "OrderFailed"), (order, events[-1])
            if not may_send:
                assert events[-1]["data"]["code"] == "PriceImpactTooHigh", (order, events[-1])
                assert not of_type(events, "TransactionSigned"), order
