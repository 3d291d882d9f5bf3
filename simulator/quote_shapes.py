"""Response bodies of the quote service (camelCase on the wire, Jupiter's shapes).

Amounts are decimal strings of atomic units; ratios (price impact, fee rate, spot
price) are decimal strings of fractions ("0.0123" is 1.23 %), as Jupiter emits them.
"""

from __future__ import annotations

import msgspec


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every response."""


class TokenView(Wire):
    symbol: str
    mint: str
    decimals: int


class PoolView(Wire):
    address: str
    venue: str
    label: str
    kind: str
    pair: str
    base_mint: str
    quote_mint: str
    fee_rate: str
    spot_price: str  # quote atomic per base atomic, ex fee
    reserve_base: str | None = None  # constant-product pools
    reserve_quote: str | None = None
    bin_step: int | None = None  # DLMM pools
    active_id: int | None = None


class PairView(Wire):
    symbol: str
    base_mint: str
    quote_mint: str
    reference_price: str  # quote per base, UI units
    pools: list[str]


class UniverseView(Wire):
    tokens: list[TokenView]
    pairs: list[PairView]
    pools: list[PoolView]
    context_slot: int


class LadderPoint(Wire):
    in_amount: str
    out_amount: str
    fee_amount: str
    price_impact_pct: str
    other_amount_threshold: str
    error: str | None = None  # e.g. "PairInsufficientLiquidity"; amounts are "0"


class PoolLadder(Wire):
    amm_key: str
    label: str
    venue: str
    fee_mint: str
    fee_rate: str
    spot_price: str  # output atomic per input atomic, ex fee
    quotes: list[LadderPoint]


class LadderResponse(Wire):
    input_mint: str
    output_mint: str
    swap_mode: str
    slippage_bps: int
    context_slot: int
    time_taken: float
    pools: list[PoolLadder]


class SwapInfo(Wire):
    amm_key: str
    label: str
    input_mint: str
    output_mint: str
    in_amount: str
    out_amount: str
    fee_amount: str
    fee_mint: str


class RoutePlanStep(Wire):
    swap_info: SwapInfo
    percent: int
    bps: int


class RouteQuote(Wire):
    input_mint: str
    in_amount: str
    output_mint: str
    out_amount: str
    other_amount_threshold: str
    swap_mode: str
    slippage_bps: int
    platform_fee: None
    price_impact_pct: str
    route_plan: list[RoutePlanStep]
    context_slot: int
    time_taken: float


class ErrorBody(Wire):
    error: str
    field: str | None
    message: str
