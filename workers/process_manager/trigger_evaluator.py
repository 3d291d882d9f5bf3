"""The trigger evaluator: on every new slot, fire the armed limit orders the market
now meets, and expire those past their `expiresAt` (DESIGN.md, "Orders that wait").

It keeps no state that matters: the armed orders are `armed_orders`, kept by its
checkpointed projection (`armed_orders_projection.py`), so a restarted evaluator
knows them all at once. Each look reads which directions have armed orders and the
expired ones (index scans); on a new slot it bounds each direction's best rate
(`trigger_quotes.probe`), reads the orders within the bound, quotes only those, and
fires the met ones through `commands.fire_trigger` (one read of their streams per
batch): each an append at the order's expected version under a command id of its arm,
so a second evaluator, a crash between quote and append, or a stale table row can
never fire an arm twice.
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
from commands.ports import EventStore, QuoteService
from db import armed_orders
from db.armed_orders import ArmedOrder
from db.retry import Gate, look_while_active
from domain.events import TriggerFired
from domain.tokens import PAIRS, token_by_symbol
from workers.process_manager.trigger_quotes import Met, Probe, orders_met, probe

log = logging.getLogger(__name__)

DIRECTIONS = sorted((a, b) for pair in PAIRS for a in pair for b in pair if a != b)
# Orders quoted per direction and slot at most; the rest (the least in the money)
# wait one slot more. Expiries handled per look at most.
MAX_CANDIDATES = 5_000
MAX_EXPIRIES = 1_000
# Orders fired together: one read of their streams, then their appends at once (the
# store groups concurrent appends into one round trip). Expiries at once.
FIRE_BATCH = 256
EXPIRE_CONCURRENCY = 64

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class EvaluatorFigures:
    """What the evaluator did, for logs and the benchmark."""

    slots: int = 0
    quoted: int = 0
    fired: int = 0
    expired: int = 0
    last_slot: int = 0
    fired_at_slot: dict[str, int] = field(default_factory=dict)


class TriggerEvaluator:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        store: EventStore,
        quotes: QuoteService,
        *,
        max_legs: int,
        interval_s: float,
        clock: Clock = wall_clock,
        idle_s: float | None = None,
        armed: asyncio.Event | None = None,
    ) -> None:
        self._pool = pool
        self._store = store
        self._quotes = quotes
        self._max_legs = max_legs
        self._interval_s = interval_s
        # With nothing armed there is no slot to watch: it looks every `idle_s`, or at
        # once when `armed` (set by the projection after it commits an arm) says so.
        self._armed = armed
        self._idle_s = max(interval_s, idle_s or 0) if armed else interval_s
        self._clock = clock
        self._fired: dict[str, int] = {}  # order -> arm fired, until the table shows it
        self._directions: list[tuple[str, str]] = []  # with armed orders, at the last slot
        self._appends = asyncio.Semaphore(EXPIRE_CONCURRENCY)
        self.figures = EvaluatorFigures()

    async def run(self, stop: asyncio.Event, active: Gate) -> None:
        """Look every `interval_s` while `active` (this process's projection holds its
        lock, so its table is current), until `stop`."""
        await look_while_active(
            stop,
            active,
            self.look,
            bell=self._armed,
            interval_s=self._interval_s,
            idle_s=self._idle_s,
            log=log,
            what="trigger evaluation",
        )

    async def look(self) -> bool:
        """Expire what is due; on a new slot, fire what the market meets. Between slots
        a look costs one quote (is there a new slot?) and one index scan (expiries).
        False when nothing is armed (nothing to watch until an arm)."""
        now = self._clock()
        async with self._pool.connection() as conn:
            due = await armed_orders.expired(conn, now, MAX_EXPIRIES)
            if not self._directions:
                self._directions = await armed_orders.armed_directions(conn, DIRECTIONS)
        if due:
            await asyncio.gather(*(self._expire(order, now) for order in due))
        if not self._directions:
            return bool(due)
        first = await self._probe(self._directions[0])
        if first.slot <= self.figures.last_slot:
            return True  # the same slot: the market has not moved
        async with self._pool.connection() as conn:
            self._directions = directions = await armed_orders.armed_directions(conn, DIRECTIONS)
        if not directions:
            return bool(due)
        probes = await asyncio.gather(*(self._probe(d) for d in directions))
        self.figures.last_slot = max(p.slot for p in probes)
        self.figures.slots += 1
        bounds = [(d[0], d[1], p.bound) for d, p in zip(directions, probes, strict=True)]
        async with self._pool.connection() as conn:
            found = await armed_orders.candidates(conn, bounds, MAX_CANDIDATES)
        fresh = [o for o in found if self._fired.get(o.order_id) != o.generation]
        self._fired = {o.order_id: g for o in found if (g := self._fired.get(o.order_id))}
        if fresh:
            await self._fire_met(fresh)
        return True

    async def _probe(self, direction: tuple[str, str]) -> Probe:
        return await probe(
            self._quotes, token_by_symbol(direction[0]), token_by_symbol(direction[1])
        )

    async def _fire_met(self, orders: list[ArmedOrder]) -> None:
        by_direction: dict[tuple[str, str], list[ArmedOrder]] = {}
        for order in orders:
            by_direction.setdefault((order.token_in, order.token_out), []).append(order)
        self.figures.quoted += len(orders)
        met_lists = await asyncio.gather(
            *(
                orders_met(
                    self._quotes, token_by_symbol(a), token_by_symbol(b), group, self._max_legs
                )
                for (a, b), group in by_direction.items()
            )
        )
        mets = [met for found in met_lists for met in found]
        for start in range(0, len(mets), FIRE_BATCH):
            await self._fire(mets[start : start + FIRE_BATCH])

    async def _fire(self, mets: list[Met]) -> None:
        fires = [Fire(m.order.order_id, m.order.generation, m.slot, m.quote) for m in mets]
        recorded = await fire_triggers(self._store, fires, self._clock())
        for fire in fires:
            self._fired[fire.order_id] = fire.generation
            if any(isinstance(event, TriggerFired) for event in recorded.get(fire.order_id, ())):
                self.figures.fired += 1
                self.figures.fired_at_slot[fire.order_id] = fire.slot
                log.info(
                    "trigger fired",
                    extra={
                        "order_id": fire.order_id,
                        "generation": fire.generation,
                        "slot": fire.slot,
                    },
                )

    async def _expire(self, order: ArmedOrder, now: datetime) -> None:
        async with self._appends:
            events = await expire_order(self._store, order.order_id, order.generation, now)
        if events:
            self.figures.expired += 1
            log.info("order expired", extra={"order_id": order.order_id})
