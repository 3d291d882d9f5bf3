"""The `launched_pools` read model (migration 0012): every recorded pool launch."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
from psycopg import AsyncConnection

from domain.launches import PoolLaunched

# The columns are the event's fields, in its own order (snake_case both).
_FIELDS: tuple[str, ...] = PoolLaunched.__struct_fields__
_ENCODED: tuple[str, ...] = PoolLaunched.__struct_encode_fields__  # camelCase, same order
_COLUMNS = ", ".join(_FIELDS)
_INSERT = (
    f"INSERT INTO launched_pools ({_COLUMNS}, position)"
    f" VALUES ({', '.join(['%s'] * (len(_FIELDS) + 1))}) ON CONFLICT (pool) DO NOTHING"
)
_ALL = f"SELECT {_COLUMNS} FROM launched_pools ORDER BY slot, position"
_RECENT = f"SELECT {_COLUMNS} FROM launched_pools ORDER BY slot DESC, position DESC LIMIT %s"


async def insert_launches(
    conn: AsyncConnection, launches: Sequence[tuple[PoolLaunched, int]]
) -> None:
    """Record `launches` (each with its event's global position); one already there
    stays as it was (a batch read again)."""
    if not launches:
        return
    rows = [(*(getattr(e, name) for name in _FIELDS), position) for e, position in launches]
    async with conn.cursor() as cursor:
        await cursor.executemany(_INSERT, rows)


async def newest_creation(conn: AsyncConnection) -> str | None:
    """The signature of the latest creation recorded (by slot, then place in the log)."""
    cursor = await conn.execute(
        "SELECT signature FROM launched_pools ORDER BY slot DESC, position DESC LIMIT 1"
    )
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def all_launches(conn: AsyncConnection) -> list[PoolLaunched]:
    """Every recorded launch, oldest first."""
    return await _launches(conn, _ALL, ())


async def recent_launches(conn: AsyncConnection, limit: int) -> list[PoolLaunched]:
    """The `limit` newest launches (by slot, then place in the log), newest first."""
    return await _launches(conn, _RECENT, (limit,))


async def _launches(
    conn: AsyncConnection, query: str, params: tuple[object, ...]
) -> list[PoolLaunched]:
    cursor = await conn.execute(query, params)
    rows = [
        {name: _plain(value) for name, value in zip(_ENCODED, row, strict=True)}
        for row in await cursor.fetchall()
    ]
    return msgspec.convert(rows, list[PoolLaunched])


def _plain(value: object) -> object:
    # numeric columns come back as Decimal; every amount here is whole.
    return int(value) if isinstance(value, Decimal) else value
