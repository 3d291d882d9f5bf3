"""Reading a submit body, from HTTP or from the submit WebSocket's first message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import msgspec

from api.json_text import check_json_text
from api.problems import ApiError, field_of_validation_error
from api.schemas import SubmitOrderBody
from api.services import EventLog
from commands.submit_order import SubmitOutcome, submit_command_id, submit_order
from domain.commands import SubmitOrder
from domain.errors import InvalidField
from domain.sniper_terms import SniperFields
from domain.submission import LimitFields, parse_submission

Body = TypeVar("Body", bound=SubmitOrderBody)
_NUMBER_START = frozenset(b"-0123456789")


def decode_body(decoder: msgspec.json.Decoder[Body], body: bytes) -> Body:
    """The body as `decoder`'s type, or a 400 naming the field at fault."""
    if not body.strip():
        raise ApiError(400, "body: expected a JSON object with the order", "body")
    check_json_text(body)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        field, reason = field_of_validation_error(str(error))
        raise ApiError(400, f"{field or 'body'}: {reason}", field or "body") from None
    except msgspec.DecodeError as error:
        raise ApiError(400, f"body: not valid JSON ({error})", "body") from None


async def submit_body(
    store: EventLog, body: SubmitOrderBody, idempotency_key: str | None, actor: str
) -> tuple[SubmitOrder, SubmitOutcome]:
    """Validate `body` and submit the order it describes (HTTP and WebSocket alike),
    owned by `actor` (the API key's name), the idempotency key scoped to it.

    A repeated key is answered with its order even once the `expiresAt` it states has
    passed: a client retrying an accepted limit order whose reply it lost must learn
    that it was accepted, not that its expiry is past. The body is then checked as it
    was when accepted (just before that expiry), so another body under the key is
    still a conflict, and a key never seen is still refused."""
    now = datetime.now(UTC)
    try:
        command = new_order(body, now)
    except InvalidField as error:
        stated = body.expires_at
        retried = (
            idempotency_key is not None
            and error.field == "expiresAt"
            and stated is not None
            and stated.tzinfo is not None
            and stated <= now
            and await store.command_recorded(submit_command_id(idempotency_key, actor))
        )
        if not retried or stated is None:
            raise
        command = new_order(body, stated - timedelta(microseconds=1))
    outcome = await submit_order(store, command, idempotency_key, body.expires_at, actor)
    return command, outcome


def new_order(body: SubmitOrderBody, now: datetime | None = None) -> SubmitOrder:
    """The validated command for a new order (a fresh order id); `now` decides a limit
    order's expiry (default: the wall clock)."""
    limit = LimitFields(
        limit_price=_optional_amount(body.limit_price, "limitPrice"),
        min_amount_out=_optional_amount(body.min_amount_out, "minAmountOut"),
        expires_at=body.expires_at,
    )
    sniper = SniperFields(
        target=body.target,
        filters=None if body.filters is None else _filters(body.filters),
        max_price=_optional_amount(body.max_price, "maxPrice"),
        delay_slots=body.delay_slots,
        priority_fee=body.priority_fee,
        exit=body.exit,
    )
    return parse_submission(
        order_id=str(uuid.uuid4()),
        order_type=body.type,
        token_in=body.token_in,
        token_out=body.token_out,
        amount_in=_amount_of(body.amount_in, "amountIn"),
        slippage_bps=body.slippage_bps,
        limit=limit,
        sniper=sniper,
        now=now or datetime.now(UTC),
    )


def _filters(raw: dict[str, msgspec.Raw]) -> dict[str, object]:
    """A sniper's filters: liquidity bounds read exactly (never via a float), the rest
    as JSON values the domain checks."""
    return {
        name: _amount_of(value, f"filters.{name}")
        if name in ("minLiquidity", "maxLiquidity")
        else msgspec.json.decode(bytes(value))
        for name, value in raw.items()
    }


def _optional_amount(raw: msgspec.Raw, field: str) -> str | Decimal | None:
    """An amount field that may be absent (empty) or null."""
    return None if bytes(raw) in (b"", b"null") else _amount_of(raw, field)


def _amount_of(raw: msgspec.Raw, field: str) -> str | Decimal:
    """The exact text of an amount: a JSON string's content or a JSON number's digits,
    never passed through a float."""
    text = bytes(raw)
    if text[:1] == b'"':
        return msgspec.json.decode(text, type=str)
    if text[:1] and text[0] in _NUMBER_START:
        return msgspec.json.decode(text, type=Decimal)
    raise ApiError(400, f'{field}: must be a decimal string such as "1.5", or a number', field)
