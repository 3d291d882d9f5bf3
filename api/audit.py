"""`GET /api/events`: the global audit log in commit order, paged by opaque cursor."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.authentication import caller_of
from api.presenting import OrderPair, pair_of_submission, present_event
from api.problems import ApiError, problem_responses
from api.schemas import AuditEventView, AuditPage
from api.services import EventLog
from db.cursor import decode_cursor, encode_cursor
from domain.events import EVENT_TYPES
from domain.records import START, GlobalPosition, RecordedEvent
from domain.streams import order_id_of

MAX_PAGE = 500
DEFAULT_PAGE = 50
# Pairs never change, so a bounded cache saves a lookup per order on every page.
_pairs: dict[str, OrderPair | None] = {}
_PAIR_CACHE_SIZE = 50_000


@get(
    "/api/events",
    operation_id="listEvents",
    summary="The global audit log in commit order",
    description="The events of the caller's orders (an admin key: all). `nextCursor` is "
    "always set: pass it as `after` to continue, even after an empty page (the log keeps "
    "growing).",
    responses=problem_responses(400, 401, 503),
)
async def list_events(
    request: Request[Any, Any, Any],
    store: NamedDependency[EventLog],
    after: Annotated[
        str | None, QueryParameter(description="nextCursor of the previous page")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    event_type: Annotated[
        str | None, QueryParameter(name="type", description="only events of this type")
    ] = None,
) -> AuditPage:
    position = decode_cursor(after, "after") if after else START
    if event_type is not None and event_type not in EVENT_TYPES:
        known = ", ".join(EVENT_TYPES)
        raise ApiError(400, f"type: unknown event type {event_type!r}; known: {known}", "type")
    types = [event_type] if event_type else None
    caller = caller_of(request)
    events = await store.read_all(
        position, limit, types, owner=None if caller.admin else caller.name
    )
    pairs = await _pairs_of(store, events)
    items = [_audit_view(event, pairs.get(event.stream_id)) for event in events]
    next_cursor = items[-1].cursor if items else encode_cursor(position)
    return AuditPage(items=items, next_cursor=next_cursor)


def _audit_view(event: RecordedEvent, pair: OrderPair | None) -> AuditEventView:
    view = present_event(event, pair)
    return AuditEventView(
        order_id=order_id_of(event.stream_id),
        cursor=encode_cursor(GlobalPosition(event.tx_id, event.global_position)),
        version=view.version,
        type=view.type,
        data=view.data,
        metadata=view.metadata,
        recorded_at=view.recorded_at,
    )


async def _pairs_of(store: EventLog, events: list[RecordedEvent]) -> dict[str, OrderPair | None]:
    """The pair of every order on the page: from the cache, from the page's own
    `OrderSubmitted`, the rest in one read of their streams' first events (a page of
    500 events of 500 orders is two queries, not 501)."""
    firsts = {event.stream_id: event for event in events if event.stream_version == 1}
    missing = {event.stream_id for event in events} - firsts.keys() - _pairs.keys()
    if missing:
        firsts |= await store.first_events(sorted(missing))
    pairs = {event.stream_id: _pairs.get(event.stream_id) for event in events}
    pairs |= {stream_id: pair_of_submission(first) for stream_id, first in firsts.items()}
    if len(_pairs) + len(firsts) > _PAIR_CACHE_SIZE:
        _pairs.clear()
    _pairs.update(pairs)
    return pairs
