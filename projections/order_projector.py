"""The `order_snapshots` projection: a checkpointed consumer of the global log.

Each batch loads the snapshots of the orders it touches, folds the events in, and
writes the snapshots and the stage histogram in the runner's transaction, next to
the checkpoint. Events a snapshot already holds are skipped, so a batch applied
twice (after a replay swapped tables under a running projector) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from psycopg import AsyncConnection

from db.event_store import PostgresEventStore
from domain.records import RecordedEvent
from domain.streams import order_stream
from projections.fold import SnapshotFold, order_ids
from projections.snapshot import fold_snapshot
from projections.snapshot_store import load_snapshots, save_snapshots
from projections.stage_latency import add_tally
from projections.tables import LIVE, ReadModelTables

PROJECTION_NAME = "order_snapshots"
log = logging.getLogger(__name__)


class OrderSnapshotProjection:
    """A `db.subscription.Consumer` keeping `tables` equal to the fold of the log."""

    name = PROJECTION_NAME
    # Every event: filtering in Python is cheaper than a type filter in the query.
    event_types: Sequence[str] | None = None

    def __init__(self, store: PostgresEventStore, tables: ReadModelTables = LIVE) -> None:
        self._store = store
        self._tables = tables

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        ids = order_ids(events)
        if not ids:
            return
        fold = SnapshotFold(await load_snapshots(conn, self._tables.snapshots, ids))
        fold.apply(events)
        await refold_gaps(self._store, fold)
        await save_snapshots(conn, self._tables.snapshots, fold.changed())
        await add_tally(conn, self._tables.stage_latency, fold.stage_times)


async def refold_gaps(store: PostgresEventStore, fold: SnapshotFold) -> None:
    """Rebuild from their streams the orders whose batch skipped a version."""
    for order_id in sorted(fold.gaps):
        log.warning("version gap in the global log; refolding", extra={"order_id": order_id})
        snapshot = fold_snapshot(await store.read_stream(order_stream(order_id)))
        if snapshot is not None:
            fold.snapshots[order_id] = snapshot
            fold.touched.add(order_id)
    fold.gaps.clear()
