"""The trigger evaluator over real PostgreSQL and a real (in-process) simulator: it
fires exactly the armed orders the market meets, once, moves with the price, expires
on time, and two evaluators (or one restarted after a crash) never fire an arm twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.fire_trigger import fire_trigger
from commands.plan_route import plan_route
from commands.ports import QuoteService
from commands.submit_order import submit_order
from db.armed_orders import candidates
from db.event_store import PostgresEventStore
from db.subscription import SubscriptionRunner
from domain.commands import SubmitOrder
from domain.events import TriggerFired, decode_event
from domain.streams import order_stream
from domain.tokens import SOL, USDC
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from tests.support.in_process_chain import in_process_clients
from workers.process_manager.armed_orders_projection import ArmedOrdersProjection
from workers.process_manager.trigger_evaluator import TriggerEvaluator
from workers.process_manager.trigger_quotes import orders_met

AMOUNT = 10**9  # 1 SOL


@dataclass
class Rig:
    simulator: Simulator
    quotes: QuoteService
    store: PostgresEventStore
    pool: AsyncConnectionPool[AsyncConnection]
    runner: SubscriptionRunner

    def evaluator(self, clock: datetime | None = None) -> TriggerEvaluator:
        return TriggerEvaluator(
            self.pool,
            self.store,
            self.quotes,
            max_legs=2,
            interval_s=0.01,
            clock=(lambda: clock) if clock else lambda: datetime.now(UTC),
        )

    async def caught_up(self) -> None:
        """Until the projection has applied everything settled."""
        head = await self.store.read_all(self.runner.position, 1)
        while head:
            await asyncio.sleep(0.02)
            head = await self.store.read_all(self.runner.position, 1)

    async def market_out(self, amount_in: int = AMOUNT) -> int:
        plan = await plan_route(self.quotes, SOL, USDC, amount_in, 0, max_legs=2)
        return plan.expected_amount_out

    async def arm(
        self, limit: int, expires_in: timedelta = timedelta(days=1), amount_in: int = AMOUNT
    ) -> str:
        order = SubmitOrder(
            order_id=str(uuid.uuid4()),
            order_type="limit",
            token_in="SOL",
            token_out="USDC",
            amount_in=amount_in,
            slippage_bps=0,
            limit_amount_out=limit,
            expires_at=datetime.now(UTC) + expires_in,
        )
        await submit_order(self.store, order, None)
        return order.order_id

    async def kinds(self, order_id: str) -> list[str]:
        return [e.event_type for e in await self.store.read_stream(order_stream(order_id))]

    async def fired(self, order_id: str) -> list[TriggerFired]:
        events = await self.store.read_stream(order_stream(order_id))
        decoded = [decode_event(e.event_type, e.data) for e in events]
        return [event for event in decoded if isinstance(event, TriggerFired)]


@pytest.fixture
async def rig(pool: AsyncConnectionPool[AsyncConnection], database_url: str) -> AsyncIterator[Rig]:
    simulator = Simulator(SimulatorConfig(seed=11))
    store = PostgresEventStore(pool)
    runner = SubscriptionRunner(database_url, store, ArmedOrdersProjection(), poll_interval_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_until_stopped(stop))
    await asyncio.wait_for(runner.active.wait(), 10)
    try:
        yield Rig(simulator, in_process_clients(simulator).quotes, store, pool, runner)
    finally:
        stop.set()
        await task


async def test_it_fires_exactly_the_orders_the_market_meets(rig: Rig) -> None:
    market = await rig.market_out()
    below = [await rig.arm(market * (100 - k) // 100) for k in (1, 2, 5)]
    above = [await rig.arm(market * (100 + k) // 100) for k in (1, 2, 5)]
    await rig.caught_up()
    rig.simulator.advance_slots(1)
    evaluator = rig.evaluator()
    await evaluator.look()
    for order_id in below:
        (fired,) = await rig.fired(order_id)
        assert fired.quote.expected_amount_out >= market * 95 // 100
        assert fired.generation == 1
        assert fired.slot == rig.simulator.chain.slot
    for order_id in above:
        assert await rig.kinds(order_id) == ["OrderSubmitted", "OrderArmed"]
    # The bound kept the far-off orders from being quoted at all.
    assert evaluator.figures.quoted < len(below) + len(above)
    # The price moves up by 6 %: arbitrage brings the pools to it within a few slots.
    rig.simulator.move_price("SOL/USDC", 600)
    rig.simulator.advance_slots(8)
    await rig.caught_up()
    await evaluator.look()
    for order_id in [*below, *above]:
        assert len(await rig.fired(order_id)) == 1, await rig.kinds(order_id)


async def test_the_same_slot_is_not_evaluated_twice(rig: Rig) -> None:
    await rig.arm(await rig.market_out() * 2)
    await rig.caught_up()
    rig.simulator.advance_slots(1)
    evaluator = rig.evaluator()
    await evaluator.look()
    await evaluator.look()
    assert evaluator.figures.slots == 1


async def test_an_order_expires_within_one_look_of_its_expiry(rig: Rig) -> None:
    order_id = await rig.arm(await rig.market_out() * 2, expires_in=timedelta(minutes=5))
    await rig.caught_up()
    early = rig.evaluator(clock=datetime.now(UTC) + timedelta(minutes=4))
    await early.look()
    assert (await rig.kinds(order_id))[-1] == "OrderArmed"
    late = rig.evaluator(clock=datetime.now(UTC) + timedelta(minutes=5, seconds=1))
    await late.look()
    assert (await rig.kinds(order_id))[-1] == "OrderExpired"
    await rig.caught_up()
    async with rig.pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM armed_orders WHERE order_id = %s", (order_id,)
        )
        assert await cursor.fetchone() == (0,)


async def test_two_evaluators_at_once_fire_each_arm_once(rig: Rig) -> None:
    market = await rig.market_out()
    orders = [await rig.arm(market * (1000 - k) // 1000) for k in range(1, 41)]
    await rig.caught_up()
    rig.simulator.advance_slots(1)
    first, second = rig.evaluator(), rig.evaluator()
    await asyncio.gather(first.look(), second.look(), first.look())
    for order_id in orders:
        assert len(await rig.fired(order_id)) == 1
    assert first.figures.fired + second.figures.fired == len(orders)


async def test_a_restart_after_a_crash_between_quote_and_append_fires_once(rig: Rig) -> None:
    market = await rig.market_out()
    crashed_before_append = await rig.arm(market * 99 // 100)
    crashed_after_append = await rig.arm(market * 98 // 100)
    await rig.caught_up()
    rig.simulator.advance_slots(1)
    # The first evaluator quoted both, appended one fire, and died before the other.
    ours = {crashed_before_append, crashed_after_append}
    async with rig.pool.connection() as conn:
        # Other tests' armed orders share the table: take every candidate, keep ours.
        every = await candidates(conn, [("SOL", "USDC", float("inf"))], 100_000)
    armed = [order for order in every if order.order_id in ours]
    met = await orders_met(rig.quotes, SOL, USDC, armed, 2)
    assert len(met) == 2
    done = next(m for m in met if m.order.order_id == crashed_after_append)
    now = datetime.now(UTC)
    await fire_trigger(rig.store, done.order.order_id, 1, done.slot, done.quote, now)
    # A fresh evaluator (no memory of the fire; the table may not have seen it yet):
    restarted = rig.evaluator()
    await restarted.look()
    assert len(await rig.fired(crashed_before_append)) == 1
    assert len(await rig.fired(crashed_after_append)) == 1


async def test_the_bound_never_hides_an_order_the_market_meets(rig: Rig) -> None:
    """Limits a hair either side of the exact quote: the bound lets through every order
    the router's own quote meets, and only those fire."""
    rig.simulator.advance_slots(1)
    limits: dict[str, tuple[int, int]] = {}
    for amount in (10**7, 10**8, 10**9, 7 * 10**9):  # below and above the one-token probe
        market = await rig.market_out(amount)
        for delta in range(-3, 4):
            limits[await rig.arm(market + delta, amount_in=amount)] = (amount, market + delta)
    await rig.caught_up()
    evaluator = rig.evaluator()
    await evaluator.look()
    for order_id, (amount, limit) in limits.items():
        exact = await rig.market_out(amount)  # the same slot: nothing advanced it
        assert (len(await rig.fired(order_id)) == 1) == (exact >= limit), (amount, limit, exact)
