"""The exit watcher: each slot, a sale quote of every held sniper position; a rule that
fires (take profit, stop loss, maximum hold) creates the one child market order that
sells the whole position, and the parent ends when its child does.

Every `interval_s` while its gate is set (the sniper matcher holds its lock, so
`sniper_exits` is current) it reads the watched positions, quotes each launched token
once for all the held amounts (one ladder through the `QuoteService` port: its context
slot is the chain's slot), and only on a new slot decides each position's rules, first
here on the table's terms, then in the domain on the reloaded order
(`commands.exit_position`). It follows the exiting ones every look: a missing child
(a crash after the parent's `ExitTriggered`) is created, a final child ends its
parent. With nothing held it waits for the matcher's bell (a position opened or an
exit moved), or `idle_s` ("Idle means idle", docs/architecture.md).

A position whose token nothing quotes any more (a rugged or drained pool: no pool in
the ladder, or every point an error) is worth 0: its stop loss fires.
"""

from __future__ import annotations

import asyncio
import logging

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.exit_position import ExitLook, follow_exits, trigger_exits
from commands.ports import EventStore, QuoteService, VenueRejected
from commands.quote_types import Ladder
from db import sniper_exits
from db.retry import Gate, look_while_active
from db.sniper_exits import WatchedExit
from domain.exit_terms import exit_reason
from domain.routing import VenueUnavailable
from domain.tokens import order_token, token_by_symbol

log = logging.getLogger(__name__)

MAX_WATCHED = 5_000


class ExitWatcher:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        store: EventStore,
        quotes: QuoteService,
        *,
        interval_s: float,
        idle_s: float | None = None,
        holding: asyncio.Event | None = None,
    ) -> None:
        self._pool = pool
        self._store = store
        self._quotes = quotes
        self._interval_s = interval_s
        self._holding = holding
        self._idle_s = max(interval_s, idle_s or 0) if holding else interval_s
        self._quoted_slot: dict[str, int] = {}  # launched mint -> the last slot quoted
        self.triggered = 0  # exits this watcher recorded first
        self.created = 0  # children this watcher created
        self.settled = 0  # parents this watcher ended or re-armed

    async def run(self, stop: asyncio.Event, active: Gate) -> None:
        """Look every `interval_s` while `active` and something is held, until `stop`."""
        await look_while_active(
            stop,
            active,
            self.look,
            bell=self._holding,
            interval_s=self._interval_s,
            idle_s=self._idle_s,
            log=log,
            what="exit watch",
        )

    async def look(self) -> bool:
        """One look at every watched position; False when none is held or exiting."""
        async with self._pool.connection() as conn:
            watched = await sniper_exits.watched(conn, MAX_WATCHED)
        if not watched:
            self._quoted_slot.clear()
            return False
        held: dict[str, list[WatchedExit]] = {}
        for position in watched:
            if position.status == sniper_exits.HOLDING:
                held.setdefault(position.token_out, []).append(position)
        found = await asyncio.gather(*(self._looks(group) for group in held.values()))
        looks = [look for group in found for look in group]
        fired = await trigger_exits(self._store, looks) if looks else {}
        for order_id, event in fired.items():
            self.triggered += 1
            log.info(
                "exit triggered",
                extra={"order_id": order_id, "reason": event.reason, "slot": event.slot},
            )
        exiting = [p.order_id for p in watched if p.status == sniper_exits.EXITING]
        followed = await follow_exits(self._store, [*exiting, *fired])
        self.created += len(followed.created)
        self.settled += len(followed.settled)
        return True

    async def _looks(self, positions: list[WatchedExit]) -> list[ExitLook]:
        """The looks of one launched token's held positions whose rule fires now."""
        first = positions[0]
        token = order_token(first.token_out, first.token_out_decimals)
        proceeds = token_by_symbol(first.token_in)
        amounts = sorted({position.tokens for position in positions})
        try:
            ladder = await self._quotes.ladder(token.mint, proceeds.mint, amounts)
        except (VenueRejected, VenueUnavailable) as error:
            log.warning("exit not quoted", extra={"mint": token.mint, "error": str(error)})
            return []
        slot = ladder.context_slot
        if slot <= self._quoted_slot.get(token.mint, -1):
            return []  # the same slot as the last look
        self._quoted_slot[token.mint] = slot
        looks = []
        for position in positions:
            value = _sale_value(ladder, amounts.index(position.tokens))
            reason = exit_reason(position.terms, position.cost, value, slot, position.entry_slot)
            if reason is not None:
                looks.append(ExitLook(position.order_id, position.generation, slot, value))
        return looks


def _sale_value(ladder: Ladder, index: int) -> int:
    """The best any pool gives for the amount at `index` (0: none buys it)."""
    outs = [
        int(pool.quotes[index].out_amount)
        for pool in ladder.pools
        if pool.quotes[index].error is None
    ]
    return max(outs, default=0)
