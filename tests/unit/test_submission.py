from __future__ import annotations

import pytest

from domain.errors import InvalidField, UnsupportedOrderType
from domain.submission import parse_submission


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


@pytest.mark.parametrize("kind", ["limit", "Sniper"])
def test_limit_and_sniper_are_refused_until_supported(kind: str) -> None:
    with pytest.raises(UnsupportedOrderType, match="not supported yet"):
        parse_submission(**submission(order_type=kind))  # type: ignore[arg-type]
