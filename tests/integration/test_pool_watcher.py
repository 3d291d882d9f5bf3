"""The pool watcher over real PostgreSQL and an in-process simulator: it finds each
launch through the JSON-RPC within one slot of its creation and records it once,
whatever crashes, restarts or second watchers come between."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.ports import EventStore
from db.event_store import PostgresEventStore
from db.launched_pools import all_launches
from db.subscription import SubscriptionRunner
from domain.launches import PoolLaunched, decode_launch, pool_stream
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.hostile import HostileConfig
from simulator.launches import LaunchSpec
from simulator.service import RunningService
from simulator.universe import SOL
from tests.support.crashing_store import Crash, CrashingStore
from tests.support.in_process_chain import InProcessTransport, in_process_clients
from workers.process_manager.launched_pools_projection import LaunchedPoolsProjection
from workers.process_manager.pool_watcher import PoolWatcher
from workers.solana.launch_feed import LaunchFeedClient

QUIET = SimulatorConfig(seed=7, skip_rate=0.0, market_activity=False)


def spec(**changes: object) -> LaunchSpec:
    fields: dict[str, object] = {
        "quote_mint": SOL.mint,
        "quote_reserve": 80 * 10**9,
        "base_reserve": 800_000_000 * 10**6,
    }
    return LaunchSpec(**(fields | changes))  # type: ignore[arg-type]


@dataclass
class Rig:
    simulator: Simulator
    transport: InProcessTransport
    store: PostgresEventStore
    pool: AsyncConnectionPool[AsyncConnection]
    runner: SubscriptionRunner

    def watcher(self, store: EventStore | None = None) -> PoolWatcher:
        feed = LaunchFeedClient(self.transport)
        return PoolWatcher(self.pool, store or self.store, feed, interval_s=0.01)

    async def caught_up(self) -> None:
        head = await self.store.read_all(self.runner.position, 1)
        while head:
            await asyncio.sleep(0.02)
            head = await self.store.read_all(self.runner.position, 1)

    async def recorded(self, pool: str) -> list[PoolLaunched]:
        return [decode_launch(e.data) for e in await self.store.read_stream(pool_stream(pool))]

    async def table(self) -> list[PoolLaunched]:
        async with self.pool.connection() as conn:
            return await all_launches(conn)


@pytest.fixture
async def rig(own_database: str) -> AsyncIterator[Rig]:
    simulator = Simulator(QUIET)
    clients = in_process_clients(simulator)
    assert isinstance(clients.launches._http, InProcessTransport)
    async with AsyncConnectionPool(own_database, min_size=1, max_size=4, open=False) as pool:
        store = PostgresEventStore(pool)
        runner = SubscriptionRunner(
            own_database, store, LaunchedPoolsProjection(), poll_interval_s=0.01
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run_until_stopped(stop))
        await asyncio.wait_for(runner.active.wait(), 10)
        try:
            yield Rig(simulator, clients.launches._http, store, pool, runner)
        finally:
            stop.set()
            await task


async def test_a_launch_is_recorded_within_one_slot_with_its_properties(rig: Rig) -> None:
    launch = rig.simulator.launch_pool(
        spec(freezable=True, mint_renounced=False, lp_burned_pct=30, top_holder_pct=41)
    )
    watcher = rig.watcher()
    assert await watcher.look() == 0  # not confirmed in its own slot
    rig.simulator.advance_slots(1)
    assert await watcher.look() == 1
    (recorded,) = await rig.recorded(launch.pool)
    assert recorded.seen_slot - recorded.slot <= 1
    assert (recorded.slot, recorded.signature, recorded.open_time) == (
        launch.slot,
        launch.signature,
        launch.open_time,
    )
    assert (recorded.base_mint, recorded.quote_mint, recorded.creator) == (
        launch.base_mint,
        SOL.mint,
        launch.creator,
    )
    assert recorded.mint_authority == recorded.freeze_authority == launch.creator
    assert (recorded.lp_burned_pct, recorded.top_holder_pct) == (30, 41)
    assert (recorded.quote_reserve, recorded.base_reserve) == (80 * 10**9, 800_000_000 * 10**6)
    await rig.caught_up()
    assert await rig.table() == [recorded]
    assert await watcher.look() == 0  # nothing new: nothing asked of getTransaction


async def test_a_crash_between_appends_records_every_pool_once(rig: Rig) -> None:
    launches = [rig.simulator.launch_pool(spec()) for _ in range(5)]
    rig.simulator.advance_slots(1)
    with pytest.raises(Crash):
        await rig.watcher(CrashingStore.after(rig.store, 2)).look()
    await rig.caught_up()
    # A fresh process: its checkpoint is the newest creation in the table.
    assert await rig.watcher().look() == 3
    # A crash after every append and before the look ended: the next one repeats them.
    with pytest.raises(Crash):
        await rig.watcher(CrashingStore.after(rig.store, 0)).look()
    more = [rig.simulator.launch_pool(spec()) for _ in range(2)]
    rig.simulator.advance_slots(1)
    restarted = rig.watcher()
    assert await restarted.look() == 2
    for launch in [*launches, *more]:
        assert len(await rig.recorded(launch.pool)) == 1
    await rig.caught_up()
    assert [t.pool for t in await rig.table()] == [x.pool for x in [*launches, *more]]


async def test_two_watchers_at_once_record_each_pool_once(rig: Rig) -> None:
    launches = [rig.simulator.launch_pool(spec()) for _ in range(6)]
    rig.simulator.advance_slots(1)
    first, second = rig.watcher(), rig.watcher()
    counts = await asyncio.gather(first.look(), second.look(), first.look(), second.look())
    assert sum(counts) == len(launches)
    for launch in launches:
        assert len(await rig.recorded(launch.pool)) == 1


async def test_a_creation_the_node_cannot_show_yet_is_waited_for_not_skipped(rig: Rig) -> None:
    hostile = rig.transport.answers.rpc.hostile
    early = rig.simulator.launch_pool(spec())
    rig.simulator.advance_slots(3)
    hostile.configure(HostileConfig.parse("lag:4"))  # getTransaction null for 4 slots
    late = rig.simulator.launch_pool(spec())
    rig.simulator.advance_slots(1)
    watcher = rig.watcher()
    assert await watcher.look() == 1  # the early one; the late one is not readable yet
    assert await rig.recorded(late.pool) == []
    rig.simulator.advance_slots(4)
    assert await watcher.look() == 1
    assert [len(await rig.recorded(x.pool)) for x in (early, late)] == [1, 1]


async def test_the_watcher_runs_only_while_its_projection_leads(rig: Rig) -> None:
    launch = rig.simulator.launch_pool(spec())
    rig.simulator.advance_slots(1)
    watcher = rig.watcher()
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop, rig.runner.active))
    try:
        for _ in range(1_000):  # up to 10 s
            if await rig.recorded(launch.pool):
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await task
    assert len(await rig.recorded(launch.pool)) == 1
    assert watcher.recorded == 1


class RefusingNode:
    """A node behind a rate limiter and a picky proxy: while `refusing`, HTTP 429 and
    400 in turn (the engine's clients raise `VenueUnavailable`, then `VenueRejected`)."""

    def __init__(self, transport: InProcessTransport) -> None:
        self._transport = transport
        self.refusing = True
        self.refused = 0

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.refusing:
            self.refused += 1
            return (429, b"Too Many Requests") if self.refused % 2 else (400, b"Bad Request")
        return await self._transport.request(method, path, body)

    async def close(self) -> None:
        return None


async def test_a_node_refusing_its_reads_delays_the_watcher_and_loses_nothing(rig: Rig) -> None:
    node = RefusingNode(rig.transport)
    launch = rig.simulator.launch_pool(spec())
    rig.simulator.advance_slots(1)
    watcher = PoolWatcher(rig.pool, rig.store, LaunchFeedClient(node), interval_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop, rig.runner.active))
    try:
        for _ in range(1_000):  # up to 10 s
            if node.refused >= 3:  # it failed both ways, backed off and tried again
                break
            await asyncio.sleep(0.01)
        assert watcher.outage.ongoing
        assert await rig.recorded(launch.pool) == []
        node.refusing = False
        for _ in range(3_000):  # up to 30 s: the back-off
            if await rig.recorded(launch.pool):
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await task
    assert len(await rig.recorded(launch.pool)) == 1


class CountingNode:
    """The in-process node, counting the looks (`getSignaturesForAddress` requests)."""

    def __init__(self, transport: InProcessTransport) -> None:
        self._transport = transport
        self.looks = 0

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if body is not None and b"getSignaturesForAddress" in body:
            self.looks += 1
        return await self._transport.request(method, path, body)

    async def close(self) -> None:
        return None


@pytest.fixture
async def pubsub(rig: Rig) -> AsyncIterator[str]:
    """The rig's chain served over sockets too: its WebSocket's address."""
    running = await RunningService(rig.simulator, 0.0).start("127.0.0.1", 0)
    async with running:
        yield f"ws://127.0.0.1:{running.port}/"


async def _watching(watcher: PoolWatcher, rig: Rig) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop, rig.runner.active))
    feed = watcher._feed.announcements
    assert feed is not None
    for _ in range(500):  # up to 5 s
        if feed.live:
            break
        await asyncio.sleep(0.01)
    assert feed.live
    return stop, task


async def test_with_a_live_subscription_an_idle_watcher_looks_once_a_second(
    rig: Rig, pubsub: str
) -> None:
    # Polling every 10 ms it looked ~300 times in 3 s; subscribed, it waits for the bell.
    node = CountingNode(rig.transport)
    feed = LaunchFeedClient(node, pubsub)
    watcher = PoolWatcher(rig.pool, rig.store, feed, interval_s=0.01, idle_s=1.0)
    stop, task = await _watching(watcher, rig)
    looks = node.looks
    await asyncio.sleep(3)
    stop.set()
    await task
    assert node.looks - looks <= 5


async def test_a_confirmed_creation_rings_the_watcher_at_once(rig: Rig, pubsub: str) -> None:
    feed = LaunchFeedClient(rig.transport, pubsub)
    # A safety poll far away: only the bell can bring the look in time.
    watcher = PoolWatcher(rig.pool, rig.store, feed, interval_s=0.01, idle_s=30.0)
    stop, task = await _watching(watcher, rig)
    try:
        await asyncio.sleep(0.3)  # the ring of the subscription itself is spent
        launch = rig.simulator.launch_pool(spec())
        rig.simulator.advance_slots(1)
        rang = time.monotonic()
        for _ in range(2_000):  # up to 10 s
            if await rig.recorded(launch.pool):
                break
            await asyncio.sleep(0.005)
        heard_s = time.monotonic() - rang
    finally:
        stop.set()
        await task
    assert len(await rig.recorded(launch.pool)) == 1
    # Not a latency figure (bench.sniper has that): only the bell can beat the 30 s poll.
    assert heard_s < 10
    assert feed.announcements is not None
    assert feed.announcements.notifications == 1
