"""Request bodies of the quote service, as msgspec Structs (camelCase on the wire).

Amounts are atomic units, sent as decimal strings (Jupiter style) or integers.
Tokens are named by mint or by symbol.
"""

from __future__ import annotations

import msgspec

Amount = str | int


class Wire(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of every request: camelCase names, unknown fields rejected."""


class LadderRequest(Wire):
    """Every pool's exact-in output for each amount of a ladder."""

    input_mint: str
    output_mint: str
    amounts: list[Amount]
    slippage_bps: int = 50
    pools: list[str] | None = None  # restrict to these pool addresses


class Leg(Wire):
    """One pool and the input it receives."""

    pool: str
    amount_in: Amount


class LegsRequest(Wire):
    """An exact quote of a given split."""

    input_mint: str
    output_mint: str
    legs: list[Leg]
    slippage_bps: int = 50
