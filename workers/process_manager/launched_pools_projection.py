"""The launched-pools projection: a checkpointed consumer of the log's `PoolLaunched`
events that keeps `launched_pools` (db/launched_pools.py) true. The pool watcher runs
while it holds its lock, so one watcher is active, and reads its checkpoint there."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection

from db.launched_pools import insert_launches
from domain.launches import POOL_STREAM_PREFIX, decode_launch
from domain.records import RecordedEvent


class LaunchedPoolsProjection:
    name = "launched_pools"
    event_types: Sequence[str] | None = ("PoolLaunched",)

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        launches = [
            (decode_launch(event.data), event.global_position)
            for event in events
            if event.stream_id.startswith(POOL_STREAM_PREFIX)
        ]
        await insert_launches(conn, launches)
