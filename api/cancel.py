"""`POST /api/orders/{orderId}/cancel` (API.md, "Cancel"): 200 with the snapshot once
cancelled (again: still 200), 202 with `cancelRequested` while a sent transaction may
still land, 409 for a confirmed, failed or expired order. A sniper holding its bought
position is sold now (202, status `exiting`, `exitReason: cancel`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import HeaderParameter, PathParameter

from api.authentication import caller_of
from api.ownership import check_owner, no_order
from api.parameters import MAX_IDEMPOTENCY_KEY, parse_order_id
from api.problems import ApiError, problem_responses
from api.services import services_of
from api.snapshot_views import OrderSnapshotView, present_snapshot
from commands.cancel_order import cancel_order
from domain.streams import order_stream
from projections.snapshot import fold_snapshot


@post(
    "/api/orders/{orderId:str}/cancel",
    operation_id="cancelOrder",
    status_code=200,
    summary="Cancel an order",
    description="200 with the snapshot when the order is cancelled (also when it already "
    "was); 202 with `cancelRequested: true` when its swap was sent: it ends cancelled once "
    "that transaction provably cannot land, or confirmed if it lands first; 409 for a "
    "confirmed, failed or expired order. A sniper holding its bought position (`holding`) "
    "is sold now through its exit's child order: 202, status `exiting`, exitReason `cancel`.",
    responses={
        202: ResponseSpec(
            data_container=OrderSnapshotView, description="the cancel waits for a sent swap"
        ),
        **problem_responses(400, 401, 404, 409, 422, 429, 503),
    },
)
async def cancel(
    request: Request[Any, Any, Any],
    order_id: Annotated[str, PathParameter(name="orderId", format=OpenAPIFormat.UUID)],
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", max_length=MAX_IDEMPOTENCY_KEY)
    ] = None,
) -> Response[OrderSnapshotView]:
    if idempotency_key is not None and not idempotency_key:
        raise ApiError(400, "Idempotency-Key: must not be empty", "Idempotency-Key")
    caller = caller_of(request)
    checked = parse_order_id(order_id)
    services = services_of(request)
    store = services.store
    await check_owner(caller, store, checked)
    if services.rate_limit is not None:
        await services.rate_limit.draw(caller.name)
    outcome = await cancel_order(store, checked, idempotency_key, caller.name)
    if outcome is None:
        raise no_order(checked)
    snapshot = fold_snapshot(await store.read_stream(order_stream(checked)))
    assert snapshot is not None
    return Response(present_snapshot(snapshot), status_code=200 if outcome.cancelled else 202)
