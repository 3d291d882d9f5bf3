"""Loading and saving snapshots in a snapshots table (live or rebuild)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection, sql

from projections.rows import COLUMNS, SELECT_LIST, snapshot_of_row, snapshot_row
from projections.snapshot import OrderSnapshot

_UPDATES = sql.SQL(", ").join(
    sql.SQL("{column} = excluded.{column}").format(column=sql.Identifier(name))
    for name in COLUMNS[1:]
)
_COLUMN_LIST = sql.SQL(", ").join(sql.Identifier(name) for name in COLUMNS)


async def load_snapshots(
    conn: AsyncConnection, table: str, order_ids: Sequence[str]
) -> dict[str, OrderSnapshot]:
    if not order_ids:
        return {}
    query = sql.SQL("SELECT {columns} FROM {table} WHERE order_id = ANY(%s::uuid[])").format(
        columns=sql.SQL(SELECT_LIST), table=sql.Identifier(table)
    )
    cursor = await conn.execute(query, (list(order_ids),))
    snapshots = [snapshot_of_row(row) for row in await cursor.fetchall()]
    return {snapshot.state.order_id: snapshot for snapshot in snapshots}


async def save_snapshots(
    conn: AsyncConnection, table: str, snapshots: Sequence[OrderSnapshot]
) -> None:
    """Insert or replace `snapshots` (inside the caller's transaction)."""
    if not snapshots:
        return
    placeholders = sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS))
    query = sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values})"
        " ON CONFLICT (order_id) DO UPDATE SET {updates}"
    ).format(
        table=sql.Identifier(table), columns=_COLUMN_LIST, values=placeholders, updates=_UPDATES
    )
    async with conn.cursor() as cursor:
        await cursor.executemany(query, [snapshot_row(s) for s in snapshots])


async def copy_snapshots(
    conn: AsyncConnection, table: str, snapshots: Sequence[OrderSnapshot]
) -> None:
    """Bulk-load `snapshots` into an empty table (a rebuild)."""
    query = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(table), columns=_COLUMN_LIST
    )
    async with conn.cursor() as cursor, cursor.copy(query) as copy:
        for snapshot in snapshots:
            await copy.write_row(snapshot_row(snapshot))
