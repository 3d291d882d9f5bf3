"""The projector's snapshots equal the domain's fold of the events, and equal what
a full replay (the rebuild's in-memory fold and bulk copy) builds."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import AsyncConnection

from db.event_store import PostgresEventStore
from db.log_head import settled_head
from db.pool import create_pool
from domain.events import OrderEvent, OrderSubmitted
from domain.order_state import fold
from domain.records import GlobalPosition
from domain.streams import order_stream
from projections.fold import SnapshotFold
from projections.order_projector import OrderSnapshotProjection
from projections.rebuild import fold_log
from projections.snapshot import fold_snapshot
from projections.snapshot_store import copy_snapshots, load_snapshots
from projections.tables import ReadModelTables
from tests.support.order_histories import as_new_events, order_histories


class Harness:
    """A private loop and pool: hypothesis drives a plain function, example by example."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.loop = asyncio.new_event_loop()
        self.pool = create_pool(database_url, min_size=1, max_size=4, acquire_timeout_s=5)
        self.loop.run_until_complete(self.pool.open(wait=True))
        self.store = PostgresEventStore(self.pool)
        suffix = uuid.uuid4().hex[:8]
        self.projected = ReadModelTables(f"p_snapshots_{suffix}", f"p_latency_{suffix}")
        self.copied = ReadModelTables(f"c_snapshots_{suffix}", f"c_latency_{suffix}")
        self.loop.run_until_complete(self._create_tables())

    async def _create_tables(self) -> None:
        async with self.pool.connection() as conn:
            for tables in (self.projected, self.copied):
                await conn.execute(
                    f"CREATE TABLE {tables.snapshots} (LIKE order_snapshots INCLUDING ALL)"
                )
                await conn.execute(
                    f"CREATE TABLE {tables.stage_latency} (LIKE order_stage_latency INCLUDING ALL)"
                )

    def close(self) -> None:
        self.loop.run_until_complete(self.pool.close())
        self.loop.close()


@pytest.fixture(scope="module")
def harness(database_url: str) -> Iterator[Harness]:
    harness = Harness(database_url)
    yield harness
    harness.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    histories=st.lists(order_histories(), min_size=1, max_size=4),
    batch_size=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_projection_equals_fold_and_full_replay(
    harness: Harness, histories: list[list[OrderEvent]], batch_size: int, seed: int
) -> None:
    harness.loop.run_until_complete(_check(harness, histories, batch_size, seed))


async def _check(
    harness: Harness, histories: list[list[OrderEvent]], batch_size: int, seed: int
) -> None:
    store, start = harness.store, await settled_head(harness.pool)
    await _append_interleaved(store, histories, random.Random(seed))
    projection = OrderSnapshotProjection(store, harness.projected)
    expected = sum(len(history) for history in histories)
    async with await AsyncConnection.connect(harness.database_url, autocommit=True) as conn:
        position, applied = start, 0
        deadline = time.monotonic() + 10
        # The settled horizon is cluster-wide: wait for it to pass our appends.
        while applied < expected:
            assert time.monotonic() < deadline, "appended events never settled"
            events = await store.read_all(position, batch_size)
            if not events:
                await asyncio.sleep(0.01)
                continue
            async with conn.transaction():
                await projection.apply(conn, events)
            position = GlobalPosition(events[-1].tx_id, events[-1].global_position)
            applied += len(events)
        # Applying it all again changes nothing: a projector that resumes behind a
        # replay's swapped-in tables skips what they already hold.
        settled = await store.read_all(start, expected)
        again = [e for e in settled if GlobalPosition(e.tx_id, e.global_position) <= position]
        async with conn.transaction():
            await projection.apply(conn, again)
        replay = SnapshotFold()
        await fold_log(store, replay, start, batch_size=batch_size * 3, until=position)
        ids = [_order_id(history) for history in histories]
        await copy_snapshots(conn, harness.copied.snapshots, [replay.snapshots[i] for i in ids])
        projected = await load_snapshots(conn, harness.projected.snapshots, ids)
        copied = await load_snapshots(conn, harness.copied.snapshots, ids)
    for history, order_id in zip(histories, ids, strict=True):
        folded = fold_snapshot(await store.read_stream(order_stream(order_id)))
        assert folded is not None
        assert folded.state == fold(history)
        assert projected[order_id] == folded
        assert replay.snapshots[order_id] == folded
        assert copied[order_id] == folded


async def _append_interleaved(
    store: PostgresEventStore, histories: list[list[OrderEvent]], rng: random.Random
) -> None:
    """Every order's events in order, the orders interleaved, in appends of 1-3 events."""
    cursors = [0] * len(histories)
    while live := [i for i, h in enumerate(histories) if cursors[i] < len(h)]:
        i = rng.choice(live)
        take = rng.randint(1, 3)
        chunk = histories[i][cursors[i] : cursors[i] + take]
        stream_id = order_stream(_order_id(histories[i]))
        await store.append(stream_id, cursors[i], as_new_events(chunk))
        cursors[i] += len(chunk)


def _order_id(history: list[OrderEvent]) -> str:
    submitted = history[0]
    assert isinstance(submitted, OrderSubmitted)
    return submitted.order_id
