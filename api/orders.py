"""Order commands and per-order reads: `POST /api/orders/execute`, `GET .../events`."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import HeaderParameter, PathParameter

from api.authentication import caller_of
from api.limit_warnings import limit_warnings
from api.ownership import require_owner
from api.parameters import MAX_IDEMPOTENCY_KEY, parse_order_id
from api.presenting import pair_of_submission, present_event
from api.problems import ApiError, problem_responses
from api.schemas import EventView, OrderLinks, SubmitAccepted, SubmitOrderBody
from api.services import EventLog, services_of
from api.submission_body import decode_body, submit_body
from api.submit_operation import SubmitOrderOperation
from domain.status import OrderStatus
from domain.streams import order_stream

_body_decoder = msgspec.json.Decoder(SubmitOrderBody)


@post(
    "/api/orders/execute",
    operation_id="submitOrder",
    operation_class=SubmitOrderOperation,
    status_code=202,
    summary="Submit an order",
    description="202 with the new order (a limit order is `armed`, with `warnings` when its "
    "limit is more than 5 % better than the market); 200 with the same order when the "
    "Idempotency-Key was used before with the same body.",
    responses={
        200: ResponseSpec(
            data_container=SubmitAccepted,
            description="the Idempotency-Key was used before with the same body: that order",
        ),
        **problem_responses(400, 401, 413, 415, 422, 429, 503),
    },
)
async def submit(
    request: Request[Any, Any, Any],
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", max_length=MAX_IDEMPOTENCY_KEY)
    ] = None,
) -> Response[SubmitAccepted]:
    if idempotency_key is not None and not idempotency_key:
        raise ApiError(400, "Idempotency-Key: must not be empty", "Idempotency-Key")
    caller = caller_of(request)
    body = decode_body(_body_decoder, await request.body())
    services = services_of(request)
    if services.rate_limit is not None:
        await services.rate_limit.draw(caller.name)
    command, outcome = await submit_body(services.store, body, idempotency_key, caller.name)
    base = f"/api/orders/{outcome.order_id}"
    accepted = SubmitAccepted(
        order_id=outcome.order_id,
        status=OrderStatus.PENDING
        if command.limit_amount_out is None and command.sniper is None
        else OrderStatus.ARMED,
        links=OrderLinks(self=base, events=f"{base}/events", stream=f"{base}/stream"),
        warnings=await limit_warnings(services.quotes, command),
    )
    return Response(accepted, status_code=202 if outcome.created else 200)


@get(
    "/api/orders/{orderId:str}/events",
    operation_id="getOrderEvents",
    summary="An order's full history, oldest first",
    responses=problem_responses(400, 401, 404, 503),
)
async def order_events(
    request: Request[Any, Any, Any],
    order_id: Annotated[str, PathParameter(name="orderId", format=OpenAPIFormat.UUID)],
    store: NamedDependency[EventLog],
) -> list[EventView]:
    checked = parse_order_id(order_id)
    events = await store.read_stream(order_stream(checked))
    require_owner(caller_of(request), checked, events[0] if events else None)
    pair = pair_of_submission(events[0])
    return [present_event(event, pair) for event in events]
