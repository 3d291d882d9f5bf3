"""Quotes for an engine that routes itself.

A ladder gives, for one pair and direction, every pool's exact-in result for each
of a list of amounts, so the engine can pick a venue or fit a split locally; a legs
quote prices one given split exactly, in Jupiter's /quote shape.
"""

from __future__ import annotations

from fractions import Fraction

from simulator.errors import SwapError
from simulator.quote_shapes import (
    LadderPoint,
    PoolLadder,
    RoutePlanStep,
    RouteQuote,
    SwapInfo,
)
from simulator.swap import Pool, Swap, format_fraction


def other_amount_threshold(amount_out: int, slippage_bps: int) -> int:
    """ExactIn minimum out: `floor(out * (1 - slippageBps / 1e4))`."""
    return amount_out * (10_000 - slippage_bps) // 10_000


def _point(pool: Pool, amount_in: int, x_to_y: bool, now: int, slippage_bps: int) -> LadderPoint:
    try:
        fill = pool.quote(amount_in, x_to_y, now)
    except SwapError as error:
        return LadderPoint(
            in_amount=str(amount_in),
            out_amount="0",
            fee_amount="0",
            price_impact_pct="1",
            other_amount_threshold="0",
            error=error.name,
        )
    return LadderPoint(
        in_amount=str(amount_in),
        out_amount=str(fill.amount_out),
        fee_amount=str(fill.fee_amount),
        price_impact_pct=format_fraction(fill.price_impact),
        other_amount_threshold=str(other_amount_threshold(fill.amount_out, slippage_bps)),
    )


def pool_ladder(
    pool: Pool, x_to_y: bool, amounts: list[int], now: int, slippage_bps: int, input_mint: str
) -> PoolLadder:
    """One pool's row of the ladder."""
    return PoolLadder(
        amm_key=pool.info.address,
        label=pool.info.label,
        venue=pool.info.venue,
        fee_mint=input_mint,
        fee_rate=format_fraction(pool.fee_rate(now)),
        spot_price=format_fraction(pool.spot(x_to_y), places=18),
        quotes=[_point(pool, amount, x_to_y, now, slippage_bps) for amount in amounts],
    )


def _shares(amounts: list[int], scale: int) -> list[int]:
    """Integer shares of `scale` proportional to `amounts`, summing exactly to it."""
    total = sum(amounts)
    shares = [amount * scale // total for amount in amounts]
    largest = max(range(len(amounts)), key=lambda index: amounts[index])
    shares[largest] += scale - sum(shares)
    return shares


def route_quote(
    legs: list[tuple[Pool, Swap]],
    input_mint: str,
    output_mint: str,
    slippage_bps: int,
    context_slot: int,
    time_taken: float,
) -> RouteQuote:
    """Jupiter-shaped quote of a split already priced leg by leg."""
    amounts_in = [fill.amount_in for _, fill in legs]
    percents, bps = _shares(amounts_in, 100), _shares(amounts_in, 10_000)
    out_total = sum(fill.amount_out for _, fill in legs)
    ideal = sum(((fill.amount_in - fill.fee_amount) * fill.spot for _, fill in legs), Fraction(0))
    impact = max(Fraction(0), 1 - out_total / ideal) if ideal else Fraction(0)
    plan = [
        RoutePlanStep(
            swap_info=SwapInfo(
                amm_key=pool.info.address,
                label=pool.info.label,
                input_mint=input_mint,
                output_mint=output_mint,
                in_amount=str(fill.amount_in),
                out_amount=str(fill.amount_out),
                fee_amount=str(fill.fee_amount),
                fee_mint=input_mint,
            ),
            percent=percent,
            bps=share,
        )
        for (pool, fill), percent, share in zip(legs, percents, bps, strict=True)
    ]
    return RouteQuote(
        input_mint=input_mint,
        in_amount=str(sum(amounts_in)),
        output_mint=output_mint,
        out_amount=str(out_total),
        other_amount_threshold=str(other_amount_threshold(out_total, slippage_bps)),
        swap_mode="ExactIn",
        slippage_bps=slippage_bps,
        platform_fee=None,
        price_impact_pct=format_fraction(impact),
        route_plan=plan,
        context_slot=context_slot,
        time_taken=time_taken,
    )
