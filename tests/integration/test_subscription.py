"""The checkpointed consumer runner: one active runner, checkpoint with the effect."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.event_store import PostgresEventStore
from db.subscription import SubscriptionRunner, load_checkpoint
from domain.records import RecordedEvent
from tests.support.events import new_event, stream


class Recorder:
    """Counts what it applies, in a table written in the checkpoint's transaction."""

    def __init__(self, name: str, fail_on: str | None = None) -> None:
        self.name = name
        self.event_types: Sequence[str] | None = ["Counted"]
        self.fail_on = fail_on

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        for event in events:
            await conn.execute(
                "INSERT INTO consumer_effects (consumer, event_id) VALUES (%s, %s)",
                (self.name, event.event_id),
            )
            if event.event_id == self.fail_on:
                raise RuntimeError("crash mid-batch")


@pytest.fixture
async def effects(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS consumer_effects (consumer text, event_id text,"
            " UNIQUE (consumer, event_id))"
        )


async def _effects(pool: AsyncConnectionPool[AsyncConnection], name: str) -> int:
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM consumer_effects WHERE consumer = %s", (name,)
        )
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


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
    standby = SubscriptionRunner(database_url, store, Recorder(name), batch_size=2)
    tasks = [asyncio.create_task(first.run(stop))]
    await _wait_for(first.caught_up)
    tasks.append(asyncio.create_task(standby.run(stop)))
    await asyncio.sleep(0.5)  # long enough for the standby's first lock attempt
    assert not standby.active.is_set(), "the standby must wait on the lock"
    assert await _effects(pool, name) == 5
    stop.set()
    await asyncio.gather(*tasks)

    await store.append(stream(), 0, [new_event("Counted")])
    again = SubscriptionRunner(database_url, store, Recorder(name))
    stop = asyncio.Event()
    task = asyncio.create_task(again.run(stop))
    await _wait_for(again.caught_up)
    stop.set()
    await task
    assert await _effects(pool, name) == 6, "a restart resumes after the checkpoint"


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
    assert await _effects(pool, name) == 0
    async with pool.connection() as conn:
        assert (await load_checkpoint(conn, name)).global_position == 0
