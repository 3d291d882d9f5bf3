from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.amounts import format_amount, parse_amount
from domain.errors import InvalidField
from domain.tokens import SOL, USDC


@pytest.mark.parametrize(
    ("raw", "atomic"),
    [
        ("1.5", 1_500_000_000),
        ("0.000000001", 1),
        ("1.50", 1_500_000_000),
        (2, 2_000_000_000),
        (Decimal("0.1"), 100_000_000),
        ("18446744073.709551615", 2**64 - 1),
    ],
)
def test_parses_exact_atomic_units(raw: str | int | Decimal, atomic: int) -> None:
    assert parse_amount(raw, SOL, "amountIn") == atomic


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0", "greater than 0"),
        ("-1", "greater than 0"),
        ("0.0000000001", "at most 9 decimals"),
        ("1000000000000.000000001", "at most 18446744073.709551615 SOL"),
        ("18446744073.709551616", "at most 18446744073.709551615 SOL"),
        ("NaN", "not a decimal number"),
        ("Infinity", "not a decimal number"),
        ("1e3", "not a decimal number"),
        ("1_000", "not a decimal number"),
        (" 1", "not a decimal number"),
        ("", "not a decimal number"),
        ("1." + "0" * 40, "not a decimal number"),
        (Decimal("NaN"), "finite"),
        (Decimal("1E+400"), "at most 18446744073.709551615 SOL"),
    ],
)
def test_refuses_bad_amounts_naming_the_field(raw: str | Decimal, reason: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_amount(raw, SOL, "amountIn")
    assert refused.value.field == "amountIn"
    assert reason in refused.value.reason


def test_usdc_has_six_decimals() -> None:
    with pytest.raises(InvalidField, match="at most 6 decimals"):
        parse_amount("0.0000001", USDC, "amountIn")


@pytest.mark.parametrize(
    ("atomic", "text"), [(1_500_000_000, "1.5"), (1, "0.000000001"), (10**9, "1"), (0, "0")]
)
def test_formats_without_trailing_zeros(atomic: int, text: str) -> None:
    assert format_amount(atomic, SOL) == text


def test_a_token_whose_u64_holds_more_keeps_the_api_cap() -> None:
    assert parse_amount("1000000000000", USDC, "amountIn") == 10**18
    with pytest.raises(InvalidField, match="at most 1000000000000 USDC"):
        parse_amount("1000000000000.000001", USDC, "amountIn")


@given(st.integers(min_value=1, max_value=2**64 - 1))
def test_format_then_parse_is_identity(atomic: int) -> None:
    assert parse_amount(format_amount(atomic, SOL), SOL, "amountIn") == atomic
