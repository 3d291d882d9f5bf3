"""The `inflight_orders` table: which step each unfinished order waits for, and by when.

The dispatcher writes it in its checkpoint transaction, one statement per batch; the
sweeper claims overdue rows (and admits waiting orders) in short transactions of its
own; the confirmation watcher reads the signatures of orders waiting to settle.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from psycopg import AsyncConnection


class Tracked(msgspec.Struct, frozen=True):
    order_id: str
    step: str
    attempt: int
    due_in_ms: int
    signature: str | None = None  # what the watcher follows, once the step is follow


class Watched(msgspec.Struct, frozen=True):
    order_id: str
    attempt: int
    signature: str


# The step whose rows the confirmation watcher acts on, rather than the sweeper.
WATCHED_STEP = "follow_order"

_WAIT = (
    "INSERT INTO inflight_orders (order_id, step, attempt, admitted, due_at)"
    " SELECT order_id, %s, 1, false, now() FROM unnest(%s::text[]) AS t(order_id)"
    " ON CONFLICT (order_id) DO NOTHING"
)
_TRACK = (
    "INSERT INTO inflight_orders (order_id, step, attempt, admitted, due_at, signature)"
    " SELECT order_id, step, attempt, true, now() + make_interval(secs => due_ms / 1000.0),"
    " signature FROM unnest(%s::text[], %s::text[], %s::int[], %s::bigint[], %s::text[])"
    " AS t(order_id, step, attempt, due_ms, signature)"
    " ON CONFLICT (order_id) DO UPDATE SET step = excluded.step, attempt = excluded.attempt,"
    " admitted = true, due_at = excluded.due_at, resends = 0, signature = excluded.signature"
)
_WATCHED = (
    "SELECT order_id, attempt, signature FROM inflight_orders"
    " WHERE step = %s AND signature IS NOT NULL ORDER BY due_at LIMIT %s"
)
_ADMIT = (
    "UPDATE inflight_orders SET admitted = true,"
    " due_at = now() + make_interval(secs => %s / 1000.0)"
    " WHERE order_id IN (SELECT order_id FROM inflight_orders WHERE NOT admitted"
    " ORDER BY submitted_at LIMIT %s FOR UPDATE SKIP LOCKED)"
    " RETURNING order_id, step, attempt"
)
# Each resend of one order waits twice as long as the last (capped), so a backlog
# that is merely slow is not flooded with duplicates.
_CLAIM_OVERDUE = (
    "UPDATE inflight_orders SET resends = resends + 1,"
    " due_at = now() + make_interval(secs => %s * (2 ^ least(resends, 4)) / 1000.0)"
    " WHERE order_id IN (SELECT order_id FROM inflight_orders WHERE admitted AND due_at < now()"
    " AND step <> %s ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED)"
    " RETURNING order_id, step, attempt, resends"
)


async def wait_for_admission(conn: AsyncConnection, order_ids: Sequence[str], step: str) -> None:
    if order_ids:
        await conn.execute(_WAIT, (step, list(order_ids)))


async def track(conn: AsyncConnection, rows: Sequence[Tracked]) -> None:
    """Record (or move on) the step each order waits for; it is overdue after `due_in_ms`."""
    if not rows:
        return
    columns = (
        [row.order_id for row in rows],
        [row.step for row in rows],
        [row.attempt for row in rows],
        [row.due_in_ms for row in rows],
        [row.signature for row in rows],
    )
    await conn.execute(_TRACK, columns)


async def watched(conn: AsyncConnection, limit: int) -> list[Watched]:
    """Orders whose sent signature waits to settle, the longest-waiting first."""
    cursor = await conn.execute(_WATCHED, (WATCHED_STEP, limit))
    return [Watched(row[0], row[1], row[2]) for row in await cursor.fetchall()]


async def forget(conn: AsyncConnection, order_ids: Sequence[str]) -> None:
    if order_ids:
        await conn.execute(
            "DELETE FROM inflight_orders WHERE order_id = ANY(%s)", (list(order_ids),)
        )


async def admitted_count(conn: AsyncConnection) -> int:
    cursor = await conn.execute("SELECT count(*) FROM inflight_orders WHERE admitted")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def admit(conn: AsyncConnection, limit: int, due_in_ms: int) -> list[tuple[str, str, int]]:
    """Admit up to `limit` waiting orders, oldest first: (order_id, step, attempt)."""
    if limit <= 0:
        return []
    cursor = await conn.execute(_ADMIT, (due_in_ms, limit))
    return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]


async def claim_overdue(
    conn: AsyncConnection, due_in_ms: int, limit: int
) -> list[tuple[str, str, int, int]]:
    """Overdue steps, pushed back so no other sweep claims them: (id, step, attempt, resends)."""
    cursor = await conn.execute(_CLAIM_OVERDUE, (due_in_ms, WATCHED_STEP, limit))
    return [(row[0], row[1], row[2], row[3]) for row in await cursor.fetchall()]
