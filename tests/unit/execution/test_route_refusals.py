"""What the route step does with an order it cannot or must not send: each ends once,
with its reason and code, and nothing reaches the chain."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from commands.order_steps import command_id, decide_all, load_order, record
from commands.route_and_send import route_and_send
from commands.step_context import ExecutionPolicy, StepContext
from commands.submit_order import submit_order
from domain.commands import FireTrigger, SubmitOrder
from domain.events import RouteLeg, TriggerQuote
from domain.status import OrderStatus
from simulator.core import Simulator
from tests.support.in_process_chain import in_process_context
from tests.support.solana_tx import CERTAIN
from tests.unit.execution.test_steps import event_types, new_order


def pool_reserves(simulator: Simulator) -> list[tuple[int, int]]:
    return [(x.pool.vaults.x, x.pool.vaults.y) for x in simulator.catalog.listings]


async def test_a_venue_refusal_fails_the_order_once_instead_of_a_retry_loop() -> None:
    # An order recorded before amounts were capped at a u64 (the venue refuses it).
    simulator = Simulator(CERTAIN)
    ctx, _ = in_process_context(simulator)
    order_id = await new_order(ctx, amount_in=2**64 + 5)
    await route_and_send(ctx, [(order_id, 1)])  # no exception: nothing for the broker to retry
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert (state.status, state.failure_code) == (OrderStatus.FAILED, "VenueRejected")
    assert state.failure_reason is not None
    assert "amount" in state.failure_reason
    await route_and_send(ctx, [(order_id, 1)])  # redelivered: appends nothing
    assert await event_types(ctx, order_id) == [
        "OrderSubmitted",
        "RoutingStarted",
        "AttemptFailed",
        "OrderFailed",
    ]


async def test_a_route_moving_the_price_past_the_guard_fails_without_signing() -> None:
    simulator = Simulator(CERTAIN)
    ctx, _ = in_process_context(simulator, ExecutionPolicy(max_price_impact_bps=500))
    reserves = pool_reserves(simulator)
    order_id = str(uuid.uuid4())
    fat_finger = SubmitOrder(
        order_id=order_id,
        order_type="market",
        token_in="USDC",
        token_out="SOL",
        amount_in=10**12 * 10**6,  # 10^12 USDC
        slippage_bps=50,
    )
    await submit_order(ctx.store, fat_finger, None)
    await route_and_send(ctx, [(order_id, 1)])
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert (state.status, state.failure_code) == (OrderStatus.FAILED, "PriceImpactTooHigh")
    assert state.failure_reason is not None
    assert "MAX_PRICE_IMPACT_BPS" in state.failure_reason
    assert "TransactionSigned" not in await event_types(ctx, order_id)
    assert pool_reserves(simulator) == reserves


async def test_a_normal_order_passes_the_guard() -> None:
    ctx, _ = in_process_context(Simulator(CERTAIN), ExecutionPolicy(max_price_impact_bps=500))
    order_id = await new_order(ctx, amount_in=10**9)
    await route_and_send(ctx, [(order_id, 1)])
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.SUBMITTED


async def _triggered_limit_order(ctx: StepContext, limit_amount_out: int) -> str:
    """A limit order whose trigger fired (with a quote meeting its limit)."""
    order_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    order = SubmitOrder(
        order_id=order_id,
        order_type="limit",
        token_in="SOL",
        token_out="USDC",
        amount_in=10**9,
        slippage_bps=0,
        limit_amount_out=limit_amount_out,
        limit_price="1000000",
        expires_at=now + timedelta(days=1),
    )
    await submit_order(ctx.store, order, None)
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.ARMED
    leg = RouteLeg(
        pool="p", venue="raydium", label="x", amount_in=10**9, amount_out=limit_amount_out
    )
    quote = TriggerQuote(expected_amount_out=limit_amount_out, price_impact="0", legs=(leg,))
    fire = FireTrigger(generation=state.generation, slot=1, quote=quote, now=now)
    fired = await record(
        ctx.store, state, decide_all(state, [fire]), command_id("fire", order_id, 1)
    )
    assert fired is not None
    assert fired.status == OrderStatus.TRIGGERED
    return order_id


async def test_a_limit_route_below_its_minimum_rearms_unsigned() -> None:
    # The market moved back between the trigger and the route: the domain re-arms the
    # order (LimitNotMet) before anything is signed.
    simulator = Simulator(CERTAIN)
    ctx, _ = in_process_context(simulator)
    ctx = dataclasses.replace(ctx, policy=ExecutionPolicy(max_attempts=3))
    order_id = await _triggered_limit_order(ctx, limit_amount_out=10**6 * 10**6)
    await route_and_send(ctx, [(order_id, 1)])
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert (state.status, state.failure_code) == (OrderStatus.ARMED, "LimitNotMet")
    assert "TransactionSigned" not in await event_types(ctx, order_id)
