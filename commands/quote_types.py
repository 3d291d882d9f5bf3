"""The quote service's answers the router reads (Jupiter's camelCase shapes; amounts as
strings).

Only the fields the engine uses; unknown fields are ignored so the service may add more.
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
    # Output atomic per input atomic at the pool's current price, before fees: no
    # amount gets more per unit (the trigger evaluator's bound). "0": not given.
    spot_price: str = "0"


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


class LegOrder(Wire):
    pool: str
    amount_in: str
