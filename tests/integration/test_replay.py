"""Post-mortem replay: rebuild into fresh tables, swap in, `--verify`; and a projector
killed mid-batch ends up equal to a full replay after its restart."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.event_store import PostgresEventStore
from db.log_head import settled_head
from db.migrate import migrate
from db.pool import create_pool
from db.subscription import load_checkpoint
from domain.events import OrderSubmitted
from domain.records import START
from domain.streams import order_stream
from projections.fold import SnapshotFold
from projections.order_projector import PROJECTION_NAME
from projections.rebuild import fold_log, rebuild
from projections.snapshot_queries import SnapshotReader
from projections.snapshot_store import load_snapshots
from projections.tables import LIVE
from projections.timeline import timeline
from tests.support.events import new_event, stream
from tests.support.order_histories import as_new_events, confirmed_history
from tests.support.read_side_api import projecting, wait_until
from tests.support.servers import PROJECT_ROOT, fresh_database


@pytest.fixture(scope="module")
def own_database(postgres_admin: str) -> Iterator[str]:
    """A database of this module only: its projector must not meet the others'."""
    with fresh_database(postgres_admin, prefix="oe_replay") as url:
        migrate(url)
        yield url


@pytest.fixture(scope="module")
async def own_pool(own_database: str) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    pool = create_pool(own_database, min_size=1, max_size=8, acquire_timeout_s=5)
    await pool.open(wait=True)
    yield pool
    await pool.close()


async def _add_orders(store: PostgresEventStore, count: int) -> list[str]:
    ids = []
    for n in range(count):
        history = confirmed_history(attempts=1 + n % 3)
        submitted = history[0]
        assert isinstance(submitted, OrderSubmitted)
        await store.append(order_stream(submitted.order_id), 0, as_new_events(history))
        ids.append(submitted.order_id)
    return ids


async def _checkpoint(pool: AsyncConnectionPool[AsyncConnection]) -> int:
    async with pool.connection() as conn:
        return (await load_checkpoint(conn, PROJECTION_NAME)).global_position


async def _head(pool: AsyncConnectionPool[AsyncConnection]) -> int:
    async with pool.connection() as conn:
        row = await (
            await conn.execute("SELECT coalesce(max(global_position), 0) FROM events")
        ).fetchone()
    assert row is not None
    return int(row[0])


async def _live_equals_full_replay(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    replay = SnapshotFold()
    await fold_log(PostgresEventStore(pool), replay, START, 1_000)
    async with pool.connection() as conn:
        live = await load_snapshots(conn, LIVE.snapshots, list(replay.snapshots))
        row = await (await conn.execute("SELECT count(*) FROM order_snapshots")).fetchone()
    assert row is not None
    assert row[0] == len(replay.snapshots)
    assert live == replay.snapshots


async def test_replay_swaps_in_the_rebuild_and_verify_reports_differences(
    own_pool: AsyncConnectionPool[AsyncConnection], own_database: str
) -> None:
    store = PostgresEventStore(own_pool)
    ids = await _add_orders(store, 20)
    async with projecting(own_database, store):
        head = await _head(own_pool)
        await wait_until(lambda: _at(own_pool, head), what="projector caught up")
        async with await AsyncConnection.connect(own_database, autocommit=True) as conn:
            clean = await rebuild(conn, store, verify=True, batch_size=7)
            assert clean.differences == []
            assert clean.orders >= 20
            # Damage the live model; the next verify names it, and the swap repairs it.
            await conn.execute(
                "UPDATE order_snapshots SET status = 'failed' WHERE order_id = %s", (ids[3],)
            )
            # A row at another version than its rebuild is compared under the swap's lock.
            await conn.execute(
                "UPDATE order_snapshots SET version = version - 1 WHERE order_id = %s", (ids[5],)
            )
            # Writers keep appending while the replay runs and swaps.
            writing = asyncio.create_task(_add_orders(store, 30))
            damaged = await rebuild(conn, store, verify=True, batch_size=7)
            await writing
        assert len(damaged.differences) == 2, damaged.differences
        status, version = sorted(damaged.differences, key=lambda line: ids[3] not in line)
        assert ids[3] in status
        assert "status: live='failed' rebuilt='confirmed'" in status
        assert ids[5] in version
        assert "version: live=" in version
        head = await _head(own_pool)
        await wait_until(lambda: _at(own_pool, head), what="projector caught up after swap")
    await _live_equals_full_replay(own_pool)


async def test_while_verify_compares_reads_and_appends_go_on(
    own_pool: AsyncConnectionPool[AsyncConnection], own_database: str
) -> None:
    """In the middle of the comparison (the replay paused there), the API's order read
    answers and an append is settled in the global log (nothing holds the horizon)
    within two seconds, on a session that gives up after two seconds."""
    store = PostgresEventStore(own_pool)
    ids = await _add_orders(store, 10)
    seen: list[tuple[bool, bool]] = []

    def meanwhile(done: int, total: int) -> None:
        if not seen:  # once, from another thread: this loop (and the replay) waits
            with ThreadPoolExecutor(1) as thread:
                seen.append(
                    thread.submit(asyncio.run, _read_and_append(own_database, ids[0])).result()
                )

    async with projecting(own_database, store):
        head = await _head(own_pool)
        await wait_until(lambda: _at(own_pool, head), what="projector caught up")
        async with await AsyncConnection.connect(own_database, autocommit=True) as conn:
            outcome = await rebuild(conn, store, verify=True, batch_size=7, compared=meanwhile)
    assert seen == [(True, True)]
    assert outcome.differences == []


async def _read_and_append(database_url: str, order_id: str) -> tuple[bool, bool]:
    """(the order read found the order, the append was settled), each within 2 s."""
    pool = create_pool(
        database_url, min_size=1, max_size=2, acquire_timeout_s=2, statement_timeout_ms=2_000
    )
    await pool.open(wait=True)
    try:
        found = await SnapshotReader(pool).order(order_id) is not None
        store = PostgresEventStore(pool)
        before = await settled_head(pool)
        appended = await store.append(stream(), 0, [new_event()])
        deadline = time.monotonic() + 2
        settled = False
        while not settled and time.monotonic() < deadline:
            events = await store.read_all(before, 1_000)
            settled = any(event.stream_id == appended.stream_id for event in events)
            await asyncio.sleep(0.01)
        return found, settled
    finally:
        await pool.close()


async def _at(pool: AsyncConnectionPool[AsyncConnection], position: int) -> bool:
    return await _checkpoint(pool) >= position


def _projector(database_url: str, redis_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PROJECTOR_POLL_MS": "10",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "orderengine", "projector"], env=env, cwd=PROJECT_ROOT
    )


@pytest.mark.slow
async def test_a_projector_killed_mid_batch_restarts_to_a_full_replay(
    own_pool: AsyncConnectionPool[AsyncConnection], own_database: str, redis_server: str
) -> None:
    store = PostgresEventStore(own_pool)
    await _add_orders(store, 1_500)  # ~ 10,000 events: many batches of 500
    head = await _head(own_pool)
    start = await _checkpoint(own_pool)
    projector = _projector(own_database, redis_server)
    try:
        await wait_until(lambda: _past(own_pool, start), what="a first batch", seconds=30)
        projector.send_signal(signal.SIGKILL)
        projector.wait(10)
        assert await _checkpoint(own_pool) < head, "killed before it caught up"
    finally:
        projector.kill()
    restarted = _projector(own_database, redis_server)
    try:
        await wait_until(lambda: _at(own_pool, head), what="restart caught up", seconds=60)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(10)
    await _live_equals_full_replay(own_pool)


async def _past(pool: AsyncConnectionPool[AsyncConnection], position: int) -> bool:
    return await _checkpoint(pool) > position


@pytest.mark.slow
def test_the_replay_and_history_commands(own_database: str, redis_server: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": own_database,
        "REDIS_URL": redis_server,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "orderengine"]
    replay = subprocess.run(
        [*command, "replay", "--verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PROJECT_ROOT,
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "verify: no difference" in replay.stdout
    assert "events/s" in replay.stdout
    assert re.search(r"replay .* (\d+)/\1 events 100%", replay.stderr), replay.stderr
    order_id = asyncio.run(_any_order(own_database))
    history = subprocess.run(
        [*command, "history", order_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=PROJECT_ROOT,
    )
    assert history.returncode == 0, history.stderr
    assert "quotes seen" in history.stdout
    assert "why:" in history.stdout
    past_the_end = subprocess.run(
        [*command, "history", order_id, "--at", "999"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=PROJECT_ROOT,
    )
    assert past_the_end.returncode == 2, past_the_end.stdout
    assert re.search(r"--at 999: order .* has versions 1\.\.\d+", past_the_end.stderr)
    assert not past_the_end.stdout


async def _any_order(database_url: str) -> str:
    async with await AsyncConnection.connect(database_url) as conn:
        row = await (
            await conn.execute("SELECT order_id::text FROM order_snapshots LIMIT 1")
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_the_timeline_explains_route_and_attempts() -> None:
    from datetime import UTC, datetime

    from domain.events import encode_event_data, event_type
    from domain.records import RecordedEvent

    history = confirmed_history(attempts=2)
    recorded = [
        RecordedEvent(
            global_position=n,
            tx_id=n,
            stream_id="order-x",
            stream_version=n,
            event_id=str(n),
            event_type=event_type(e),
            schema_version=1,
            data=encode_event_data(e),
            metadata=b"{}",
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for n, e in enumerate(history, start=1)
    ]
    lines = "\n".join(timeline(recorded))
    assert "quotes seen" in lines
    assert "route chosen" in lines
    assert "splitting beats the best single venue" in lines
    assert "attempt 1 failed: BLOCKHASH_EXPIRED" in lines
    assert "confirmed in slot" in lines
    assert "OrderConfirmed" not in "\n".join(timeline(recorded, at_version=5))
