from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.commands import SubmitOrder
from domain.errors import InvalidField
from domain.submission import LimitFields, parse_submission

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def submission(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "order_id": "0f9c0000-0000-4000-8000-000000000000",
        "order_type": "market",
        "token_in": "SOL",
        "token_out": "USDC",
        "amount_in": "1.5",
        "slippage_bps": 50,
    }
    return fields | overrides


def test_a_valid_order_is_normalised() -> None:
    fields = submission(order_type="MARKET", token_in="sol")
    command = parse_submission(**fields)  # type: ignore[arg-type]
    assert (command.order_type, command.token_in, command.amount_in) == (
        "market",
        "SOL",
        15 * 10**8,
    )


def test_tokens_may_be_named_by_mint() -> None:
    mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    command = parse_submission(**submission(token_out=mint))  # type: ignore[arg-type]
    assert command.token_out == "USDC"


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"order_type": "stop"}, "type", "must be one of"),
        ({"token_in": "DOGE"}, "tokenIn", "unknown token"),
        ({"token_out": "DOGE"}, "tokenOut", "unknown token"),
        ({"token_out": "SOL"}, "tokenOut", "must differ"),
        ({"token_in": "JUP", "token_out": "SOL"}, "tokenOut", "no pool trades JUP/SOL"),
        ({"slippage_bps": -1}, "slippageBps", "between 0 and 5000"),
        ({"slippage_bps": 5001}, "slippageBps", "between 0 and 5000"),
        ({"amount_in": "0"}, "amountIn", "greater than 0"),
    ],
)
def test_each_bad_field_is_named(overrides: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_submission(**submission(**overrides))  # type: ignore[arg-type]
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_sniper_takes_no_token_out() -> None:
    with pytest.raises(InvalidField) as refused:
        parse_submission(**submission(order_type="Sniper"), now=NOW)  # type: ignore[arg-type]
    assert refused.value.field == "tokenOut"


def limit(**fields: object) -> SubmitOrder:
    terms = LimitFields(**fields)  # type: ignore[arg-type]
    kept = submission(order_type="limit", slippage_bps=None)
    return parse_submission(**kept, limit=terms, now=NOW)  # type: ignore[arg-type]


def test_a_limit_price_becomes_the_least_output_rounded_up_with_no_slippage_by_default() -> None:
    command = limit(limit_price="152.1000001")
    # 1.5 SOL at 152.1000001 USDC is 228.15000015 USDC: rounded up to 228.150001.
    assert command.limit_amount_out == 228_150_001
    assert command.limit_price == "152.1000001"
    assert command.slippage_bps == 0
    assert command.expires_at == NOW + timedelta(days=7)


def test_a_limit_may_be_given_as_the_least_output() -> None:
    expiry = NOW + timedelta(hours=1)
    command = limit(min_amount_out="228.15", expires_at=expiry)
    assert (command.limit_amount_out, command.limit_price, command.expires_at) == (
        228_150_000,
        None,
        expiry,
    )


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({}, "limitPrice", "exactly one"),
        ({"limit_price": "150", "min_amount_out": "225"}, "limitPrice", "exactly one"),
        ({"limit_price": "0"}, "limitPrice", "greater than 0"),
        ({"limit_price": "1e3"}, "limitPrice", "not a decimal"),
        ({"limit_price": "9" * 30}, "limitPrice", "more USDC than any swap"),
        ({"min_amount_out": "0.0000001"}, "minAmountOut", "at most 6 decimals"),
        ({"limit_price": "150", "expires_at": NOW}, "expiresAt", "in the future"),
        ({"limit_price": "150", "expires_at": NOW + timedelta(days=31)}, "expiresAt", "30 days"),
    ],
)
def test_each_bad_limit_field_is_named(fields: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidField) as refused:
        limit(**fields)
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_a_market_order_refuses_limit_fields() -> None:
    with pytest.raises(InvalidField) as refused:
        parse_submission(**submission(), limit=LimitFields(limit_price="150"))  # type: ignore[arg-type]
    assert refused.value.field == "limitPrice"
