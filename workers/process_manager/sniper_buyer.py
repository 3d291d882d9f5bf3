"""The sniper buyer: fires each matched sniper's buy in the first slot at or after its
pool's open plus `delaySlots`, at `maxPrice` or better, and expires the snipers past
their `expiresAt`.

Every `interval_s` while its gate is set (the sniper matcher holds its lock, so its
table is current) it reads the snipers waiting for their buy (`armed_snipers`), quotes
each matched pool once for all their amounts (one ladder: its context slot is the
chain's slot), and finds the pool's open slot from the chain: the first slot whose
block time (`getBlockTime`) reaches the pool's `open_time`, found by bisection between
the creation and now, once per pool. A sniper whose slot has come and whose quote
meets its `maxPrice` is fired through `commands.fire_trigger` (append at the expected
version under `fire:<order>:<arm>`), so a second buyer or a crash can never fire an arm
twice. The transaction it leads to lands in a later block, never before the open: the
program would refuse it there (`NotApproved`), paying the fee for nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.fire_trigger import Fire, expire_order, fire_triggers
from commands.ports import EventStore, LaunchFeed, QuoteService, VenueRejected
from commands.quote_types import PoolLadder
from db import armed_snipers
from db.armed_snipers import ArmedSniper
from db.retry import Gate, look_while_active
from domain.events import RouteLeg, TriggerFired, TriggerQuote
from domain.routing import VenueUnavailable
from domain.tokens import order_token, token_by_symbol

log = logging.getLogger(__name__)

MAX_WAITING = 5_000
MAX_EXPIRIES = 1_000

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class BuyerFigures:
    """What the buyer did, for logs and the benchmark."""

    fired: int = 0
    expired: int = 0
    fired_at_slot: dict[str, int] = field(default_factory=dict)
    open_slots: dict[str, int] = field(default_factory=dict)  # by pool


class SniperBuyer:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        store: EventStore,
        quotes: QuoteService,
        feed: LaunchFeed,
        *,
        interval_s: float,
        clock: Clock = wall_clock,
        idle_s: float | None = None,
        buying: asyncio.Event | None = None,
    ) -> None:
        self._pool = pool
        self._store = store
        self._quotes = quotes
        self._feed = feed
        self._interval_s = interval_s
        # With no sniper waiting for its buy and none to expire it looks every `idle_s`,
        # or at once when `buying` (set by the matcher after a match commits) says so.
        self._buying = buying
        self._idle_s = max(interval_s, idle_s or 0) if buying else interval_s
        self._clock = clock
        self._fired: dict[str, int] = {}  # order -> arm fired, until the table shows it
        self._quoted_slot: dict[str, int] = {}  # pool -> the last slot it was quoted at
        self.figures = BuyerFigures()

    async def run(self, stop: asyncio.Event, active: Gate) -> None:
        """Look every `interval_s` while `active`, until `stop`."""
        await look_while_active(
            stop,
            active,
            self.look,
            bell=self._buying,
            interval_s=self._interval_s,
            idle_s=self._idle_s,
            log=log,
            what="sniper buy",
        )

    async def look(self) -> bool:
        """Expire what is due and fire the buys due now; False when no sniper waits for
        its buy and none expired (nothing to watch until a match)."""
        now = self._clock()
        async with self._pool.connection() as conn:
            due = await armed_snipers.expired(conn, now, MAX_EXPIRIES)
            waiting = await armed_snipers.awaiting_buy(conn, MAX_WAITING)
        for sniper in due:
            if await expire_order(self._store, sniper.order_id, sniper.generation, now):
                self.figures.expired += 1
        fresh = [s for s in waiting if self._fired.get(s.order_id) != s.generation]
        self._fired = {s.order_id: g for s in waiting if (g := self._fired.get(s.order_id))}
        by_pool: dict[str, list[ArmedSniper]] = {}
        for sniper in fresh:
            assert sniper.matched_pool is not None
            by_pool.setdefault(sniper.matched_pool, []).append(sniper)
        found = await asyncio.gather(*(self._due(p, group) for p, group in by_pool.items()))
        fires = [fire for group in found for fire in group]
        if fires:
            await self._fire(fires)
        return bool(waiting or due)

    async def _due(self, pool: str, snipers: list[ArmedSniper]) -> list[Fire]:
        """The buys of `pool`'s snipers that are due at the chain's slot now."""
        first = snipers[0]
        assert first.token_out is not None
        assert first.token_out_decimals is not None
        token_in = token_by_symbol(first.token_in)
        token_out = order_token(first.token_out, first.token_out_decimals)
        amounts = sorted({sniper.amount_in for sniper in snipers})
        try:
            ladder = await self._quotes.ladder(token_in.mint, token_out.mint, amounts)
        except (VenueRejected, VenueUnavailable) as error:
            # One pool the quoter cannot price now must not hold the others' buys back.
            log.warning("sniper pool not quoted", extra={"pool": pool, "error": str(error)})
            return []
        slot = ladder.context_slot
        if slot <= self._quoted_slot.get(pool, -1):
            return []  # the same slot as the last look
        self._quoted_slot[pool] = slot
        opened = await self._open_slot(pool, first, slot)
        listed = [p for p in ladder.pools if p.amm_key == pool]
        if opened is None or not listed:
            return []
        return [
            fire
            for sniper in snipers
            if slot >= opened + sniper.delay_slots
            and (fire := _fire_of(sniper, listed[0], amounts, slot)) is not None
        ]

    async def _open_slot(self, pool: str, sniper: ArmedSniper, slot: int) -> int | None:
        """The pool's first slot whose block time reaches its open time, once it is `slot`
        or earlier; None while the pool has not opened."""
        known = self.figures.open_slots.get(pool)
        if known is not None:
            return known
        assert sniper.open_time is not None
        assert sniper.creation_slot is not None
        if not await self._is_open(slot, sniper.open_time):
            return None
        low, high = sniper.creation_slot, slot  # the answer is in [low, high]
        while low < high:
            middle = (low + high) // 2
            if await self._is_open(middle, sniper.open_time):
                high = middle
            else:
                low = middle + 1
        self.figures.open_slots[pool] = low
        return low

    async def _is_open(self, slot: int, open_time: int) -> bool:
        block_time = await self._feed.block_time(slot)
        return block_time is not None and block_time >= open_time

    async def _fire(self, fires: list[Fire]) -> None:
        recorded = await fire_triggers(self._store, fires, self._clock())
        for fire in fires:
            if any(isinstance(event, TriggerFired) for event in recorded.get(fire.order_id, ())):
                self._fired[fire.order_id] = fire.generation
                self.figures.fired += 1
                self.figures.fired_at_slot[fire.order_id] = fire.slot
                log.info(
                    "sniper buy fired",
                    extra={"order_id": fire.order_id, "arm": fire.generation, "slot": fire.slot},
                )


def _fire_of(sniper: ArmedSniper, pool: PoolLadder, amounts: list[int], slot: int) -> Fire | None:
    """The fire of `sniper` on `pool`'s quote for its amount; None when the pool does not
    fill it (rugged, drained). Whether the quote meets `maxPrice` the domain decides."""
    point = pool.quotes[amounts.index(sniper.amount_in)]
    out = int(point.out_amount) if point.error is None else 0
    if out <= 0:
        return None
    leg = RouteLeg(
        pool=pool.amm_key,
        venue=pool.venue,
        label=pool.label,
        amount_in=sniper.amount_in,
        amount_out=out,
    )
    quote = TriggerQuote(expected_amount_out=out, price_impact=point.price_impact_pct, legs=(leg,))
    return Fire(sniper.order_id, sniper.generation, slot, quote)
