"""The simulator's JSON answers that the engine reads (camelCase; amounts as strings).

Only the fields the engine uses; unknown fields are ignored so the venue may add more.
"""

from __future__ import annotations

import msgspec


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    pass


class LadderPoint(Wire):
    in_amount: str
    out_amount: str
    fee_amount: str
    price_impact_pct: str
    error: str | None = None


class PoolLadder(Wire):
    amm_key: str
    label: str
    venue: str
    quotes: list[LadderPoint]


class Ladder(Wire):
    context_slot: int
    pools: list[PoolLadder]


class SwapInfo(Wire):
    amm_key: str
    label: str
    in_amount: str
    out_amount: str
    fee_amount: str


class PlanStep(Wire):
    swap_info: SwapInfo


class LegsQuote(Wire):
    out_amount: str
    price_impact_pct: str
    route_plan: list[PlanStep]
    context_slot: int


class Blockhash(Wire):
    blockhash: str
    last_valid_block_height: int
    block_height: int
    slot: int


class BlockHeight(Wire):
    block_height: int
    slot: int


class TxError(Wire):
    name: str
    code: int | None
    message: str


class LegResult(Wire):
    pool: str
    in_amount: str
    out_amount: str
    fee_amount: str


class TxResult(Wire):
    slot: int
    in_amount: str
    out_amount: str
    fee_lamports: int
    legs: list[LegResult]


class SignatureStatus(Wire):
    signature: str
    state: str  # pending | processed | confirmed | finalized | failed | expired
    slot: int | None
    confirmation_status: str | None
    err: TxError | None
    result: TxResult | None


class Statuses(Wire):
    value: list[SignatureStatus | None]


class SendResult(Wire):
    signature: str
    duplicate: bool


class LegOrder(Wire):
    pool: str
    amount_in: str


class SwapTransaction(Wire):
    """The body of `POST /transactions`: a signed swap over one or more legs."""

    signature: str
    input_mint: str
    output_mint: str
    legs: list[LegOrder]
    min_amount_out: str
    last_valid_block_height: int
    compute_unit_price: int = 0
    recent_blockhash: str | None = None
