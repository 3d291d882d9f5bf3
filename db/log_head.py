"""Where the settled global log ends now: the start of a reader that wants only news."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from domain.records import START, GlobalPosition

# Same horizon as the store's global reads: nothing below it can still appear.
_HEAD = (
    "SELECT tx_id::text::bigint, global_position FROM events"
    " WHERE tx_id < (SELECT pg_snapshot_xmin(pg_current_snapshot()))"
    " ORDER BY tx_id DESC, global_position DESC LIMIT 1"
)


async def settled_head(pool: AsyncConnectionPool[AsyncConnection]) -> GlobalPosition:
    async with pool.connection() as conn:
        row = await (await conn.execute(_HEAD)).fetchone()
    return GlobalPosition(row[0], row[1]) if row else START
