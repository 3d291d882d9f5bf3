"""A limit order's terms (API.md, "Limit orders"): the least output it accepts and when
it lapses, checked and converted exactly.

`limitPrice` is tokenOut per tokenIn after fees; it becomes `minAmountOut` in atomic
units, rounded up, so the order never fills below the price the client wrote.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import msgspec

from domain.amounts import parse_amount, parse_decimal
from domain.errors import InvalidField
from domain.tokens import Token

DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=30)
U64_MAX = 2**64 - 1  # an SPL token amount is a u64 of atomic units
# Jupiter's Trigger API does not check that a rate is sane; we warn past this (API.md).
UNREALISTIC_BETTER_THAN_MARKET = Decimal("0.05")


class LimitTerms(msgspec.Struct, frozen=True):
    limit_amount_out: int
    limit_price: str | None
    expires_at: datetime


def parse_limit_terms(
    *,
    amount_in: int,
    token_in: Token,
    token_out: Token,
    limit_price: str | int | Decimal | None,
    min_amount_out: str | int | Decimal | None,
    expires_at: datetime | None,
    now: datetime,
) -> LimitTerms:
    """The terms of a limit order, or an `InvalidField` naming what is wrong."""
    if (limit_price is None) == (min_amount_out is None):
        reason = "give exactly one of limitPrice or minAmountOut"
        raise InvalidField("limitPrice", reason)
    if limit_price is not None:
        price = parse_decimal(limit_price, "limitPrice")
        if price <= 0:
            raise InvalidField("limitPrice", "must be greater than 0")
        amount_out = _amount_at_price(price, amount_in, token_in, token_out)
        shown: str | None = format(price.normalize(), "f")
    else:
        assert min_amount_out is not None
        amount_out = parse_amount(min_amount_out, token_out, "minAmountOut")
        shown = None
    if amount_out > U64_MAX:
        field = "limitPrice" if limit_price is not None else "minAmountOut"
        raise InvalidField(field, f"asks for more {token_out.symbol} than any swap can return")
    return LimitTerms(amount_out, shown, check_expiry(expires_at, now))


def _amount_at_price(price: Decimal, amount_in: int, token_in: Token, token_out: Token) -> int:
    """`price * amountIn` in tokenOut atomic units, rounded up (never below the limit)."""
    scaled = price * amount_in * Decimal(10) ** (token_out.decimals - token_in.decimals)
    whole = int(scaled.to_integral_value(rounding="ROUND_CEILING"))
    return max(1, whole)


def check_expiry(expires_at: datetime | None, now: datetime) -> datetime:
    """`expiresAt` checked (timezone, future, at most 30 days), or its default."""
    if expires_at is None:
        return now + DEFAULT_LIFETIME
    if expires_at.tzinfo is None:
        raise InvalidField("expiresAt", "must carry a timezone (RFC 3339, e.g. ...Z)")
    if expires_at <= now:
        raise InvalidField("expiresAt", "must be in the future")
    if expires_at > now + MAX_LIFETIME:
        raise InvalidField("expiresAt", "must be at most 30 days ahead")
    return expires_at


def is_unrealistic(limit_amount_out: int, market_amount_out: int) -> bool:
    """True when the limit asks more than 5 % above what the market gives now."""
    threshold = Decimal(market_amount_out) * (1 + UNREALISTIC_BETTER_THAN_MARKET)
    return Decimal(limit_amount_out) > threshold
