"""The dispatcher: a checkpointed consumer of the global log whose "read model" is the
broker (DESIGN.md). For each order it keeps the step the order waits for in
`inflight_orders` (same transaction as its checkpoint) and sends that step's message.

    OrderSubmitted (market)     -> waits for admission, then route_and_send(attempt 1)
    RoutingStarted(a)           -> (route_and_send(a) is running)
    RouteSelected(a)            -> resend_transaction(a) (only when not signed in the same append)
    TransactionSigned(a)        -> (route_and_send(a) sends it; resend_transaction(a) if overdue)
    TransactionSent(a)          -> settle_attempt(a): no message, the watcher follows the row
    AttemptFailed(a, will_retry)-> route_and_send(a + 1), delayed by the back-off
    OrderConfirmed, OrderFailed -> forgotten
    OrderArmed, OrderRearmed    -> forgotten: the trigger evaluator watches armed orders
    TriggerFired(generation g)  -> waits for admission, then route_and_send(attempt g):
                                   attempt g follows arm g
    OrderExpired, OrderCancelled-> forgotten (final)
    PositionOpened, ExitTriggered,
    ExitRearmed, PositionClosed -> forgotten: a sniper's exit sells through a child order
                                   (a market order of its own, from OrderSubmitted)

The route step appends RoutingStarted, RouteSelected and TransactionSigned together,
so a batch normally holds the last of them and sends nothing for the order.

An event this engine cannot decode stops its order, loudly: an error log naming the
stream, version and type, a count in `orderengine_undecodable_events`, and its in-flight
row marked stopped, so the sweeper does not re-send its old step for ever.

Messages go out after the checkpoint commits, so no transaction waits on Redis. The
in-flight table is the outbox: every message sent is for a row written in the same
commit, due `RECOVER_AFTER_MS` later, so a crash or a Redis outage between the commit
and the send costs that long, never the step: the sweeper re-sends it once overdue (the
actors are idempotent and absorb duplicates).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial

import msgspec
from psycopg import AsyncConnection

from db.inflight import Tracked, forget, stop, track, wait_for_admission
from db.subscription import AfterCommit
from domain.events import (
    EVENT_TYPES,
    AttemptFailed,
    ExitRearmed,
    ExitTriggered,
    OrderArmed,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderExpired,
    OrderFailed,
    OrderRearmed,
    OrderSubmitted,
    PoolMatched,
    PoolSkipped,
    PositionClosed,
    PositionOpened,
    RouteSelected,
    RoutingStarted,
    TransactionSent,
    TransactionSigned,
    TriggerFired,
    decode_event,
)
from domain.records import RecordedEvent
from domain.streams import ORDER_STREAM_PREFIX, order_id_of
from workers.messages import Outgoing, Publisher, Step, start_messages, step_message
from workers.process_manager.admission import Admission
from workers.process_manager.telemetry import DispatcherTelemetry

log = logging.getLogger(__name__)


class Next(msgspec.Struct, frozen=True):
    """What an order waits for after an event: a step (sent now or already running),
    admission to start `attempt` (`step` None, not final), or nothing more (final)."""

    step: Step | None
    attempt: int = 0
    send: bool = False
    delay_ms: int = 0
    final: bool = False
    signature: str | None = None  # the watcher follows it without reading the order


def next_after(event: OrderEvent) -> Next | None:
    match event:
        case OrderSubmitted(limit_amount_out=None, sniper=None):
            return Next(step=None, attempt=1)
        case RoutingStarted(attempt=attempt):
            return Next(Step.ROUTE, attempt)
        case RouteSelected(attempt=attempt):
            return Next(Step.RESEND, attempt, send=True)
        case TransactionSigned(attempt=attempt):
            return Next(Step.RESEND, attempt)
        case TransactionSent(attempt=attempt):
            return Next(Step.SETTLE, attempt, signature=event.signature)
        case AttemptFailed(attempt=attempt, will_retry=True, retry_after_ms=delay):
            return Next(Step.ROUTE, attempt + 1, send=True, delay_ms=delay)
        case TriggerFired(generation=generation):
            # Each arm ends in one attempt (its failure re-arms), so attempt g is arm g's;
            # it starts once admitted, as a market order does (INFLIGHT_LIMIT holds).
            return Next(step=None, attempt=generation)
        case OrderConfirmed() | OrderFailed() | OrderExpired() | OrderCancelled():
            return Next(step=None, final=True)
        case OrderSubmitted() | OrderArmed() | OrderRearmed() | PoolSkipped() | PoolMatched():
            return Next(step=None, final=True)  # nothing in flight: not the dispatcher's
        case PositionOpened() | ExitTriggered() | ExitRearmed() | PositionClosed():
            # A sniper's exit: its child is an order of its own (the exit watcher's).
            return Next(step=None, final=True)
    return None  # AttemptFailed without retry: OrderFailed follows in the same append


class Dispatcher:
    name = "dispatcher"
    event_types: Sequence[str] | None = tuple(EVENT_TYPES)

    def __init__(
        self,
        publish: Publisher,
        admission: Admission,
        recover_after_ms: int,
        telemetry: DispatcherTelemetry | None = None,
        settling: asyncio.Event | None = None,
    ) -> None:
        self._publish = publish
        # Rung after a commit that gave the confirmation watcher a signature to follow
        # (idle, it waits for that instead of reading the in-flight table every round).
        self._settling = settling
        self._admission = admission
        self._recover_after_ms = recover_after_ms
        self.telemetry = telemetry or DispatcherTelemetry()

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> AfterCommit | None:
        """Record each order's next step in `inflight_orders`; the messages to send once
        that committed."""
        latest, unreadable = _latest_per_order(events)
        waiting = {
            oid: nxt.attempt
            for oid, (nxt, _) in latest.items()
            if nxt.step is None and not nxt.final
        }
        finished = [oid for oid, (nxt, _) in latest.items() if nxt.final]
        moving = {oid: item for oid, item in latest.items() if item[0].step is not None}
        await wait_for_admission(conn, waiting, Step.ROUTE)
        await track(conn, [self._tracked(oid, nxt) for oid, (nxt, _) in moving.items()])
        await forget(conn, finished)
        await stop(conn, {oid: reason for oid, (reason, _) in unreadable.items()})
        for kind in (kind for _, kind in unreadable.values()):
            self.telemetry.undecodable_events.labels(event_type=kind).inc()
        outgoing: Outgoing = [
            (step_message(nxt.step, oid, nxt.attempt, cause), nxt.delay_ms or None)
            for oid, (nxt, cause) in moving.items()
            if nxt.send and nxt.step is not None
        ]
        if waiting or finished:
            admitted = await self._admission.admit(conn)
            started = [(oid, attempt) for oid, _, attempt in admitted]
            outgoing += [(message, None) for message in start_messages(started, "admitted")]
        to_settle = any(nxt.step is Step.SETTLE for nxt, _ in moving.values())
        if to_settle and self._settling is not None:
            return partial(self._after, outgoing, self._settling)
        return partial(self._publish, outgoing) if outgoing else None

    async def _after(self, outgoing: Outgoing, settling: asyncio.Event) -> None:
        settling.set()
        if outgoing:
            await self._publish(outgoing)

    def _tracked(self, order_id: str, nxt: Next) -> Tracked:
        assert nxt.step is not None
        due_in_ms = nxt.delay_ms + self._recover_after_ms
        return Tracked(order_id, nxt.step.value, nxt.attempt, due_in_ms, nxt.signature)


def _latest_per_order(
    events: list[RecordedEvent],
) -> tuple[dict[str, tuple[Next, str]], dict[str, tuple[str, str]]]:
    """Each order's last decisive event in the batch (earlier ones are superseded), and
    the orders stopped by an event that cannot be decoded (why, and its type). A stopped
    order moves no further; only a final event after it ends it as usual."""
    latest: dict[str, tuple[Next, str]] = {}
    unreadable: dict[str, tuple[str, str]] = {}
    for recorded in events:
        if not recorded.stream_id.startswith(ORDER_STREAM_PREFIX):
            continue
        order_id = order_id_of(recorded.stream_id)
        try:
            event = decode_event(recorded.event_type, recorded.data)
        except (KeyError, msgspec.DecodeError) as error:
            unreadable[order_id] = (_undecodable(recorded, error), recorded.event_type)
            latest.pop(order_id, None)
            continue
        nxt = next_after(event)
        if nxt is None or (order_id in unreadable and not nxt.final):
            continue
        unreadable.pop(order_id, None)
        latest[order_id] = (nxt, recorded.event_id)
    return latest, unreadable


def _undecodable(recorded: RecordedEvent, error: Exception) -> str:
    reason = (
        f"event {recorded.event_type} at version {recorded.stream_version} of stream"
        f" {recorded.stream_id} cannot be decoded: {error}"
    )
    log.error(
        "undecodable event; order stopped: %s",
        reason,
        extra={
            "stream_id": recorded.stream_id,
            "version": recorded.stream_version,
            "event_type": recorded.event_type,
            "event_id": recorded.event_id,
        },
    )
    return reason
