"""The `armed_snipers` table (migration 0013): every sniper order not final yet, its arm,
the pool it matched and the arm whose buy was fired.

The sniper matcher writes it in its checkpoint transaction, one statement per sniper
event (`among` tells it which orders are snipers); the buyer reads it with
short autocommit queries: the snipers waiting for their buy, and the expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from psycopg import AsyncConnection


class ArmedSniper(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    generation: int
    token_in: str
    amount_in: int
    expires_at: datetime
    delay_slots: int
    matched_pool: str | None = None
    token_out: str | None = None
    token_out_decimals: int | None = None
    open_time: int | None = None
    creation_slot: int | None = None


_COLUMNS = (
    "order_id, generation, token_in, amount_in, expires_at, delay_slots, matched_pool,"
    " token_out, token_out_decimals, open_time, creation_slot"
)


async def among(conn: AsyncConnection, order_ids: Sequence[str]) -> set[str]:
    """Which of `order_ids` are snipers here (one index scan)."""
    cursor = await conn.execute(
        "SELECT order_id FROM armed_snipers WHERE order_id = ANY(%s)", (list(order_ids),)
    )
    return {row[0] for row in await cursor.fetchall()}


async def insert_sniper(
    conn: AsyncConnection,
    order_id: str,
    token_in: str,
    amount_in: int,
    expires_at: datetime,
    delay_slots: int,
) -> None:
    await conn.execute(
        "INSERT INTO armed_snipers (order_id, token_in, amount_in, expires_at, delay_slots)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (order_id) DO NOTHING",
        (order_id, token_in, amount_in, expires_at, delay_slots),
    )


async def arm(conn: AsyncConnection, order_id: str, generation: int) -> None:
    """Arm `generation` (only forward: a batch read again changes nothing)."""
    await conn.execute(
        "UPDATE armed_snipers SET generation = %s WHERE order_id = %s AND generation < %s",
        (generation, order_id, generation),
    )


async def fired(conn: AsyncConnection, order_id: str, generation: int) -> None:
    await conn.execute(
        "UPDATE armed_snipers SET fired_generation = %s"
        " WHERE order_id = %s AND fired_generation < %s",
        (generation, order_id, generation),
    )


async def matched(
    conn: AsyncConnection,
    order_id: str,
    pool: str,
    token_out: str,
    decimals: int,
    open_time: int,
    creation_slot: int,
) -> None:
    await conn.execute(
        "UPDATE armed_snipers SET matched_pool = %s, token_out = %s, token_out_decimals = %s,"
        " open_time = %s, creation_slot = %s WHERE order_id = %s",
        (pool, token_out, decimals, open_time, creation_slot, order_id),
    )


async def forget(conn: AsyncConnection, order_id: str) -> None:
    await conn.execute("DELETE FROM armed_snipers WHERE order_id = %s", (order_id,))


async def unmatched(conn: AsyncConnection, token_in: str) -> list[ArmedSniper]:
    """The armed snipers spending `token_in` that have matched no pool yet."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM armed_snipers"
        " WHERE matched_pool IS NULL AND token_in = %s AND generation > 0 ORDER BY order_id",
        (token_in,),
    )
    return [_sniper(row) for row in await cursor.fetchall()]


async def awaiting_buy(conn: AsyncConnection, limit: int) -> list[ArmedSniper]:
    """The matched snipers whose current arm's buy has not been fired."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM armed_snipers"
        " WHERE matched_pool IS NOT NULL AND fired_generation < generation"
        " ORDER BY matched_pool, order_id LIMIT %s",
        (limit,),
    )
    return [_sniper(row) for row in await cursor.fetchall()]


async def expired(conn: AsyncConnection, now: datetime, limit: int) -> list[ArmedSniper]:
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM armed_snipers WHERE expires_at <= %s ORDER BY expires_at LIMIT %s",
        (now, limit),
    )
    return [_sniper(row) for row in await cursor.fetchall()]


def _sniper(row: tuple[object, ...]) -> ArmedSniper:
    fields = dict(zip(ArmedSniper.__struct_fields__, row, strict=True))
    fields["amount_in"] = int(str(fields["amount_in"]))
    return msgspec.convert(fields, ArmedSniper, strict=False)


def order_ids(snipers: Sequence[ArmedSniper]) -> list[str]:
    return [sniper.order_id for sniper in snipers]
