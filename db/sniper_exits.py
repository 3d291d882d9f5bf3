"""The `sniper_exits` table (migration 0016): every sniper order with exit terms not final
yet, its terms, the token it bought, its position and its exit arm.

The sniper matcher writes it in its checkpoint transaction, one statement per event;
the exit watcher reads the watched positions (holding or exiting) with one short
autocommit query per look.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from psycopg import AsyncConnection

from domain.exit_terms import ExitTerms

WAITING, HOLDING, EXITING = "waiting", "holding", "exiting"


class WatchedExit(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    token_in: str
    take_profit_pct: int | None
    stop_loss_pct: int | None
    max_hold_slots: int | None
    token_out: str
    token_out_decimals: int
    status: str
    generation: int
    tokens: int
    cost: int
    entry_slot: int
    exit_order_id: str | None

    @property
    def terms(self) -> ExitTerms:
        return ExitTerms(
            take_profit_pct=self.take_profit_pct,
            stop_loss_pct=self.stop_loss_pct,
            max_hold_slots=self.max_hold_slots,
        )


_COLUMNS = ", ".join(WatchedExit.__struct_fields__)


async def among(conn: AsyncConnection, order_ids: Sequence[str]) -> set[str]:
    """Which of `order_ids` have an exit here (one index scan)."""
    cursor = await conn.execute(
        "SELECT order_id FROM sniper_exits WHERE order_id = ANY(%s)", (list(order_ids),)
    )
    return {row[0] for row in await cursor.fetchall()}


async def insert_exit(
    conn: AsyncConnection, order_id: str, token_in: str, terms: ExitTerms
) -> None:
    await conn.execute(
        "INSERT INTO sniper_exits (order_id, token_in, take_profit_pct, stop_loss_pct,"
        " max_hold_slots) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (order_id) DO NOTHING",
        (order_id, token_in, terms.take_profit_pct, terms.stop_loss_pct, terms.max_hold_slots),
    )


async def matched(conn: AsyncConnection, order_id: str, token_out: str, decimals: int) -> None:
    await conn.execute(
        "UPDATE sniper_exits SET token_out = %s, token_out_decimals = %s WHERE order_id = %s",
        (token_out, decimals, order_id),
    )


async def opened(
    conn: AsyncConnection, order_id: str, tokens: int, cost: int, entry_slot: int
) -> None:
    await conn.execute(
        "UPDATE sniper_exits SET status = %s, generation = 1, tokens = %s, cost = %s,"
        " entry_slot = %s WHERE order_id = %s AND generation = 0",
        (HOLDING, tokens, cost, entry_slot, order_id),
    )


async def exiting(
    conn: AsyncConnection, order_id: str, generation: int, exit_order_id: str
) -> None:
    await conn.execute(
        "UPDATE sniper_exits SET status = %s, exit_order_id = %s"
        " WHERE order_id = %s AND generation = %s",
        (EXITING, exit_order_id, order_id, generation),
    )


async def rearmed(conn: AsyncConnection, order_id: str, generation: int) -> None:
    """Exit arm `generation` holds again (only forward: a batch read again changes nothing)."""
    await conn.execute(
        "UPDATE sniper_exits SET status = %s, generation = %s, exit_order_id = NULL"
        " WHERE order_id = %s AND generation < %s",
        (HOLDING, generation, order_id, generation),
    )


async def forget(conn: AsyncConnection, order_id: str) -> None:
    await conn.execute("DELETE FROM sniper_exits WHERE order_id = %s", (order_id,))


async def watched(conn: AsyncConnection, limit: int) -> list[WatchedExit]:
    """The bought positions: held (the rules are watched) or exiting (a child sells)."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM sniper_exits WHERE status <> %s ORDER BY order_id LIMIT %s",
        (WAITING, limit),
    )
    return [_watched(row) for row in await cursor.fetchall()]


def _watched(row: tuple[object, ...]) -> WatchedExit:
    fields = dict(zip(WatchedExit.__struct_fields__, row, strict=True))
    for name in ("tokens", "cost"):
        fields[name] = int(str(fields[name]))
    return msgspec.convert(fields, WatchedExit, strict=False)
