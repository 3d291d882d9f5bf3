"""`GET /api/orders/{orderId}` (read model, or folded `?atVersion=N`) and
`GET /api/orders` (newest first, keyset pagination with an opaque cursor)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import PathParameter, QueryParameter

from api.authentication import caller_of
from api.ownership import no_order, require_owner
from api.parameters import parse_order_id
from api.problems import ApiError, problem_responses
from api.read_side import read_side_of
from api.snapshot_views import OrderPage, OrderSnapshotView, present_snapshot
from db.cursor import decode_cursor, encode_cursor
from domain.status import ORDER_TYPES, OrderStatus
from domain.streams import order_stream
from projections.snapshot import fold_snapshot

MAX_PAGE = 500
DEFAULT_PAGE = 50


@get(
    "/api/orders/{orderId:str}",
    operation_id="getOrder",
    summary="An order's snapshot",
    description="From the read model; with `atVersion`, folded from the events as it was "
    "after event N.",
    responses=problem_responses(400, 401, 404, 503),
)
async def get_order(
    request: Request[Any, Any, Any],
    order_id: Annotated[str, PathParameter(name="orderId", format=OpenAPIFormat.UUID)],
    at_version: Annotated[
        int | None, QueryParameter(name="atVersion", ge=1, description="an event's version")
    ] = None,
) -> OrderSnapshotView:
    services, read_side = read_side_of(request)
    caller = caller_of(request)
    checked = parse_order_id(order_id)
    snapshot = None if at_version else await read_side.snapshots.order(checked)
    if snapshot is not None:
        if not caller.owns(snapshot.owner):
            raise no_order(checked)
        return present_snapshot(snapshot)
    # Folded from the events: a past version, or an order the projector has not reached
    # yet (so a client reading right after its 202 never sees a 404).
    events = await services.store.read_stream(order_stream(checked))
    require_owner(caller, checked, events[0] if events else None)
    version = at_version or events[-1].stream_version
    past = fold_snapshot(event for event in events if event.stream_version <= version)
    if past is None or past.state.version < version:
        last = events[-1].stream_version
        raise ApiError(404, f"atVersion: the order has versions 1..{last}", "atVersion")
    return present_snapshot(past)


@get(
    "/api/orders",
    operation_id="listOrders",
    summary="Orders, newest first",
    description="The caller's orders (an admin key: everyone's). Keyset pagination: pass "
    "`nextCursor` as `cursor` for the next page; it is null on the last page.",
    responses=problem_responses(400, 401, 503),
)
async def list_orders(
    request: Request[Any, Any, Any],
    status: Annotated[str | None, QueryParameter(description="only orders in this status")] = None,
    order_type: Annotated[
        str | None, QueryParameter(name="type", description="only orders of this type")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, QueryParameter(description="nextCursor of the previous page")
    ] = None,
) -> OrderPage:
    _, read_side = read_side_of(request)
    if status is not None and status not in {str(s) for s in OrderStatus}:
        known = ", ".join(OrderStatus)
        raise ApiError(400, f"status: unknown status {status!r}; known: {known}", "status")
    if order_type is not None and order_type not in ORDER_TYPES:
        known = ", ".join(ORDER_TYPES)
        raise ApiError(400, f"type: unknown order type {order_type!r}; known: {known}", "type")
    before = decode_cursor(cursor, "cursor") if cursor else None
    caller = caller_of(request)
    snapshots = await read_side.snapshots.page(
        status=status,
        order_type=order_type,
        before=before,
        limit=limit + 1,
        owner=None if caller.admin else caller.name,
    )
    page = snapshots[:limit]
    more = len(snapshots) > limit
    next_cursor = encode_cursor(page[-1].submitted) if more else None
    return OrderPage(items=[present_snapshot(s) for s in page], next_cursor=next_cursor)
