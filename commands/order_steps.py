"""Engine steps on an order: reload, decide, append at the expected version.

Every step is idempotent. Its command id is derived from the order, the step and the
attempt, and its events' ids from the command id, so a redelivered message either
decides nothing (the state shows the step done) or loses the append race (a
`ConcurrencyConflict`, or the command table answering "already done").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from commands.envelopes import wrap_events
from commands.ports import EventStore
from domain.commands import OrderCommand
from domain.events import OrderEvent, decode_event
from domain.order import decide
from domain.order_state import OrderState, evolve, fold
from domain.records import ConcurrencyConflict, EventMetadata
from domain.streams import order_id_of, order_stream

log = logging.getLogger(__name__)


async def load_order(store: EventStore, order_id: str) -> OrderState | None:
    """The order folded from its stream (None when it does not exist)."""
    recorded = await store.read_stream(order_stream(order_id))
    return fold(decode_event(event.event_type, event.data) for event in recorded)


async def load_orders(store: EventStore, order_ids: Sequence[str]) -> dict[str, OrderState]:
    """Each existing order's state, by order id, from one read of the store.

    The states are only where deciding starts: each outcome is still appended at the
    version read here, so an order that moved on meanwhile is a conflict, not a double.
    """
    streams = await store.read_streams([order_stream(order_id) for order_id in order_ids])
    states = {
        order_id_of(stream_id): fold(decode_event(e.event_type, e.data) for e in recorded)
        for stream_id, recorded in streams.items()
    }
    return {order_id: state for order_id, state in states.items() if state is not None}


def decide_all(state: OrderState, commands: Sequence[OrderCommand]) -> list[OrderEvent]:
    """The events of several commands decided one after the other on `state`."""
    events: list[OrderEvent] = []
    current = state
    for command in commands:
        decided = decide(current, command)
        for event in decided:
            current = evolve(current, event)
        events.extend(decided)
    return events


async def record(
    store: EventStore, state: OrderState, events: Sequence[OrderEvent], command_id: str
) -> OrderState | None:
    """Append `events` after `state`; the new state, or None when someone else got
    there first (the step is then theirs, and the dispatcher sees their events)."""
    if not events:
        return None
    metadata = EventMetadata(command_id=command_id, correlation_id=state.order_id, actor="engine")
    wrapped = wrap_events(events, metadata, deterministic_ids=True)
    try:
        result = await store.append(
            order_stream(state.order_id), state.version, wrapped, command_id=command_id
        )
    except ConcurrencyConflict:
        log.info("step already taken", extra={"order_id": state.order_id, "command": command_id})
        return None
    if result.duplicate:
        return None
    new_state = state
    for event in events:
        new_state = evolve(new_state, event)
    log.info(
        "recorded",
        extra={
            "order_id": state.order_id,
            "events": ",".join(type(event).__name__ for event in events),
            "version": new_state.version,
        },
    )
    return new_state


def command_id(step: str, order_id: str, attempt: int) -> str:
    """The deterministic id of an engine step: one per order, step and attempt."""
    return f"{step}:{order_id}:{attempt}"
