"""`orderengine replay`: rebuild the read model from the log and swap it in.

1. Fold the whole log in memory (reads prefetched while folding) and bulk-copy the
   result into fresh `*_rebuild` tables; then catch up batch by batch.
2. In one short transaction holding ACCESS EXCLUSIVE on the live tables (the live
   projector's next batch waits): bring the live model and the rebuild to the same
   position, compare them if asked, catch the rebuild up to the horizon, write the
   projection's checkpoint, drop the live tables and rename the rebuild into place.

A projector blocked behind the swap resumes on the new tables from its own older
position; the snapshots' versions make it skip what they already hold.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import msgspec
from psycopg import AsyncConnection, sql

from db.event_store import PostgresEventStore
from db.subscription import load_checkpoint, save_checkpoint
from domain.records import START, GlobalPosition, RecordedEvent
from projections.fold import SnapshotFold
from projections.order_projector import PROJECTION_NAME, OrderSnapshotProjection, refold_gaps
from projections.snapshot_store import copy_snapshots
from projections.stage_latency import add_tally
from projections.tables import LIVE, REBUILD, ReadModelTables
from projections.verify import compare_read_models

# Loop turns a read needs to take a pooled connection and send its query.
_STEPS_TO_SEND_A_QUERY = 4
# Called with (events folded so far, events in the log when the replay started).
Progress = Callable[[int, int], None]


class RebuildOutcome(msgspec.Struct):
    events: int
    orders: int
    seconds: float
    position: GlobalPosition
    differences: list[str]


async def rebuild(
    conn: AsyncConnection,
    store: PostgresEventStore,
    *,
    verify: bool = False,
    batch_size: int = 5_000,
    progress: Progress | None = None,
) -> RebuildOutcome:
    """Rebuild every projection into fresh tables and swap them in; `conn` is an
    autocommit connection of its own."""
    started = time.perf_counter()
    await _create_fresh_tables(conn)
    total = await _count_events(conn)
    fold = SnapshotFold()
    position, events = await fold_log(store, fold, START, batch_size, progress, total)
    await refold_gaps(store, fold)
    async with conn.transaction():
        await copy_snapshots(conn, REBUILD.snapshots, list(fold.snapshots.values()))
        await add_tally(conn, REBUILD.stage_latency, fold.stage_times)
    orders = len(fold.snapshots)
    del fold
    rebuilt = OrderSnapshotProjection(store, REBUILD)
    position = await catch_up(conn, store, rebuilt, position, None, batch_size)
    async with conn.transaction():
        differences, position = await _swap(conn, store, position, verify, batch_size)
    return RebuildOutcome(events, orders, time.perf_counter() - started, position, differences)


async def fold_log(
    store: PostgresEventStore,
    fold: SnapshotFold,
    position: GlobalPosition,
    batch_size: int,
    progress: Progress | None = None,
    total: int = 0,
    until: GlobalPosition | None = None,
) -> tuple[GlobalPosition, int]:
    """Fold every settled event after `position` (through `until`, when given); the
    next batch is read while this one folds, so PostgreSQL and Python work at once."""
    folded = 0
    pending = asyncio.ensure_future(store.read_all(position, batch_size))
    while events := await pending:
        if until is not None:
            events = [event for event in events if _position(event) <= until]
            if not events:
                break
        position = _last(events)
        pending = asyncio.ensure_future(store.read_all(position, batch_size))
        for _ in range(_STEPS_TO_SEND_A_QUERY):
            await asyncio.sleep(0)  # let the read reach the server before folding
        fold.apply(events)
        folded += len(events)
        if progress:
            progress(folded, total)
    pending.cancel()
    return position, folded


async def catch_up(
    conn: AsyncConnection,
    store: PostgresEventStore,
    projection: OrderSnapshotProjection,
    position: GlobalPosition,
    until: GlobalPosition | None,
    batch_size: int,
) -> GlobalPosition:
    """Apply events after `position` through `until` (None: up to the horizon)."""
    while until is None or position < until:
        events = await store.read_all(position, batch_size)
        if until is not None:
            events = [e for e in events if _position(e) <= until]
        if not events:
            return position
        async with conn.transaction():
            await projection.apply(conn, events)
        position = _last(events)
    return position


async def _swap(
    conn: AsyncConnection,
    store: PostgresEventStore,
    position: GlobalPosition,
    verify: bool,
    batch_size: int,
) -> tuple[list[str], GlobalPosition]:
    tables = sql.SQL(", ").join(map(sql.Identifier, (LIVE.snapshots, LIVE.stage_latency)))
    await conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(tables))
    differences: list[str] = []
    if verify:
        live_position = await load_checkpoint(conn, PROJECTION_NAME)
        same = max(live_position, position)
        live = OrderSnapshotProjection(store, LIVE)
        await catch_up(conn, store, live, live_position, same, batch_size)
        rebuilt = OrderSnapshotProjection(store, REBUILD)
        position = await catch_up(conn, store, rebuilt, position, same, batch_size)
        differences = await compare_read_models(conn, LIVE, REBUILD)
    rebuilt = OrderSnapshotProjection(store, REBUILD)
    position = await catch_up(conn, store, rebuilt, position, None, batch_size)
    await save_checkpoint(conn, PROJECTION_NAME, position)
    for live_table, fresh in _pairs(LIVE, REBUILD):
        await conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(live_table)))
        await conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(fresh), sql.Identifier(live_table)
            )
        )
    return differences, position


async def _create_fresh_tables(conn: AsyncConnection) -> None:
    for live_table, fresh in _pairs(LIVE, REBUILD):
        await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(fresh)))
        await conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                sql.Identifier(fresh), sql.Identifier(live_table)
            )
        )


def _pairs(live: ReadModelTables, fresh: ReadModelTables) -> list[tuple[str, str]]:
    return [(live.snapshots, fresh.snapshots), (live.stage_latency, fresh.stage_latency)]


async def _count_events(conn: AsyncConnection) -> int:
    row = await (await conn.execute("SELECT count(*) FROM events")).fetchone()
    return int(row[0]) if row else 0


def _position(event: RecordedEvent) -> GlobalPosition:
    return GlobalPosition(event.tx_id, event.global_position)


def _last(events: list[RecordedEvent]) -> GlobalPosition:
    return _position(events[-1])
