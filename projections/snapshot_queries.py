"""Queries the API answers from the read model: one order, and pages of orders."""

from __future__ import annotations

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from domain.records import GlobalPosition
from projections.rows import SELECT_LIST, snapshot_of_row
from projections.snapshot import OrderSnapshot
from projections.tables import LIVE

_TABLE = sql.Identifier(LIVE.snapshots)
_ONE = sql.SQL("SELECT {columns} FROM {table} WHERE order_id = %s::uuid").format(
    columns=sql.SQL(SELECT_LIST), table=_TABLE
)


class SnapshotReader:
    """Reads `order_snapshots`; every query is one short autocommit statement."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def order(self, order_id: str) -> OrderSnapshot | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_ONE, (order_id,))
            row = await cursor.fetchone()
        return snapshot_of_row(row) if row else None

    async def page(
        self,
        *,
        status: str | None,
        order_type: str | None,
        before: GlobalPosition | None,
        limit: int,
        owner: str | None = None,
    ) -> list[OrderSnapshot]:
        """Up to `limit` orders submitted before `before`, newest first (keyset); only
        `owner`'s when given."""
        conditions: list[sql.Composable] = []
        params: list[object] = []
        if owner is not None:
            conditions.append(sql.SQL("owner = %s"))
            params.append(owner)
        if status is not None:
            conditions.append(sql.SQL("status = %s"))
            params.append(status)
        if order_type is not None:
            conditions.append(sql.SQL("order_type = %s"))
            params.append(order_type)
        if before is not None:
            conditions.append(sql.SQL("(submitted_tx, submitted_position) < (%s, %s)"))
            params.extend((before.tx_id, before.global_position))
        where = sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")
        query = sql.SQL(
            "SELECT {columns} FROM {table} WHERE {where}"
            " ORDER BY submitted_tx DESC, submitted_position DESC LIMIT %s"
        ).format(columns=sql.SQL(SELECT_LIST), table=_TABLE, where=where)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(query, (*params, limit))
            rows = await cursor.fetchall()
        return [snapshot_of_row(row) for row in rows]
