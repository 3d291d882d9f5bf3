"""The checkpointed consumer runner: one active runner, checkpoint with the effect."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.consumer_lock import lock_key
from db.event_store import PostgresEventStore
from db.subscription import SubscriptionRunner, load_checkpoint
from tests.support.consumers import EFFECTS_TABLE, Recorder, effects_of
from tests.support.events import new_event, stream
from tests.support.read_side_api import wait_until


@pytest.fixture
async def effects(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    async with pool.connection() as conn:
        await conn.execute(EFFECTS_TABLE)


async def _wait_for(condition: asyncio.Event, seconds: float = 10) -> None:
    await asyncio.wait_for(condition.wait(), seconds)


async def test_one_runner_is_active_and_the_checkpoint_survives_restarts(
    pool: AsyncConnectionPool[AsyncConnection], database_url: str, effects: None
) -> None:
    store = PostgresEventStore(pool)
    name = f"recorder-{stream()}"
    for _ in range(5):
        await store.append(stream(), 0, [new_event("Counted"), new_event("Ignored")])
    stop = asyncio.Event()
    first = SubscriptionRunner(database_url, store, Recorder(name), batch_size=2)
    standby = SubscriptionRunner(
        database_url, store, Recorder(name), batch_size=2, lock_retry_s=0.05
    )
    tasks = [asyncio.create_task(first.run(stop))]
    await _wait_for(first.caught_up)
    tasks.append(asyncio.create_task(standby.run(stop)))
    await wait_until(lambda: standby.lock.refusals >= 3, what="three refused lock attempts")
    assert not standby.active.is_set(), "the standby must wait on the lock"
    assert await effects_of(pool, name) == 5
    stop.set()
    await asyncio.gather(*tasks)

    await store.append(stream(), 0, [new_event("Counted")])
    again = SubscriptionRunner(database_url, store, Recorder(name))
    stop = asyncio.Event()
    task = asyncio.create_task(again.run(stop))
    await _wait_for(again.caught_up)
    stop.set()
    await task
    assert await effects_of(pool, name) == 6, "a restart resumes after the checkpoint"


async def test_a_failed_batch_leaves_neither_effect_nor_checkpoint(
    pool: AsyncConnectionPool[AsyncConnection], database_url: str, effects: None
) -> None:
    store = PostgresEventStore(pool)
    name = f"crashing-{stream()}"
    bad = new_event("Counted")
    await store.append(stream(), 0, [new_event("Counted"), bad])
    runner = SubscriptionRunner(database_url, store, Recorder(name, fail_on=bad.event_id))
    with pytest.raises(RuntimeError):
        await runner.run(asyncio.Event())
    assert await effects_of(pool, name) == 0
    async with pool.connection() as conn:
        assert (await load_checkpoint(conn, name)).global_position == 0


async def lock_holder(pool: AsyncConnectionPool[AsyncConnection], consumer: str) -> int | None:
    """The backend holding the consumer's advisory lock (a bigint key shows in pg_locks
    as its high and low 32 bits)."""
    key = lock_key(consumer) & 0xFFFF_FFFF_FFFF_FFFF
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
            (key >> 32, key & 0xFFFF_FFFF),
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else None


async def test_a_leader_that_loses_its_lock_connection_stops_before_the_standby_starts(
    pool: AsyncConnectionPool[AsyncConnection], database_url: str, effects: None
) -> None:
    store = PostgresEventStore(pool)
    name = f"leader-{stream()}"
    poll_s = 0.1
    runners = [
        # Each tries the lock every 10 ms while standby: it takes over at once.
        SubscriptionRunner(
            database_url, store, Recorder(name), poll_interval_s=poll_s, lock_retry_s=0.01
        )
        for _ in range(2)
    ]
    stop = asyncio.Event()
    both_active = samples = 0

    async def watch() -> None:
        nonlocal both_active, samples
        while not stop.is_set():
            samples += 1
            both_active += all(runner.active.is_set() for runner in runners)
            await asyncio.sleep(0.001)

    tasks = [asyncio.create_task(r.run_until_stopped(stop)) for r in runners]
    tasks.append(asyncio.create_task(watch()))
    await wait_until(lambda: any(r.active.is_set() for r in runners), what="a leader", seconds=10)
    leader, standby = runners if runners[0].active.is_set() else runners[::-1]
    holder = await lock_holder(pool, name)
    assert holder is not None
    async with pool.connection() as conn:
        await conn.execute("SELECT pg_terminate_backend(%s)", (holder,))
    cut_at = time.monotonic()
    await wait_until(lambda: not leader.active.is_set(), what="the old leader to stop")
    stopped_after = time.monotonic() - cut_at
    await wait_until(standby.active.is_set, what="the standby to take over", seconds=10)
    await wait_until(standby.caught_up.is_set, what="the new leader to catch up")
    before = await effects_of(pool, name)
    await store.append(stream(), 0, [new_event("Counted")])
    await wait_until(lambda: _more(pool, name, before), what="the new leader to apply a new event")
    refused = leader.lock.refusals
    await wait_until(lambda: leader.lock.refusals > refused, what="the old leader to compete again")
    assert not leader.active.is_set()
    stop.set()
    await asyncio.gather(*tasks)
    assert stopped_after < 2 * poll_s, f"the old leader went on for {stopped_after:.3f} s"
    assert both_active == 0, f"both runners were active in {both_active} of {samples} samples"
    assert samples > 500, "the watch looked often enough to see an overlap"


async def _more(pool: AsyncConnectionPool[AsyncConnection], name: str, than: int) -> bool:
    return await effects_of(pool, name) > than


class _Bell:
    """A wake-up source as the runner sees one: `wait(timeout)` returns at a ring."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        self._rung.set()

    async def wait(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._rung.wait(), timeout_s)
        self._rung.clear()


async def test_an_idle_runner_with_wake_ups_looks_at_the_log_about_once_a_second(
    pool: AsyncConnectionPool[AsyncConnection], database_url: str, effects: None
) -> None:
    store = PostgresEventStore(pool)
    name = f"idle-{stream()}"
    bell = _Bell()
    runner = SubscriptionRunner(
        database_url,
        store,
        Recorder(name),
        poll_interval_s=0.02,
        idle_poll_s=1.0,
        waiter=bell.wait,
    )
    looks = 0
    read_all, check = store.read_all, runner.lock.check

    async def counted_read(*args: Any) -> Any:
        nonlocal looks
        looks += 1
        return await read_all(*args)

    async def counted_check(*args: Any) -> None:
        nonlocal looks
        looks += 1
        await check(*args)

    store.read_all = counted_read  # type: ignore[method-assign,assignment]
    runner.lock.check = counted_check  # type: ignore[method-assign,assignment]
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await _wait_for(runner.caught_up)
        await asyncio.sleep(1.5)  # quiet for longer than it lingers at the fast pace
        before = looks
        await asyncio.sleep(3)
        idle_looks = looks - before
        # Polling at 20 ms would be 150 looks; the lock is proven by them all the same.
        assert idle_looks <= 5, idle_looks

        # A wake-up still gets a new event applied at once ...
        await store.append(stream(), 0, [new_event("Counted")])
        rung_at = time.monotonic()
        bell.ring()
        await wait_until(lambda: _more(pool, name, 0), what="the woken runner to apply it")
        assert time.monotonic() - rung_at < 0.3
        # ... and a lost one costs at most the idle poll.
        await asyncio.sleep(1.5)
        await store.append(stream(), 0, [new_event("Counted")])
        await wait_until(lambda: _more(pool, name, 1), what="the idle poll to find it", seconds=3)
    finally:
        stop.set()
        await task
    assert runner.lock.handover_s >= 2 * 1.0, "a standby waits out the idle leader's checks"
