"""`orderengine replay`: rebuild the read model from the log and swap it in.

1. Fold the whole log in memory (reads prefetched while folding) and bulk-copy the
   result into fresh `*_rebuild` tables, a short transaction per chunk; then catch up
   batch by batch.
2. Bring the live model near the rebuild's position outside any lock (waiting for the
   live projector while it makes progress, or, with none running, catching the live
   model up as its runner would). With `verify`, compare the two outside any
   transaction, while reads, appends and the live projector go on
   (`projections/verify.py`).
3. In one short transaction holding ACCESS EXCLUSIVE on the live tables (the live
   projector's next batch and readers of the read model wait; the lock is given up
   and tried again if it is not granted within `SWAP_LOCK_TIMEOUT_MS`): bring the
   live model and the rebuild to the same position and compare what step 2 left
   unsettled, catch the rebuild up to the horizon, write the projection's checkpoint,
   drop the live tables and rename the rebuild into place.

`conn` carries the session timeouts (statement, lock, idle in transaction) of every
engine session: no step here can hold the global log's horizon for long. A projector
blocked behind the swap resumes on the new tables from its own older position; the
snapshots' versions make it skip what they already hold.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

import msgspec
from psycopg import AsyncConnection, errors, sql

from db.consumer_lock import lock_key
from db.event_store import PostgresEventStore
from db.subscription import load_checkpoint, save_checkpoint
from domain.records import START, GlobalPosition, RecordedEvent
from projections.fold import SnapshotFold
from projections.order_projector import PROJECTION_NAME, OrderSnapshotProjection, refold_gaps
from projections.snapshot_store import copy_snapshots
from projections.stage_latency import add_tally
from projections.tables import LIVE, REBUILD, ReadModelTables
from projections.verify import Compared, Comparison, compare_settled, compare_unsettled

# Loop turns a read needs to take a pooled connection and send its query.
_STEPS_TO_SEND_A_QUERY = 4
# Snapshots per COPY transaction: each holds its transaction id for milliseconds.
_COPY_ROWS = 2_000
# How long the swap waits for its lock before letting readers by and trying again.
SWAP_LOCK_TIMEOUT_MS = 500
_SWAP_ATTEMPTS = 20
# A live projector whose checkpoint has not moved for this long is not catching up.
_PROJECTOR_STALL_S = 5.0
# Called with (events folded so far, events in the log when the replay started).
Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)


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
    compared: Compared | None = None,
) -> RebuildOutcome:
    """Rebuild every projection into fresh tables and swap them in; `conn` is an
    autocommit connection of its own. `compared` follows the verify comparison."""
    started = time.perf_counter()
    await _create_fresh_tables(conn)
    total = await _count_events(conn)
    if progress:
        progress(0, total)
    fold = SnapshotFold()
    position, events = await fold_log(store, fold, START, batch_size, progress, total)
    await refold_gaps(store, fold)
    snapshots = list(fold.snapshots.values())
    for start in range(0, len(snapshots), _COPY_ROWS):
        async with conn.transaction():
            await copy_snapshots(conn, REBUILD.snapshots, snapshots[start : start + _COPY_ROWS])
    async with conn.transaction():
        await add_tally(conn, REBUILD.stage_latency, fold.stage_times)
    orders = len(fold.snapshots)
    del fold, snapshots
    rebuilt = OrderSnapshotProjection(store, REBUILD)
    position = await catch_up(conn, store, rebuilt, position, None, batch_size)
    # Whatever the live model still lacks is caught up under the swap's lock: first
    # bring it near the rebuild, outside any lock.
    await _live_near(conn, store, position, batch_size)
    comparison = await compare_settled(conn, LIVE, REBUILD, compared) if verify else None
    differences, position = await _swap_when_locked(conn, store, position, comparison, batch_size)
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
    position: GlobalPosition | None,
    until: GlobalPosition | None,
    batch_size: int,
) -> GlobalPosition:
    """Apply events after `position` through `until` (None: up to the horizon).
    `position` None: from the projection's checkpoint, written with every batch."""
    checkpointed = position is None
    if position is None:
        position = await load_checkpoint(conn, PROJECTION_NAME)
    while until is None or position < until:
        events = await store.read_all(position, batch_size)
        if until is not None:
            events = [e for e in events if _position(e) <= until]
        if not events:
            return position
        async with conn.transaction():
            await projection.apply(conn, events)
            if checkpointed:
                await save_checkpoint(conn, PROJECTION_NAME, _last(events))
        position = _last(events)
    return position


async def _live_near(
    conn: AsyncConnection, store: PostgresEventStore, position: GlobalPosition, batch_size: int
) -> None:
    """Bring the live model to `position`: with no live projector running, as its
    runner (its advisory lock held, each batch committed with the checkpoint); else
    by waiting while that projector gets there, as long as it makes progress."""
    key = lock_key(PROJECTION_NAME)
    row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))).fetchone()
    if row and row[0]:
        try:
            await catch_up(
                conn, store, OrderSnapshotProjection(store, LIVE), None, position, batch_size
            )
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        return
    live, stalled_since = await load_checkpoint(conn, PROJECTION_NAME), time.monotonic()
    while live < position and time.monotonic() - stalled_since < _PROJECTOR_STALL_S:
        await asyncio.sleep(0.05)
        now = await load_checkpoint(conn, PROJECTION_NAME)
        if now > live:
            live, stalled_since = now, time.monotonic()


async def _swap_when_locked(
    conn: AsyncConnection,
    store: PostgresEventStore,
    position: GlobalPosition,
    comparison: Comparison | None,
    batch_size: int,
) -> tuple[list[str], GlobalPosition]:
    """`_swap` in one transaction, its lock waited for at most SWAP_LOCK_TIMEOUT_MS at a
    time: a waiting ACCESS EXCLUSIVE request queues every reader behind it."""
    for attempt in range(1, _SWAP_ATTEMPTS + 1):
        try:
            async with conn.transaction():
                await conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(
                        sql.Literal(f"{SWAP_LOCK_TIMEOUT_MS}ms")
                    )
                )
                return await _swap(conn, store, position, comparison, batch_size)
        except errors.LockNotAvailable:
            if attempt == _SWAP_ATTEMPTS:
                raise
            log.warning("the read model is busy; trying the swap again", extra={"try": attempt})
            await asyncio.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


async def _swap(
    conn: AsyncConnection,
    store: PostgresEventStore,
    position: GlobalPosition,
    comparison: Comparison | None,
    batch_size: int,
) -> tuple[list[str], GlobalPosition]:
    tables = sql.SQL(", ").join(map(sql.Identifier, (LIVE.snapshots, LIVE.stage_latency)))
    await conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(tables))
    differences: list[str] = []
    if comparison is not None:
        position = await _to_one_position(conn, store, position, batch_size)
        unsettled = await compare_unsettled(conn, LIVE, REBUILD, comparison.unsettled)
        differences = _merged(comparison.differences, unsettled)
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


async def _to_one_position(
    conn: AsyncConnection, store: PostgresEventStore, position: GlobalPosition, batch_size: int
) -> GlobalPosition:
    """Bring the live model (its projector locked out) and the rebuild to one position."""
    live_position = await load_checkpoint(conn, PROJECTION_NAME)
    same = max(live_position, position)
    live = OrderSnapshotProjection(store, LIVE)
    await catch_up(conn, store, live, live_position, same, batch_size)
    rebuilt = OrderSnapshotProjection(store, REBUILD)
    return await catch_up(conn, store, rebuilt, position, same, batch_size)


def _merged(settled: Sequence[str], unsettled: Sequence[str]) -> list[str]:
    return sorted({*settled, *unsettled})


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
