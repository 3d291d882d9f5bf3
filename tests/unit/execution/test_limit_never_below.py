"""By properties, over the real simulator (in process) and the real step handlers: a
limit order, whatever the market does, however many times its trigger is decided and
whenever it is cancelled, executes at most once and never below its limit (less the
slippage it allows).

Each example arms a few limit orders near the market, then runs a drawn sequence of
price moves, slots, trigger looks (each decided twice, as by two evaluators), cancels
and steps, driving orders as the dispatcher and watcher would; the chain's own ledger
is the judge of what landed.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.cancel_order import cancel_order
from commands.fire_trigger import fire_trigger
from commands.order_steps import load_order
from commands.plan_route import plan_route
from commands.ports import VenueRejected
from commands.route_and_send import route_and_send
from commands.step_context import ExecutionPolicy, StepContext
from commands.submit_order import submit_order
from db.armed_orders import ArmedOrder
from domain.commands import SubmitOrder
from domain.errors import InvalidTransition
from domain.events import OrderConfirmed, RouteSelected, TransactionSigned, decode_event
from domain.order_state import min_amount_out
from domain.routing import VenueUnavailable
from domain.status import OrderStatus
from domain.streams import order_stream
from domain.tokens import SOL, USDC
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from tests.support.in_process_chain import in_process_context
from tests.unit.execution.test_watcher import SentOrders
from workers.process_manager.confirmation_watcher import ConfirmationWatcher
from workers.process_manager.trigger_quotes import orders_met

EXPIRES = datetime.now(UTC) + timedelta(days=1)

orders = st.lists(
    st.tuples(
        st.sampled_from([10**8, 10**9, 5 * 10**9]),  # 0.1, 1, 5 SOL
        st.integers(-30, 80),  # the limit, in bps above the market now
        st.sampled_from([0, 0, 30]),  # slippageBps
    ),
    min_size=1,
    max_size=4,
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.integers(-150, 150)),
        st.tuples(st.just("slots"), st.integers(1, 4)),
        st.tuples(st.just("look"), st.just(0)),
        st.tuples(st.just("cancel"), st.integers(0, 3)),
        st.tuples(st.just("step"), st.just(0)),
    ),
    max_size=25,
)


async def arm(ctx: StepContext, amount: int, offset_bps: int, slippage: int) -> ArmedOrder:
    market = await plan_route(ctx.quotes, SOL, USDC, amount, 0, max_legs=2)
    limit = math.ceil(market.expected_amount_out * (1 + offset_bps / 10_000))
    order = SubmitOrder(
        order_id=str(uuid.uuid4()),
        order_type="limit",
        token_in="SOL",
        token_out="USDC",
        amount_in=amount,
        slippage_bps=slippage,
        limit_amount_out=limit,
        expires_at=EXPIRES,
    )
    await submit_order(ctx.store, order, None)
    return ArmedOrder(order.order_id, 1, "SOL", "USDC", amount, limit, EXPIRES)


async def look(ctx: StepContext, simulator: Simulator, armed: list[ArmedOrder]) -> None:
    """What the evaluator does for these orders on this slot, decided twice over."""
    current = []
    for order in armed:
        state = await load_order(ctx.store, order.order_id)
        if state is not None and state.status == OrderStatus.ARMED:
            current.append(
                ArmedOrder(
                    order.order_id, state.generation, "SOL", "USDC", order.amount_in,
                    order.limit_amount_out, EXPIRES,
                )
            )  # fmt: skip
    for met in await orders_met(ctx.quotes, SOL, USDC, current, 2):
        for _ in range(2):
            now = datetime.now(UTC)
            await fire_trigger(ctx.store, met.order.order_id, met.order.generation, met.slot,
                               met.quote, now)  # fmt: skip


async def step(ctx: StepContext, watcher: ConfirmationWatcher, armed: list[ArmedOrder]) -> None:
    """One round of the dispatcher's and the watcher's work, each delivered twice."""
    for order in armed:
        state = await load_order(ctx.store, order.order_id)
        assert state is not None
        if state.status == OrderStatus.TRIGGERED:
            for _ in range(2):
                with contextlib.suppress(VenueUnavailable, VenueRejected):
                    await route_and_send(ctx, [(order.order_id, state.generation)])
    with contextlib.suppress(VenueUnavailable, VenueRejected):
        await watcher.watch_once()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orders=orders,
    actions=actions,
    seed=st.integers(0, 3),
    p_slippage=st.sampled_from([0.0, 0.5]),  # half the landings fail: re-arms, new attempts
)
async def test_a_limit_order_executes_at_most_once_and_never_below_its_limit(
    orders: list[tuple[int, int, int]],
    actions: list[tuple[str, int]],
    seed: int,
    p_slippage: float,
) -> None:
    simulator = Simulator(SimulatorConfig(seed=seed, p_slippage=p_slippage))
    ctx, _ = in_process_context(simulator, ExecutionPolicy(max_attempts=3))
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    armed = [await arm(ctx, *order) for order in orders]
    source.order_ids.extend(order.order_id for order in armed)
    settle = [("look", 0), *[("step", 0)] * 6] * 3  # then let every order end its attempt
    for action, value in [*actions, *settle]:
        if action == "move":
            simulator.move_price("SOL/USDC", value)
        elif action == "slots":
            simulator.advance_slots(value)
        elif action == "look":
            await look(ctx, simulator, armed)
        elif action == "cancel" and value < len(armed):
            with contextlib.suppress(InvalidTransition):
                await cancel_order(ctx.store, armed[value].order_id)
        elif action == "step":
            await step(ctx, watcher, armed)
    for order in armed:
        recorded = await ctx.store.read_stream(order_stream(order.order_id))
        events = [decode_event(e.event_type, e.data) for e in recorded]
        state = await load_order(ctx.store, order.order_id)
        assert state is not None
        floor = min_amount_out(order.limit_amount_out, state.slippage_bps)
        for event in events:
            if isinstance(event, RouteSelected):
                assert event.min_amount_out == floor, "the swap's minimum is the limit's"
        signatures = [e.signature for e in events if isinstance(e, TransactionSigned)]
        landed = [s for s in signatures if simulator.ledger.fate(s) == "executed"]
        confirmed = [e for e in events if isinstance(e, OrderConfirmed)]
        assert len(landed) <= 1, f"executed twice on chain: {landed}"
        assert len(confirmed) <= 1
        if confirmed:
            assert confirmed[0].amount_out >= floor, "filled below the limit"
            assert confirmed[0].signature in landed
