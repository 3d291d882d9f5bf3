"""Order commands and per-order reads: `POST /api/orders/execute`, `GET .../events`."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, PathParameter

from api.presenting import pair_of_submission, present_event
from api.problems import ApiError, field_of_validation_error, problem_responses
from api.schemas import EventView, OrderLinks, SubmitAccepted, SubmitOrderBody
from api.services import EventLog, services_of
from api.submit_operation import SubmitOrderOperation
from commands.submit_order import submit_order
from domain.status import OrderStatus
from domain.streams import order_stream
from domain.submission import parse_submission

MAX_IDEMPOTENCY_KEY = 200
_body_decoder = msgspec.json.Decoder(SubmitOrderBody)
_NUMBER_START = frozenset(b"-0123456789")


@post(
    "/api/orders/execute",
    operation_id="submitOrder",
    operation_class=SubmitOrderOperation,
    status_code=202,
    summary="Submit an order",
    description="202 with the new order; 200 with the same order when the Idempotency-Key "
    "was used before with the same body.",
    responses=problem_responses(400, 413, 422, 503),
)
async def submit(
    request: Request[Any, Any, Any],
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", max_length=MAX_IDEMPOTENCY_KEY)
    ] = None,
) -> Response[SubmitAccepted]:
    if idempotency_key is not None and not idempotency_key:
        raise ApiError(400, "Idempotency-Key: must not be empty", "Idempotency-Key")
    body = _decode_body(await request.body())
    command = parse_submission(
        order_id=str(uuid.uuid4()),
        order_type=body.type,
        token_in=body.token_in,
        token_out=body.token_out,
        amount_in=_amount_of(body.amount_in),
        slippage_bps=body.slippage_bps,
    )
    outcome = await submit_order(services_of(request).store, command, idempotency_key)
    base = f"/api/orders/{outcome.order_id}"
    accepted = SubmitAccepted(
        order_id=outcome.order_id,
        status=OrderStatus.PENDING,
        links=OrderLinks(self=base, events=f"{base}/events", stream=f"{base}/stream"),
    )
    return Response(accepted, status_code=202 if outcome.created else 200)


def _decode_body(body: bytes) -> SubmitOrderBody:
    if not body.strip():
        raise ApiError(400, "body: expected a JSON object with the order", "body")
    try:
        return _body_decoder.decode(body)
    except msgspec.ValidationError as error:
        field, reason = field_of_validation_error(str(error))
        raise ApiError(400, f"{field or 'body'}: {reason}", field or "body") from None
    except msgspec.DecodeError as error:
        raise ApiError(400, f"body: not valid JSON ({error})", "body") from None


def _amount_of(raw: msgspec.Raw) -> str | Decimal:
    """The exact text of `amountIn`: a JSON string's content or a JSON number's digits."""
    text = bytes(raw)
    if text[:1] == b'"':
        return msgspec.json.decode(text, type=str)
    if text[:1] and text[0] in _NUMBER_START:
        return msgspec.json.decode(text, type=Decimal)
    raise ApiError(400, 'amountIn: must be a decimal string such as "1.5", or a number', "amountIn")


@get(
    "/api/orders/{orderId:str}/events",
    operation_id="getOrderEvents",
    summary="An order's full history, oldest first",
    responses=problem_responses(400, 404, 503),
)
async def order_events(
    order_id: Annotated[str, PathParameter(name="orderId")],
    store: NamedDependency[EventLog],
) -> list[EventView]:
    checked = parse_order_id(order_id)
    events = await store.read_stream(order_stream(checked))
    if not events:
        raise ApiError(404, f"orderId: no order {checked}", "orderId")
    pair = pair_of_submission(events[0])
    return [present_event(event, pair) for event in events]


def parse_order_id(raw: str) -> str:
    """The canonical form of an order id, or a 400 naming `orderId`."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ApiError(400, f"orderId: {raw[:64]!r} is not a UUID", "orderId") from None
