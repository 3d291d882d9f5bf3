"""An order's snapshot: the domain's fold of its events plus when things happened.

`advance` is the one fold every reader uses: the projector (row by row), the replay
(in memory), `?atVersion=N` and the tests, so they cannot disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

import msgspec

from domain.events import EVENT_TYPES, OrderSubmitted, decode_event
from domain.order_state import OrderState, evolve
from domain.records import GlobalPosition, RecordedEvent, actor_of
from domain.streams import ORDER_STREAM_PREFIX, order_id_of

log = logging.getLogger(__name__)


class OrderSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    state: OrderState
    submitted: GlobalPosition
    status_since: datetime
    created_at: datetime
    updated_at: datetime
    owner: str | None = None  # the API key that submitted the order (its actor)


class StageTime(msgspec.Struct, frozen=True):
    """Time an order spent in `stage` (a status it left, or `total` once final)."""

    stage: str
    micros: int


def is_order_event(event: RecordedEvent) -> bool:
    """Order events only: the log may also hold other streams' (tests, other tools)."""
    return event.event_type in EVENT_TYPES and event.stream_id.startswith(ORDER_STREAM_PREFIX)


def advance(
    snapshot: OrderSnapshot | None, event: RecordedEvent
) -> tuple[OrderSnapshot | None, list[StageTime]]:
    """The snapshot after `event`, and the stage times it completes.

    Events already folded (version <= the snapshot's) change nothing, so applying a
    batch twice is harmless; an event that cannot follow (a step before the order
    was submitted) is logged and skipped rather than stopping every reader."""
    version = snapshot.state.version if snapshot else 0
    if event.stream_version <= version:
        return snapshot, []
    decoded = decode_event(event.event_type, event.data)
    if (snapshot is None) != isinstance(decoded, OrderSubmitted):
        log.error(
            "event cannot follow the order's history; skipped",
            extra={"order_id": order_id_of(event.stream_id), "version": event.stream_version},
        )
        return snapshot, []
    at = event.recorded_at
    if snapshot is None:
        state = evolve(None, decoded)
        submitted = GlobalPosition(event.tx_id, event.global_position)
        first = OrderSnapshot(
            state=state,
            submitted=submitted,
            status_since=at,
            created_at=at,
            updated_at=at,
            owner=actor_of(event),
        )
        return first, []
    state = evolve(snapshot.state, decoded)
    times = _stage_times(snapshot, state, at)
    since = at if state.status != snapshot.state.status else snapshot.status_since
    return OrderSnapshot(
        state=state,
        submitted=snapshot.submitted,
        status_since=since,
        created_at=snapshot.created_at,
        updated_at=at,
        owner=snapshot.owner,
    ), times


def _stage_times(before: OrderSnapshot, state: OrderState, at: datetime) -> list[StageTime]:
    if state.status == before.state.status:
        return []
    times = [StageTime(str(before.state.status), _micros(at - before.status_since))]
    if state.is_final:
        times.append(StageTime("total", _micros(at - before.created_at)))
    return times


_MICROSECOND = timedelta(microseconds=1)


def _micros(elapsed: timedelta) -> int:
    return max(0, elapsed // _MICROSECOND)


def fold_snapshot(events: Iterable[RecordedEvent]) -> OrderSnapshot | None:
    """One order's snapshot after `events` (its stream, oldest first)."""
    snapshot: OrderSnapshot | None = None
    for event in events:
        if is_order_event(event):
            snapshot, _ = advance(snapshot, event)
    return snapshot
