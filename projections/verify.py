"""`replay --verify`: the differences between the live read model and a rebuild."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from projections.tables import ReadModelTables

MAX_REPORTED = 50

_DIFFERENT_ROWS = (
    "SELECT {key}, to_jsonb(l), to_jsonb(r) FROM {live} l FULL JOIN {rebuilt} r USING ({using})"
    " WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(r) ORDER BY {key} LIMIT %s"
)


async def compare_read_models(
    conn: AsyncConnection, live: ReadModelTables, rebuilt: ReadModelTables
) -> list[str]:
    """One line per difference (at most MAX_REPORTED per table); empty when equal."""
    differences = await _compare(conn, live.snapshots, rebuilt.snapshots, ["order_id"])
    differences += await _compare(
        conn, live.stage_latency, rebuilt.stage_latency, ["stage", "bucket"]
    )
    return differences


async def _compare(conn: AsyncConnection, live: str, rebuilt: str, key: list[str]) -> list[str]:
    using = sql.SQL(", ").join(map(sql.Identifier, key))
    query = sql.SQL(_DIFFERENT_ROWS).format(
        key=sql.SQL("({})").format(using) if len(key) > 1 else using,
        live=sql.Identifier(live),
        rebuilt=sql.Identifier(rebuilt),
        using=using,
    )
    cursor = await conn.execute(query, (MAX_REPORTED,))
    return [_describe(live, row) for row in await cursor.fetchall()]


def _describe(table: str, row: tuple[Any, ...]) -> str:
    key, live_row, rebuilt_row = row
    if live_row is None:
        return f"{table} {key}: only in the rebuild"
    if rebuilt_row is None:
        return f"{table} {key}: only in the live model"
    fields = sorted(name for name in live_row if live_row[name] != rebuilt_row.get(name))
    changes = "; ".join(
        f"{name}: live={live_row[name]!r} rebuilt={rebuilt_row.get(name)!r}" for name in fields
    )
    return f"{table} {key}: {changes}"
