"""A checkpointed runner outlives PostgreSQL outages in its own process (issue 9, window 4).

Each test here has a database of its own, because the outage it makes (every backend
terminated, new connections refused) would break every other test's connections.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from db.event_store import PostgresEventStore
from db.pool import create_pool
from db.subscription import SubscriptionRunner
from domain.records import StoreUnavailable
from tests.support.consumers import Recorder, effects_of
from tests.support.events import new_event, stream
from tests.support.read_side_api import wait_until


@pytest.fixture
async def own_pool(own_database: str) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    pool = create_pool(own_database, min_size=1, max_size=4, acquire_timeout_s=1)
    await pool.open(wait=True)
    yield pool
    await pool.close()


def cut_database(admin_url: str, database_url: str, *, refuse: bool) -> int:
    """Terminate every session of the database (`refuse`: and refuse new ones, else
    accept them again); how many sessions were cut."""
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(str(name)), sql.Literal(not refuse)
            )
        )
        cursor = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


async def test_a_runner_keeps_going_through_a_database_outage(
    postgres_admin: str,
    own_database: str,
    own_pool: AsyncConnectionPool[AsyncConnection],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = PostgresEventStore(own_pool)
    name = f"outage-{stream()}"
    runner = SubscriptionRunner(own_database, store, Recorder(name), poll_interval_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_until_stopped(stop))
    await store.append(stream(), 0, [new_event("Counted")])

    async def applied(count: int) -> bool:
        return await effects_of(own_pool, name) >= count

    await wait_until(lambda: applied(1), what="the first event applied")
    caplog.set_level(logging.INFO)
    assert cut_database(postgres_admin, own_database, refuse=True) >= 2, "runner and pool"
    await asyncio.sleep(1.0)  # the runner's reads and reconnects fail meanwhile
    for _ in range(3):  # repeated cuts within the one outage
        cut_database(postgres_admin, own_database, refuse=True)
        await asyncio.sleep(0.2)
    cut_database(postgres_admin, own_database, refuse=False)

    assert not task.done(), f"the runner exited: {task.exception() if task.done() else ''}"
    await _append_when_back(store)
    await wait_until(lambda: applied(2), what="an event after the outage", seconds=15)
    assert not task.done()
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and name in r.getMessage()
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    stop.set()
    await task


async def _append_when_back(store: PostgresEventStore) -> None:
    # The test's own pool lost its connections too; the first tries may fail.
    for _ in range(50):
        try:
            await store.append(stream(), 0, [new_event("Counted")])
        except StoreUnavailable:
            await asyncio.sleep(0.1)
        else:
            return
    raise AssertionError("the database never came back")


async def test_a_leader_whose_batch_fails_keeps_its_lock_and_goes_on(
    own_database: str, own_pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    store = PostgresEventStore(own_pool)
    name = f"batch-fails-{stream()}"
    runner = SubscriptionRunner(
        own_database, store, Recorder(name, outages=3), poll_interval_s=0.05
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_until_stopped(stop))
    try:
        await wait_until(runner.active.is_set, what="the runner active")
        await store.append(stream(), 0, [new_event("Counted")])
        await wait_until(lambda: _applied(own_pool, name, 1), what="the event applied")
        assert runner.outage.outages == 1, "three failed batches, one outage"
        assert runner.terms == 1, "the lock was kept: no hand-over, no new term"
    finally:
        stop.set()
        await task


async def _applied(pool: AsyncConnectionPool[AsyncConnection], name: str, count: int) -> bool:
    return await effects_of(pool, name) >= count
