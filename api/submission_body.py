"""Reading a submit body, from HTTP or from the submit WebSocket's first message."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TypeVar

import msgspec

from api.problems import ApiError, field_of_validation_error
from api.schemas import SubmitOrderBody
from domain.commands import SubmitOrder
from domain.submission import parse_submission

Body = TypeVar("Body", bound=SubmitOrderBody)
_NUMBER_START = frozenset(b"-0123456789")


def decode_body(decoder: msgspec.json.Decoder[Body], body: bytes) -> Body:
    """The body as `decoder`'s type, or a 400 naming the field at fault."""
    if not body.strip():
        raise ApiError(400, "body: expected a JSON object with the order", "body")
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        field, reason = field_of_validation_error(str(error))
        raise ApiError(400, f"{field or 'body'}: {reason}", field or "body") from None
    except msgspec.DecodeError as error:
        raise ApiError(400, f"body: not valid JSON ({error})", "body") from None


def new_order(body: SubmitOrderBody) -> SubmitOrder:
    """The validated command for a new order (a fresh order id)."""
    return parse_submission(
        order_id=str(uuid.uuid4()),
        order_type=body.type,
        token_in=body.token_in,
        token_out=body.token_out,
        amount_in=_amount_of(body.amount_in),
        slippage_bps=body.slippage_bps,
    )


def _amount_of(raw: msgspec.Raw) -> str | Decimal:
    """The exact text of `amountIn`: a JSON string's content or a JSON number's digits,
    never passed through a float."""
    text = bytes(raw)
    if text[:1] == b'"':
        return msgspec.json.decode(text, type=str)
    if text[:1] and text[0] in _NUMBER_START:
        return msgspec.json.decode(text, type=Decimal)
    raise ApiError(400, 'amountIn: must be a decimal string such as "1.5", or a number', "amountIn")
