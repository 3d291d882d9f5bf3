"""Limit terms: exactly one limit, converted exactly and rounded up; a sane expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidField
from domain.limit_terms import LimitTerms, is_unrealistic, parse_limit_terms
from domain.tokens import SOL, USDC

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def terms(**changes: object) -> LimitTerms:
    fields: dict[str, object] = {
        "amount_in": 15 * 10**8,  # 1.5 SOL
        "token_in": SOL,
        "token_out": USDC,
        "limit_price": "152.10",
        "min_amount_out": None,
        "expires_at": None,
        "now": NOW,
    }
    fields.update(changes)
    return parse_limit_terms(**fields)  # type: ignore[arg-type]


def refused(field: str, **changes: object) -> str:
    with pytest.raises(InvalidField) as caught:
        terms(**changes)
    assert caught.value.field == field
    return caught.value.reason


def test_a_limit_price_becomes_the_least_output_rounded_up() -> None:
    parsed = terms()
    assert parsed.limit_amount_out == 228_150_000
    assert parsed.limit_price == "152.1"
    assert parsed.expires_at == NOW + timedelta(days=7)
    # 1 lamport at 152.1 USDC/SOL is 0.0001521 micro-USDC: at least one unit, never zero.
    assert terms(amount_in=1).limit_amount_out == 1


@given(
    price=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**6), places=6),
    amount_in=st.integers(1, 10**15),
)
def test_the_converted_limit_is_never_below_the_price(price: Decimal, amount_in: int) -> None:
    parsed = terms(limit_price=price, amount_in=amount_in)
    exact = price * amount_in / 10**3  # SOL (9 decimals) to USDC (6)
    assert parsed.limit_amount_out >= exact
    assert parsed.limit_amount_out - exact < 1 or parsed.limit_amount_out == 1


def test_min_amount_out_is_taken_in_token_out_units() -> None:
    parsed = terms(limit_price=None, min_amount_out="228.15")
    assert parsed.limit_amount_out == 228_150_000
    assert parsed.limit_price is None


def test_exactly_one_limit() -> None:
    assert "exactly one" in refused("limitPrice", min_amount_out="1")
    assert "exactly one" in refused("limitPrice", limit_price=None)


@pytest.mark.parametrize("price", ["0", "-1", "abc", "1e3", "NaN"])
def test_a_zero_negative_or_malformed_price_is_refused(price: str) -> None:
    refused("limitPrice", limit_price=price)


def test_an_absurd_price_is_refused() -> None:
    assert "more USDC than any swap" in refused("limitPrice", limit_price="1" + "0" * 20)


def test_min_amount_out_keeps_the_token_decimals() -> None:
    refused("minAmountOut", limit_price=None, min_amount_out="1.0000001")


def test_expiry_must_be_ahead_and_within_30_days() -> None:
    refused("expiresAt", expires_at=NOW)
    refused("expiresAt", expires_at=NOW - timedelta(seconds=1))
    refused("expiresAt", expires_at=NOW + timedelta(days=30, seconds=1))
    refused("expiresAt", expires_at=datetime(2026, 12, 2))  # no timezone
    assert terms(expires_at=NOW + timedelta(days=30)).expires_at == NOW + timedelta(days=30)


def test_a_limit_more_than_5_percent_above_the_market_is_unrealistic() -> None:
    assert not is_unrealistic(105, 100)
    assert is_unrealistic(106, 100)
