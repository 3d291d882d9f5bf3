"""A consumer for runner tests: records what it applies in the checkpoint's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from domain.records import RecordedEvent, StoreUnavailable

EFFECTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS consumer_effects (consumer text, event_id text,"
    " UNIQUE (consumer, event_id))"
)


class Recorder:
    """Counts what it applies, in a table written in the checkpoint's transaction."""

    def __init__(self, name: str, fail_on: str | None = None, outages: int = 0) -> None:
        self.name = name
        self.event_types: Sequence[str] | None = ["Counted"]
        self.fail_on = fail_on
        self.outages = outages  # the first batches fail as if the store were unreachable

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        if self.outages:
            self.outages -= 1
            raise StoreUnavailable("the store is unreachable for a moment")
        for event in events:
            await conn.execute(
                "INSERT INTO consumer_effects (consumer, event_id) VALUES (%s, %s)",
                (self.name, event.event_id),
            )
            if event.event_id == self.fail_on:
                raise RuntimeError("crash mid-batch")


async def effects_of(pool: AsyncConnectionPool[AsyncConnection], name: str) -> int:
    """How many events the consumer `name` applied (committed)."""
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM consumer_effects WHERE consumer = %s", (name,)
        )
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])
