"""The submit body as the first message on `GET /api/orders/execute`."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import msgspec
from litestar import WebSocket

from api.orders import MAX_IDEMPOTENCY_KEY
from api.problems import ApiError, field_of_validation_error
from api.schemas import SubmitOrderBody
from api.services import EventLog
from commands.submit_order import submit_order
from domain.submission import parse_submission

FIRST_MESSAGE_TIMEOUT_S = 30.0


class SocketSubmission(SubmitOrderBody, forbid_unknown_fields=True):
    idempotency_key: str | None = None


_decoder = msgspec.json.Decoder(SocketSubmission)


async def submit_from_socket(socket: WebSocket[Any, Any, Any], store: EventLog) -> str:
    """Read the first message, submit the order it describes; its order id."""
    try:
        raw = await asyncio.wait_for(socket.receive_data("text"), FIRST_MESSAGE_TIMEOUT_S)
    except TimeoutError:
        raise ApiError(400, "body: send the order as the first message", "body") from None
    body = _decode(raw.encode() if isinstance(raw, str) else raw)
    key = body.idempotency_key
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        limit = f"1..{MAX_IDEMPOTENCY_KEY}"
        raise ApiError(400, f"idempotencyKey: must be {limit} characters", "idempotencyKey")
    command = parse_submission(
        order_id=str(uuid.uuid4()),
        order_type=body.type,
        token_in=body.token_in,
        token_out=body.token_out,
        amount_in=_amount_of(body.amount_in),
        slippage_bps=body.slippage_bps,
    )
    outcome = await submit_order(store, command, key)
    return outcome.order_id


def _decode(body: bytes) -> SocketSubmission:
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as error:
        field, reason = field_of_validation_error(str(error))
        raise ApiError(400, f"{field or 'body'}: {reason}", field or "body") from None
    except msgspec.DecodeError as error:
        raise ApiError(400, f"body: not valid JSON ({error})", "body") from None


def _amount_of(raw: msgspec.Raw) -> str | Decimal:
    """`amountIn` exactly: a JSON string's content or a JSON number's digits."""
    text = bytes(raw)
    try:
        if text[:1] == b'"':
            return msgspec.json.decode(text, type=str)
        return msgspec.json.decode(text, type=Decimal)
    except msgspec.ValidationError:
        raise ApiError(
            400, 'amountIn: must be a decimal string such as "1.5"', "amountIn"
        ) from None
