"""The sniper matcher: a checkpointed consumer of the log that keeps `armed_snipers`
(db/armed_snipers.py) and judges every new pool against the snipers armed before it.

    OrderSubmitted (sniper)          -> its row (unarmed)
    OrderArmed(g), OrderRearmed(g)   -> arm g
    PoolMatched                      -> the pool, its token and open time
    TriggerFired(g)                  -> arm g's buy is fired
    OrderConfirmed, OrderFailed,
    OrderExpired, OrderCancelled     -> forgotten
    PositionOpened, ExitTriggered,   -> the position and its exit arm in `sniper_exits`
    ExitRearmed                         (db/sniper_exits.py), for the exit watcher;
    PositionClosed, OrderFailed, ...    forgotten there when the order is final
    PoolLaunched                     -> `commands.match_launch` for every unmatched
                                        sniper spending the pool's quote token

Every order's events come (a sniper is known only by its submission), but only a
sniper's cost a statement: each batch first looks up which of its orders are in either
table (`_snipers_among`), and skips the rest.

Both kinds come through one consumer, in the log's order, so a sniper armed before a
pool's record is always judged for it, after any crash. The judgements are appended
inside the batch's transaction, before its checkpoint: a crash before the commit
judges the pool again, and the command ids absorb what was already recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import msgspec
from psycopg import AsyncConnection

from commands.match_launch import match_launch
from commands.ports import EventStore
from db import armed_snipers, sniper_exits
from db.subscription import AfterCommit
from domain.events import (
    ExitRearmed,
    ExitTriggered,
    OrderArmed,
    OrderCancelled,
    OrderConfirmed,
    OrderExpired,
    OrderFailed,
    OrderRearmed,
    OrderSubmitted,
    PoolMatched,
    PositionClosed,
    PositionOpened,
    TriggerFired,
    decode_event,
)
from domain.launches import POOL_STREAM_PREFIX, PoolLaunched, decode_launch
from domain.records import RecordedEvent
from domain.streams import ORDER_STREAM_PREFIX, order_id_of
from domain.tokens import TOKENS

log = logging.getLogger(__name__)

_FINAL = (OrderConfirmed, OrderFailed, OrderExpired, OrderCancelled)
_EXITS = (PositionOpened, ExitTriggered, ExitRearmed, PositionClosed)
_TYPES = (OrderSubmitted, OrderArmed, OrderRearmed, PoolMatched, TriggerFired, *_FINAL, *_EXITS)
_SYMBOL_OF_MINT = {token.mint: token.symbol for token in TOKENS}

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class SniperMatcher:
    name = "sniper_matcher"
    event_types: Sequence[str] | None = (*(kind.__name__ for kind in _TYPES), "PoolLaunched")

    def __init__(self, store: EventStore, clock: Clock = wall_clock) -> None:
        self._store = store
        self._clock = clock
        self.matched = 0  # snipers this matcher matched first
        self.skipped = 0
        # Set once a batch that gave a sniper a buy to wait for committed: the buyer,
        # idle while none waits, looks at once.
        self.buying = asyncio.Event()
        # Likewise for the exit watcher, once a position is held or its exit moved.
        self.holding = asyncio.Event()

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> AfterCommit | None:
        buys = exits = False
        snipers = await _snipers_among(conn, events)
        for recorded in events:
            if recorded.stream_id.startswith(POOL_STREAM_PREFIX):
                await self._judge(conn, decode_launch(recorded.data))
            elif recorded.stream_id.startswith(ORDER_STREAM_PREFIX):
                # Only a submission says whether an order is a sniper; the events of
                # any other order would each cost a statement that changes nothing.
                order_id = order_id_of(recorded.stream_id)
                if recorded.event_type != _SUBMITTED and order_id not in snipers:
                    continue
                buys = await self._order_event(conn, recorded, snipers) or buys
                exits = exits or recorded.event_type in _EXIT_NAMES
        if not (buys or exits):
            return None

        async def wake() -> None:
            if buys:
                self.buying.set()
            if exits:
                self.holding.set()

        return wake

    async def _order_event(
        self, conn: AsyncConnection, recorded: RecordedEvent, snipers: set[str]
    ) -> bool:
        """Apply one order event; True when it gives a matched sniper a buy to wait for.
        A sniper's submission adds it to `snipers`, for the rest of its batch."""
        try:
            event = decode_event(recorded.event_type, recorded.data)
        except (KeyError, msgspec.ValidationError):
            log.warning("undecodable event skipped", extra={"event_id": recorded.event_id})
            return False
        order_id = order_id_of(recorded.stream_id)
        if isinstance(event, (*_EXITS, *_FINAL, OrderSubmitted, PoolMatched)):
            await _exit_event(conn, order_id, event)
        match event:
            case OrderSubmitted(sniper=terms) if terms is not None:
                assert event.expires_at is not None
                snipers.add(order_id)
                await armed_snipers.insert_sniper(
                    conn,
                    order_id,
                    event.token_in,
                    event.amount_in,
                    event.expires_at,
                    terms.delay_slots,
                )
            case OrderArmed(generation=generation) | OrderRearmed(generation=generation):
                await armed_snipers.arm(conn, order_id, generation)
                return isinstance(event, OrderRearmed)
            case PoolMatched():
                await armed_snipers.matched(
                    conn,
                    order_id,
                    event.pool,
                    event.token_out,
                    event.token_out_decimals,
                    event.open_time,
                    event.slot,
                )
                return True
            case TriggerFired(generation=generation):
                await armed_snipers.fired(conn, order_id, generation)
            case _ if isinstance(event, _FINAL):
                await armed_snipers.forget(conn, order_id)
        return False

    async def _judge(self, conn: AsyncConnection, launch: PoolLaunched) -> None:
        token_in = _SYMBOL_OF_MINT.get(launch.quote_mint)
        if token_in is None:
            return
        waiting = await armed_snipers.unmatched(conn, token_in)
        if not waiting:
            return
        arms = [(sniper.order_id, sniper.generation) for sniper in waiting]
        recorded = await match_launch(self._store, launch, arms, self._clock())
        for order_id, decided in recorded.items():
            if any(isinstance(event, PoolMatched) for event in decided):
                self.matched += 1
                log.info("sniper matched", extra={"order_id": order_id, "pool": launch.pool})
            elif decided:
                self.skipped += 1


_EXIT_NAMES = frozenset(kind.__name__ for kind in _EXITS)
_SUBMITTED = OrderSubmitted.__name__


async def _snipers_among(conn: AsyncConnection, events: list[RecordedEvent]) -> set[str]:
    """The snipers (armed, or holding a position with an exit) among the orders whose
    events other than a submission are in `events`, as the tables hold them in this
    batch's transaction: one lookup per table for the whole batch."""
    order_ids = sorted(
        {
            order_id_of(e.stream_id)
            for e in events
            if e.stream_id.startswith(ORDER_STREAM_PREFIX) and e.event_type != _SUBMITTED
        }
    )
    if not order_ids:
        return set()
    return await armed_snipers.among(conn, order_ids) | await sniper_exits.among(conn, order_ids)


async def _exit_event(conn: AsyncConnection, order_id: str, event: object) -> None:
    """Keep `sniper_exits`: a sniper with exit terms from its submission until final."""
    match event:
        case OrderSubmitted(sniper=terms) if terms is not None and terms.exit is not None:
            await sniper_exits.insert_exit(conn, order_id, event.token_in, terms.exit)
        case PoolMatched():
            await sniper_exits.matched(conn, order_id, event.token_out, event.token_out_decimals)
        case PositionOpened():
            await sniper_exits.opened(conn, order_id, event.tokens, event.cost, event.slot)
        case ExitTriggered():
            await sniper_exits.exiting(conn, order_id, event.generation, event.exit_order_id)
        case ExitRearmed(generation=generation):
            await sniper_exits.rearmed(conn, order_id, generation)
        case PositionClosed() | OrderFailed() | OrderExpired() | OrderCancelled():
            await sniper_exits.forget(conn, order_id)
