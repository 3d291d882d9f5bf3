"""The `armed_orders` table: every limit order not final yet, its terms, and whether
(and for which arm) it is armed now; the trigger evaluator's index (migration 0011).

Its projection writes it in its checkpoint transaction, one statement per kind of
change per batch; the evaluator reads it with short autocommit queries: which
directions have armed orders, the orders under a direction's bound, and the expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from psycopg import AsyncConnection


class ArmedOrder(msgspec.Struct, frozen=True):
    order_id: str
    generation: int
    token_in: str
    token_out: str
    amount_in: int
    limit_amount_out: int
    expires_at: datetime


class ArmChange(msgspec.Struct, frozen=True):
    """A batch's last word on one order: armed or not, for arm `generation`."""

    order_id: str
    generation: int
    armed: bool


_INSERT = (
    "INSERT INTO armed_orders (order_id, generation, armed, token_in, token_out, amount_in,"
    " limit_amount_out, threshold, expires_at)"
    " SELECT order_id, 0, false, token_in, token_out, amount_in, limit_out,"
    " (limit_out / amount_in)::float8, expires_at FROM unnest(%s::text[], %s::text[],"
    " %s::text[], %s::numeric[], %s::numeric[], %s::timestamptz[])"
    " AS t(order_id, token_in, token_out, amount_in, limit_out, expires_at)"
    " ON CONFLICT (order_id) DO NOTHING"
)
# Only forward: a batch applied twice (a crash before its checkpoint) changes nothing.
_CHANGE = (
    "UPDATE armed_orders a SET generation = c.generation, armed = c.armed,"
    " armed_at = CASE WHEN c.armed THEN now() ELSE a.armed_at END"
    " FROM unnest(%s::text[], %s::int[], %s::bool[]) AS c(order_id, generation, armed)"
    " WHERE a.order_id = c.order_id AND (a.generation, NOT a.armed) < (c.generation, NOT c.armed)"
)
_DIRECTIONS = (
    "SELECT d.token_in, d.token_out FROM unnest(%s::text[], %s::text[]) AS d(token_in, token_out)"
    " WHERE EXISTS (SELECT 1 FROM armed_orders a WHERE a.armed AND a.token_in = d.token_in"
    " AND a.token_out = d.token_out)"
)
_COLUMNS = "order_id, generation, token_in, token_out, amount_in, limit_amount_out, expires_at"
# Per direction, the orders whose threshold is within its bound, lowest first (the
# ones the market clears by most), at most `limit` of them.
_CANDIDATES = (
    f"SELECT c.* FROM unnest(%s::text[], %s::text[], %s::float8[]) AS b(token_in, token_out,"
    f" bound) CROSS JOIN LATERAL (SELECT {_COLUMNS} FROM armed_orders a WHERE a.armed"
    " AND a.token_in = b.token_in AND a.token_out = b.token_out AND a.threshold <= b.bound"
    " ORDER BY a.threshold LIMIT %s) AS c"
)
_EXPIRED = (
    f"SELECT {_COLUMNS} FROM armed_orders WHERE armed AND expires_at <= %s"
    " ORDER BY expires_at LIMIT %s"
)


async def insert_terms(conn: AsyncConnection, orders: Sequence[ArmedOrder]) -> None:
    """Record newly submitted limit orders (not armed until their `OrderArmed`)."""
    if not orders:
        return
    columns = (
        [o.order_id for o in orders],
        [o.token_in for o in orders],
        [o.token_out for o in orders],
        [o.amount_in for o in orders],
        [o.limit_amount_out for o in orders],
        [o.expires_at for o in orders],
    )
    await conn.execute(_INSERT, columns)


async def change_arms(conn: AsyncConnection, changes: Sequence[ArmChange]) -> None:
    """Arm or disarm orders; a change older than the row's (a replayed batch) is ignored.
    Within one generation, disarmed (fired) comes after armed."""
    if changes:
        columns = (
            [c.order_id for c in changes],
            [c.generation for c in changes],
            [c.armed for c in changes],
        )
        await conn.execute(_CHANGE, columns)


async def forget(conn: AsyncConnection, order_ids: Sequence[str]) -> None:
    if order_ids:
        await conn.execute("DELETE FROM armed_orders WHERE order_id = ANY(%s)", (list(order_ids),))


async def armed_directions(
    conn: AsyncConnection, directions: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Those of `directions` (token_in, token_out) that have an armed order."""
    cursor = await conn.execute(
        _DIRECTIONS, ([d[0] for d in directions], [d[1] for d in directions])
    )
    return [(row[0], row[1]) for row in await cursor.fetchall()]


async def candidates(
    conn: AsyncConnection, bounds: Sequence[tuple[str, str, float]], limit: int
) -> list[ArmedOrder]:
    """Armed orders whose threshold is at most their direction's bound."""
    columns = ([b[0] for b in bounds], [b[1] for b in bounds], [b[2] for b in bounds], limit)
    cursor = await conn.execute(_CANDIDATES, columns)
    return [_order(row) for row in await cursor.fetchall()]


async def expired(conn: AsyncConnection, now: datetime, limit: int) -> list[ArmedOrder]:
    """Armed orders whose `expiresAt` is at or before `now`, the oldest first."""
    cursor = await conn.execute(_EXPIRED, (now, limit))
    return [_order(row) for row in await cursor.fetchall()]


def _order(row: tuple[object, ...]) -> ArmedOrder:
    order_id, generation, token_in, token_out, amount_in, limit_out, expires_at = row
    assert isinstance(expires_at, datetime)
    return ArmedOrder(
        str(order_id),
        int(str(generation)),
        str(token_in),
        str(token_out),
        int(str(amount_in)),
        int(str(limit_out)),
        expires_at,
    )
