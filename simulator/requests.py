"""Request bodies of the simulator's API, as msgspec Structs (camelCase on the wire).

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
    """One pool and the input it receives; `min_amount_out` is an optional
    per-leg floor checked with that venue's own slippage error."""

    pool: str
    amount_in: Amount
    min_amount_out: Amount | None = None


class LegsRequest(Wire):
    """An exact quote of a given split."""

    input_mint: str
    output_mint: str
    legs: list[Leg]
    slippage_bps: int = 50


class SendTransaction(Wire):
    """A signed swap: all legs execute atomically when the tx lands, or none."""

    signature: str  # base58 of 64 bytes, chosen by the sender
    input_mint: str
    output_mint: str
    legs: list[Leg]
    min_amount_out: Amount  # route total, Jupiter's otherAmountThreshold
    last_valid_block_height: int
    compute_unit_price: int = 0  # micro-lamports per compute unit
    compute_unit_limit: int | None = None  # default 200_000 per leg
    recent_blockhash: str | None = None


class StatusesRequest(Wire):
    signatures: list[str]


class AdvanceRequest(Wire):
    slots: int = 1
