"""Token amounts: integers of atomic units inside, decimal strings at the edge.

Parsing goes through `Decimal` built from the client's own digits (never a float), so
"0.1" is exactly 10**8 lamports and a value with more decimals than the token has is
refused rather than rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal

from domain.errors import InvalidField
from domain.tokens import Token

MAX_TOKEN_UNITS = Decimal(10) ** 12
# SPL Token amounts are u64 of the smallest unit: a larger one no program can take, so
# an order for it could never finish (SOL's u64 ends near 1.8 * 10^10 SOL).
MAX_ATOMIC = 2**64 - 1
# Plain positional notation only: Decimal() alone would also take "1_000", "1e3", "NaN".
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")


def parse_amount(raw: str | int | Decimal, token: Token, field: str) -> int:
    """Turn a client's decimal amount in token units into atomic units."""
    value = parse_decimal(raw, field)
    if value <= 0:
        raise InvalidField(field, "must be greater than 0")
    largest = max_amount(token)
    if value > largest:
        raise InvalidField(field, f"must be at most {largest} {token.symbol}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > token.decimals:
        raise InvalidField(field, f"{token.symbol} has at most {token.decimals} decimals")
    return int(value.scaleb(token.decimals))


def max_amount(token: Token) -> Decimal:
    """The largest amount of `token` an order may name: 10^12 token units, or less
    when a u64 of its smallest unit holds less."""
    return min(MAX_TOKEN_UNITS, Decimal(MAX_ATOMIC).scaleb(-token.decimals))


def parse_decimal(raw: str | int | Decimal, field: str) -> Decimal:
    """A client's decimal (a plain decimal string, an int, a Decimal), exactly."""
    value = _to_decimal(raw, field)
    if not value.is_finite():
        raise InvalidField(field, "must be a finite number")
    return value


def _to_decimal(raw: str | int | Decimal, field: str) -> Decimal:
    if isinstance(raw, bool):
        raise InvalidField(field, "must be a decimal string or number, not a boolean")
    if isinstance(raw, Decimal | int):
        return Decimal(raw)
    if not _DECIMAL_TEXT.fullmatch(raw):
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise InvalidField(field, f'{shown!r} is not a decimal number such as "1.5"')
    return Decimal(raw)


def format_amount(atomic: int, token: Token) -> str:
    """Atomic units as a plain decimal string in token units, without trailing zeros."""
    sign = "-" if atomic < 0 else ""
    whole, fraction = divmod(abs(atomic), 10**token.decimals)
    if not fraction:
        return f"{sign}{whole}"
    digits = str(fraction).rjust(token.decimals, "0").rstrip("0")
    return f"{sign}{whole}.{digits}"
