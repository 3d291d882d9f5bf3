"""The PostgreSQL event store (DESIGN.md, "The event store protocol").

Appends go through the `append_events` SQL function, one short transaction each;
concurrent appends share a round trip and a commit (`db/append_batches.py`). Global
reads follow commit order `(tx_id, global_position)` and stop below the oldest
running transaction, so no reader ever skips a late commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec
import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from db.append_batches import AppendBatcher, AppendRequest, EventRow, store_error
from domain.records import (
    AppendResult,
    GlobalPosition,
    NewEvent,
    RecordedEvent,
)

_COLUMNS = (
    "global_position, tx_id::text::bigint, stream_id, stream_version, event_id::text,"
    " event_type, schema_version, data::text, metadata::text, recorded_at"
)
_READ_STREAM = (
    f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s AND stream_version > %s"
    " ORDER BY stream_version"
)
_READ_STREAMS = (
    f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY(%s) ORDER BY stream_id, stream_version"
)
# Served by UNIQUE (stream_id, stream_version): one index probe per stream.
_FIRST_EVENTS = f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY(%s) AND stream_version = 1"
# ORDER BY names the table's columns: a bare `tx_id` would mean the output column
# `tx_id::text::bigint`, which no index serves (every page would sort the rest of the log).
# Everything below the horizon is settled: no running transaction can still add rows there.
_HORIZON = "(SELECT pg_snapshot_xmin(pg_current_snapshot()))"
_READ_ALL = (
    f"SELECT {_COLUMNS} FROM events"
    " WHERE (tx_id, global_position) > (%s::text::xid8, %s)"
    f" AND tx_id < {_HORIZON}"
    " ORDER BY events.tx_id, events.global_position LIMIT %s"
)
_READ_ALL_OF_TYPES = (
    f"SELECT {_COLUMNS} FROM events"
    " WHERE event_type = ANY(%s) AND (tx_id, global_position) > (%s::text::xid8, %s)"
    f" AND tx_id < {_HORIZON}"
    " ORDER BY events.tx_id, events.global_position LIMIT %s"
)

# One owner's events: those of streams whose first event that owner (actor) wrote, one
# probe of UNIQUE (stream_id, stream_version) per event (db/migrations/0014_api_keys.sql).
_OF_OWNER = (
    " AND EXISTS (SELECT 1 FROM events o WHERE o.stream_id = events.stream_id"
    " AND o.stream_version = 1 AND o.metadata->>'actor' = %s)"
)

Row = tuple[int, int, str, int, str, str, int, str, str, object]


class PostgresEventStore:
    """Append-only, ordered storage of every order's events.

    `on_commit`, when given, is called after every append that wrote something: the
    engine's processes pass `db.wakeups.CommitNudger.nudge` so followers of the log
    wake up at once instead of at their next poll.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        *,
        on_commit: Callable[[], None] | None = None,
        append_batches_in_flight: int = 4,
    ) -> None:
        self._pool = pool
        self._on_commit = on_commit
        self._batcher = AppendBatcher(pool, max_in_flight=append_batches_in_flight)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        command_id: str | None = None,
        request_hash: str = "",
    ) -> AppendResult:
        """Append `events` after `expected_version`; a repeated `command_id` with the
        same `request_hash` returns the first append's result and writes nothing."""
        rows = [EventRow(e.event_id, e.event_type, msgspec.Raw(e.data), e.metadata) for e in events]
        request = AppendRequest(stream_id, expected_version, command_id, request_hash, rows)
        result = await self._batcher.append(request)
        if self._on_commit is not None and not result.duplicate:
            self._on_commit()
        return result

    async def command_recorded(self, command_id: str) -> bool:
        """Whether an append under `command_id` is in the store."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT 1 FROM commands WHERE command_id = %s", (command_id,)
            )
            return await cursor.fetchone() is not None

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        """The stream's events with version > `after_version`, oldest first."""
        return await self._fetch(_READ_STREAM, (stream_id, after_version))

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        """Several whole streams in one query, by stream id (absent: no events)."""
        if not stream_ids:
            return {}
        streams: dict[str, list[RecordedEvent]] = {}
        for event in await self._fetch(_READ_STREAMS, (list(stream_ids),)):
            streams.setdefault(event.stream_id, []).append(event)
        return streams

    async def first_events(self, stream_ids: Sequence[str]) -> dict[str, RecordedEvent]:
        """The first event of each stream, in one query, by stream id (absent: none)."""
        if not stream_ids:
            return {}
        events = await self._fetch(_FIRST_EVENTS, (list(stream_ids),))
        return {event.stream_id: event for event in events}

    async def read_all(
        self,
        after: GlobalPosition,
        limit: int,
        event_types: Sequence[str] | None = None,
        conn: AsyncConnection | None = None,
        *,
        owner: str | None = None,
    ) -> list[RecordedEvent]:
        """Up to `limit` settled events after `after`, in commit order; on `conn` when
        given (a runner reads on its lock connection: each poll also proves the lock);
        only of the orders `owner` submitted, when given."""
        if owner is not None:
            return await self._owned(after, limit, event_types, owner)
        if event_types:
            params: tuple[object, ...] = (
                list(event_types),
                str(after.tx_id),
                after.global_position,
                limit,
            )
            return await self._fetch(_READ_ALL_OF_TYPES, params, conn)
        return await self._fetch(_READ_ALL, (str(after.tx_id), after.global_position, limit), conn)

    async def _owned(
        self, after: GlobalPosition, limit: int, event_types: Sequence[str] | None, owner: str
    ) -> list[RecordedEvent]:
        if event_types:
            query = _READ_ALL_OF_TYPES.replace(" ORDER BY", _OF_OWNER + " ORDER BY")
            params: tuple[object, ...] = (
                list(event_types),
                str(after.tx_id),
                after.global_position,
                owner,
                limit,
            )
        else:
            query = _READ_ALL.replace(" ORDER BY", _OF_OWNER + " ORDER BY")
            params = (str(after.tx_id), after.global_position, owner, limit)
        return await self._fetch(query, params)

    async def _fetch(
        self, query: str, params: tuple[object, ...], conn: AsyncConnection | None = None
    ) -> list[RecordedEvent]:
        try:
            if conn is not None:
                rows = await _rows(conn, query, params)
            else:
                async with self._pool.connection() as pooled:
                    rows = await _rows(pooled, query, params)
        except (psycopg.Error, PoolTimeout) as error:
            raise store_error(error) from error
        return [_recorded(row) for row in rows]


async def _rows(conn: AsyncConnection, query: str, params: tuple[object, ...]) -> list[Row]:
    cursor = await conn.execute(query, params)
    rows: list[Row] = await cursor.fetchall()
    return rows


def _recorded(row: Row) -> RecordedEvent:
    return RecordedEvent(
        global_position=row[0],
        tx_id=row[1],
        stream_id=row[2],
        stream_version=row[3],
        event_id=row[4],
        event_type=row[5],
        schema_version=row[6],
        data=row[7].encode(),
        metadata=row[8].encode(),
        recorded_at=row[9],  # type: ignore[arg-type]
    )
