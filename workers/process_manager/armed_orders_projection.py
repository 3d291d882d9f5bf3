"""The armed-orders projection: a checkpointed consumer of the global log that keeps
`armed_orders` (db/armed_orders.py) true, so the trigger evaluator knows every armed
order after any crash without replaying anything itself.

    OrderSubmitted (limit)           -> its terms, not armed yet
    OrderArmed(g), OrderRearmed(g)   -> armed, arm g
    TriggerFired(g)                  -> not armed (arm g fired; the market path runs)
    OrderConfirmed, OrderFailed,
    OrderExpired, OrderCancelled     -> forgotten
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import msgspec
from psycopg import AsyncConnection

from db.armed_orders import ArmChange, ArmedOrder, change_arms, forget, insert_terms
from db.subscription import AfterCommit
from domain.events import (
    OrderArmed,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderExpired,
    OrderFailed,
    OrderRearmed,
    OrderSubmitted,
    TriggerFired,
    decode_event,
)
from domain.records import RecordedEvent
from domain.streams import ORDER_STREAM_PREFIX, order_id_of

log = logging.getLogger(__name__)

_FINAL = (OrderConfirmed, OrderFailed, OrderExpired, OrderCancelled)
_TYPES = (OrderSubmitted, OrderArmed, TriggerFired, OrderRearmed, *_FINAL)


class ArmedOrdersProjection:
    name = "armed_orders"
    event_types: Sequence[str] | None = tuple(kind.__name__ for kind in _TYPES)

    def __init__(self) -> None:
        # Set once an arm is committed: the trigger evaluator, idle while nothing is
        # armed, looks at once.
        self.armed = asyncio.Event()

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> AfterCommit | None:
        terms: list[ArmedOrder] = []
        changes: dict[str, ArmChange] = {}
        finished: set[str] = set()
        for order_id, event in _order_events(events):
            match event:
                case OrderSubmitted(limit_amount_out=int()):
                    terms.append(_terms(event))
                case OrderArmed(generation=generation) | OrderRearmed(generation=generation):
                    changes[order_id] = ArmChange(order_id, generation, armed=True)
                case TriggerFired(generation=generation):
                    changes[order_id] = ArmChange(order_id, generation, armed=False)
                case _ if isinstance(event, _FINAL):
                    finished.add(order_id)
        await insert_terms(conn, [t for t in terms if t.order_id not in finished])
        arms = [c for c in changes.values() if c.order_id not in finished]
        await change_arms(conn, arms)
        await forget(conn, sorted(finished))
        if not any(change.armed for change in arms):
            return None

        async def say_armed() -> None:
            self.armed.set()

        return say_armed


def _terms(event: OrderSubmitted) -> ArmedOrder:
    assert event.limit_amount_out is not None
    assert event.expires_at is not None
    return ArmedOrder(
        order_id=event.order_id,
        generation=0,
        token_in=event.token_in,
        token_out=event.token_out,
        amount_in=event.amount_in,
        limit_amount_out=event.limit_amount_out,
        expires_at=event.expires_at,
    )


def _order_events(events: list[RecordedEvent]) -> list[tuple[str, OrderEvent]]:
    decoded: list[tuple[str, OrderEvent]] = []
    for recorded in events:
        if not recorded.stream_id.startswith(ORDER_STREAM_PREFIX):
            continue
        try:
            event = decode_event(recorded.event_type, recorded.data)
        except (KeyError, msgspec.ValidationError):
            log.warning("undecodable event skipped", extra={"event_id": recorded.event_id})
            continue
        decoded.append((order_id_of(recorded.stream_id), event))
    return decoded
