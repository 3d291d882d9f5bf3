"""`replay --verify`: the differences between the live read model and a rebuild.

The whole-table comparison runs outside any transaction, one range of orders per
statement (each statement its own snapshot, with no transaction id, so it holds back
neither the global log's horizon nor any reader), while the live projector goes on
writing. A row at the same version on both sides is compared there and then. A row
at different versions (the projector and the rebuild stood at different positions of
the log when that range was read) is *unsettled*: the swap compares those few rows,
and the small stage histogram, under its lock, once both models stand at one position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from psycopg import AsyncConnection, sql

from projections.tables import ReadModelTables

MAX_REPORTED = 50
# Orders per comparison statement: a few milliseconds each, far under any timeout.
CHUNK_ORDERS = 2_000
# Called with (orders compared so far, orders in the rebuild).
Compared = Callable[[int, int], None]

_DIFFERENT_ROWS = (
    "SELECT {key}, {versions}, to_jsonb(l), to_jsonb(r)"
    " FROM (SELECT * FROM {live} WHERE {where}) l"
    " FULL JOIN (SELECT * FROM {rebuilt} WHERE {where}) r USING ({using})"
    " WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(r) ORDER BY {key} LIMIT %(limit)s"
)
_IN_RANGE = (
    "(%(after)s::uuid IS NULL OR order_id > %(after)s::uuid)"
    " AND (%(through)s::uuid IS NULL OR order_id <= %(through)s::uuid)"
)
_RANGE_END = "SELECT order_id::text FROM {table} WHERE {after} ORDER BY order_id OFFSET %s LIMIT 1"


class Comparison(msgspec.Struct):
    differences: list[str]  # one line per difference, at most MAX_REPORTED
    unsettled: list[str]  # order ids at different versions on each side


async def compare_settled(
    conn: AsyncConnection,
    live: ReadModelTables,
    rebuilt: ReadModelTables,
    compared: Compared | None = None,
) -> Comparison:
    """Compare every order at the same version on both sides, range by range, on an
    autocommit `conn` (no transaction); the rest come back as unsettled."""
    total = await _count(conn, rebuilt.snapshots)
    outcome = Comparison([], [])
    after: str | None = None
    done = 0
    while True:
        through = await _range_end(conn, rebuilt.snapshots, after)
        where = sql.SQL(_IN_RANGE)
        params = {"after": after, "through": through, "limit": None}  # LIMIT NULL: all
        for row in await _different_rows(conn, live.snapshots, rebuilt.snapshots, where, params):
            _, live_version, rebuilt_version, _, _ = row
            if live_version is not None and live_version == rebuilt_version:
                _report(outcome.differences, live.snapshots, row)
            else:
                outcome.unsettled.append(str(row[0]))
        done = total if through is None else min(total, done + CHUNK_ORDERS)
        if compared:
            compared(done, total)
        if through is None:
            return outcome
        after = through


async def compare_unsettled(
    conn: AsyncConnection, live: ReadModelTables, rebuilt: ReadModelTables, orders: Sequence[str]
) -> list[str]:
    """The differences among `orders` and in the stage histogram; for the swap, with
    both models at one position and writers locked out."""
    differences: list[str] = []
    if orders:
        where = sql.SQL("order_id = ANY(%(orders)s::uuid[])")
        params = {"orders": list(orders), "limit": MAX_REPORTED}
        for row in await _different_rows(conn, live.snapshots, rebuilt.snapshots, where, params):
            _report(differences, live.snapshots, row)
    query = sql.SQL(_DIFFERENT_ROWS).format(
        key=sql.SQL("(stage, bucket)"),
        versions=sql.SQL("NULL, NULL"),
        live=sql.Identifier(live.stage_latency),
        rebuilt=sql.Identifier(rebuilt.stage_latency),
        where=sql.SQL("true"),
        using=sql.SQL("stage, bucket"),
    )
    cursor = await conn.execute(query, {"limit": MAX_REPORTED})
    for row in await cursor.fetchall():
        _report(differences, live.stage_latency, row)
    return differences


async def _different_rows(
    conn: AsyncConnection, live: str, rebuilt: str, where: sql.Composable, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    query = sql.SQL(_DIFFERENT_ROWS).format(
        key=sql.SQL("order_id"),
        versions=sql.SQL("l.version, r.version"),
        live=sql.Identifier(live),
        rebuilt=sql.Identifier(rebuilt),
        where=where,
        using=sql.SQL("order_id"),
    )
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


async def _range_end(conn: AsyncConnection, table: str, after: str | None) -> str | None:
    """The last order id of the range after `after`; None when the range runs to the end."""
    condition = sql.SQL("order_id > %s::uuid" if after is not None else "true")
    query = sql.SQL(_RANGE_END).format(table=sql.Identifier(table), after=condition)
    params = (after, CHUNK_ORDERS - 1) if after is not None else (CHUNK_ORDERS - 1,)
    row = await (await conn.execute(query, params)).fetchone()
    return str(row[0]) if row else None


async def _count(conn: AsyncConnection, table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    row = await (await conn.execute(query)).fetchone()
    return int(row[0]) if row else 0


def _report(differences: list[str], table: str, row: tuple[Any, ...]) -> None:
    if len(differences) < MAX_REPORTED:
        differences.append(_describe(table, row))


def _describe(table: str, row: tuple[Any, ...]) -> str:
    key, _, _, live_row, rebuilt_row = row
    if live_row is None:
        return f"{table} {key}: only in the rebuild"
    if rebuilt_row is None:
        return f"{table} {key}: only in the live model"
    fields = sorted(name for name in live_row if live_row[name] != rebuilt_row.get(name))
    changes = "; ".join(
        f"{name}: live={live_row[name]!r} rebuilt={rebuilt_row.get(name)!r}" for name in fields
    )
    return f"{table} {key}: {changes}"
