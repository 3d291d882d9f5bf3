"""The sniper pipeline over real PostgreSQL and an in-process simulator: the pool
watcher, the launched-pools projection, the sniper matcher and the buyer, with helpers
to launch a pool and submit a sniper. `tests/integration/test_snipers.py` and
`test_launches_api.py` drive it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.ports import LaunchFeed
from commands.step_context import ExecutionPolicy, StepContext
from commands.submit_order import submit_order
from db.event_store import PostgresEventStore
from db.subscription import SubscriptionRunner
from domain.commands import SubmitOrder
from domain.events import OrderEvent, TriggerFired, decode_event
from domain.order_state import OrderState, fold
from domain.sniper_terms import SniperTerms
from domain.streams import order_stream
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.launches import Launch, LaunchSpec
from simulator.universe import SOL
from tests.support.in_process_chain import in_process_clients
from workers.process_manager.launched_pools_projection import LaunchedPoolsProjection
from workers.process_manager.pool_watcher import PoolWatcher
from workers.process_manager.sniper_buyer import SniperBuyer
from workers.process_manager.sniper_matcher import SniperMatcher

QUIET = SimulatorConfig(seed=7, skip_rate=0.0, market_activity=False)


async def settled(store: PostgresEventStore, runner: SubscriptionRunner, types: object) -> None:
    """Until `runner` has applied every settled event of its `types`."""
    assert isinstance(types, tuple)
    pending = await store.read_all(runner.position, 1, types)
    while pending:
        await asyncio.sleep(0.02)
        pending = await store.read_all(runner.position, 1, types)


def sniper_order(**terms: object) -> SubmitOrder:
    """A sniper spending 1 SOL within the hour, with `terms` (SniperTerms' fields)."""
    return SubmitOrder(
        order_id=str(uuid.uuid4()),
        order_type="sniper",
        token_in="SOL",
        token_out="",
        amount_in=10**9,
        slippage_bps=1_500,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        sniper=SniperTerms(**terms),  # type: ignore[arg-type]
    )


@dataclass
class Rig:
    simulator: Simulator
    store: PostgresEventStore
    watcher: PoolWatcher
    buyer: SniperBuyer
    runners: tuple[SubscriptionRunner, ...]
    ctx: StepContext
    pool: AsyncConnectionPool[AsyncConnection]
    feed: LaunchFeed

    def another_buyer(self) -> SniperBuyer:
        """A second buyer on the same chain and store (two evaluators at once)."""
        return SniperBuyer(self.pool, self.store, self.ctx.quotes, self.feed, interval_s=0.01)

    async def caught_up(self) -> None:
        # Each runner reads only its own event types: its position stops at the last one.
        for runner, types in zip(
            self.runners, (("PoolLaunched",), SniperMatcher.event_types), strict=True
        ):
            await settled(self.store, runner, types)

    async def launch(self, **changes: object) -> Launch:
        fields: dict[str, object] = {
            "quote_mint": SOL.mint,
            "quote_reserve": 80 * 10**9,
            "base_reserve": 800_000_000 * 10**6,
            "crowd": False,
        }
        launch = self.simulator.launchpad.launch(LaunchSpec(**(fields | changes)))  # type: ignore[arg-type]
        self.simulator.advance_slots(1)  # the creation confirms
        await self.watcher.look()
        await self.caught_up()
        return launch

    async def sniper(self, **terms: object) -> str:
        order = sniper_order(**terms)
        await submit_order(self.store, order, None)
        return order.order_id

    async def events(self, order_id: str) -> list[OrderEvent]:
        recorded = await self.store.read_stream(order_stream(order_id))
        return [decode_event(e.event_type, e.data) for e in recorded]

    async def state(self, order_id: str) -> OrderState:
        state = fold(await self.events(order_id))
        assert state is not None
        return state

    async def fired(self, order_id: str) -> list[TriggerFired]:
        return [e for e in await self.events(order_id) if isinstance(e, TriggerFired)]


@asynccontextmanager
async def sniper_rig(
    pool: AsyncConnectionPool[AsyncConnection], database_url: str, seed: int
) -> AsyncIterator[Rig]:
    """The pipeline on `pool`'s database and a quiet simulator of `seed` (pools of its
    own: the database may outlive the rig)."""
    simulator = Simulator(msgspec.structs.replace(QUIET, seed=seed))
    clients = in_process_clients(simulator)
    store = PostgresEventStore(pool)
    runners = (
        SubscriptionRunner(database_url, store, LaunchedPoolsProjection(), poll_interval_s=0.01),
        SubscriptionRunner(database_url, store, SniperMatcher(store), poll_interval_s=0.01),
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(runner.run_until_stopped(stop)) for runner in runners]
    for runner in runners:
        await asyncio.wait_for(runner.active.wait(), 10)
    buyer = SniperBuyer(pool, store, clients.quotes, clients.launches, interval_s=0.01)
    ctx = StepContext(store, clients.rpc, clients.quotes, clients.wallet, ExecutionPolicy())
    try:
        watcher = PoolWatcher(pool, store, clients.launches)
        yield Rig(simulator, store, watcher, buyer, runners, ctx, pool, clients.launches)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
