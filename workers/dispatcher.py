"""The dispatcher: a checkpointed consumer of the global log whose "read model" is the
broker (DESIGN.md). For each order it keeps the step the order waits for in
`inflight_orders` (same transaction as its checkpoint) and sends that step's message.

    OrderSubmitted              -> waits for admission, then route_order(attempt 1)
    RoutingStarted(a)           -> (route_order(a) is running)
    RouteSelected(a)            -> execute_order(a) (only when not signed in the same append)
    TransactionSigned(a)        -> (route_order(a) sends it; execute_order(a) if overdue)
    TransactionSent(a)          -> follow_order(a): no message, the watcher follows the row
    AttemptFailed(a, will_retry)-> route_order(a + 1), delayed by the back-off
    OrderConfirmed, OrderFailed -> forgotten

The route step appends RoutingStarted, RouteSelected and TransactionSigned together,
so a batch normally holds the last of them and sends nothing for the order.

Messages go out before the checkpoint commits, so a crash re-sends them: the actors
are idempotent and absorb the duplicates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import dramatiq
import msgspec
from psycopg import AsyncConnection

from db.inflight import Tracked, forget, track, wait_for_admission
from domain.events import (
    EVENT_TYPES,
    AttemptFailed,
    OrderConfirmed,
    OrderEvent,
    OrderFailed,
    OrderSubmitted,
    RouteSelected,
    RoutingStarted,
    TransactionSent,
    TransactionSigned,
    decode_event,
)
from domain.records import RecordedEvent
from domain.streams import ORDER_STREAM_PREFIX, order_id_of
from workers.admission import Admission
from workers.broker import PipelinedRedisBroker
from workers.messages import Step, start_messages, step_message

log = logging.getLogger("workers.dispatcher")

# (message, delay in ms or None) pairs, sent in one go.
Outgoing = list[tuple["dramatiq.Message[Any]", int | None]]
Publisher = Callable[[Outgoing], Awaitable[None]]


class Next(msgspec.Struct, frozen=True):
    """What an order waits for after an event: a step (sent now or already running),
    admission (`step` None, not final), or nothing more (final)."""

    step: Step | None
    attempt: int = 0
    send: bool = False
    delay_ms: int = 0
    final: bool = False
    signature: str | None = None  # the watcher follows it without reading the order


def next_after(event: OrderEvent) -> Next | None:
    match event:
        case OrderSubmitted():
            return Next(step=None)
        case RoutingStarted(attempt=attempt):
            return Next(Step.ROUTE, attempt)
        case RouteSelected(attempt=attempt):
            return Next(Step.EXECUTE, attempt, send=True)
        case TransactionSigned(attempt=attempt):
            return Next(Step.EXECUTE, attempt)
        case TransactionSent(attempt=attempt):
            return Next(Step.FOLLOW, attempt, signature=event.signature)
        case AttemptFailed(attempt=attempt, will_retry=True, retry_after_ms=delay):
            return Next(Step.ROUTE, attempt + 1, send=True, delay_ms=delay)
        case OrderConfirmed() | OrderFailed():
            return Next(step=None, final=True)
    return None  # AttemptFailed without retry: OrderFailed follows in the same append


class Dispatcher:
    name = "dispatcher"
    event_types: Sequence[str] | None = tuple(EVENT_TYPES)

    def __init__(self, publish: Publisher, admission: Admission, recover_after_ms: int) -> None:
        self._publish = publish
        self._admission = admission
        self._recover_after_ms = recover_after_ms

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        latest = _latest_per_order(events)
        waiting = [oid for oid, (nxt, _) in latest.items() if nxt.step is None and not nxt.final]
        finished = [oid for oid, (nxt, _) in latest.items() if nxt.final]
        moving = {oid: item for oid, item in latest.items() if item[0].step is not None}
        await wait_for_admission(conn, waiting, Step.ROUTE)
        await track(conn, [self._tracked(oid, nxt) for oid, (nxt, _) in moving.items()])
        await forget(conn, finished)
        outgoing: Outgoing = [
            (step_message(nxt.step, oid, nxt.attempt, cause), nxt.delay_ms or None)
            for oid, (nxt, cause) in moving.items()
            if nxt.send and nxt.step is not None
        ]
        if waiting or finished:
            admitted = await self._admission.admit(conn)
            admitted_ids = [oid for oid, _, _ in admitted]
            outgoing += [(message, None) for message in start_messages(admitted_ids, "admitted")]
        if outgoing:
            await self._publish(outgoing)

    def _tracked(self, order_id: str, nxt: Next) -> Tracked:
        assert nxt.step is not None
        due_in_ms = nxt.delay_ms + self._recover_after_ms
        return Tracked(order_id, nxt.step.value, nxt.attempt, due_in_ms, nxt.signature)


def _latest_per_order(events: list[RecordedEvent]) -> dict[str, tuple[Next, str]]:
    """Each order's last decisive event in the batch (earlier ones are superseded)."""
    latest: dict[str, tuple[Next, str]] = {}
    for recorded in events:
        if not recorded.stream_id.startswith(ORDER_STREAM_PREFIX):
            continue
        try:
            event = decode_event(recorded.event_type, recorded.data)
        except (KeyError, msgspec.ValidationError):
            log.warning("undecodable event skipped", extra={"event_id": recorded.event_id})
            continue
        nxt = next_after(event)
        if nxt is not None:
            latest[order_id_of(recorded.stream_id)] = (nxt, recorded.event_id)
    return latest


def broker_publisher(broker: PipelinedRedisBroker) -> Publisher:
    """Send messages from a thread (the Redis client blocks), all in one round trip."""

    async def publish(outgoing: Outgoing) -> None:
        await asyncio.to_thread(broker.enqueue_all, outgoing)

    return publish
