"""Which armed orders the market meets now, without quoting all of them.

A pool never gives more per unit of input than its current price less its fee
(output per unit only falls as the amount grows: price impact), so the best any
route over a direction's pools can give is bounded by the largest such rate: `probe`
reads each pool's price and fee from a one-token ladder (a DLMM pool's fee varies,
so its price alone bounds it). Only orders whose threshold is within that
bound are quoted, exactly: one ladder for all their amounts gives each pool's
whole-amount output; an order the best pool alone does not meet, but a split
might, gets the router's own exact split quote (`plan_route`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from commands.plan_route import plan_route
from commands.ports import QuoteService
from commands.quote_types import Ladder, LadderPoint, PoolLadder
from db.armed_orders import ArmedOrder
from domain.events import RouteLeg, TriggerQuote
from domain.routing import NoRoute, split_may_pay
from domain.tokens import Token

LADDER_AMOUNTS = 64  # the most amounts one ladder request may carry (the simulator's cap)
# Floats carry the bound: widen it by far more than their rounding, never narrower.
BOUND_MARGIN = 1e-9
SPLIT_CONCURRENCY = 16


class Probe(msgspec.Struct, frozen=True):
    slot: int
    bound: float  # the most output atomic per input atomic any route may give now


class Met(msgspec.Struct, frozen=True):
    order: ArmedOrder
    slot: int
    quote: TriggerQuote


async def probe(quotes: QuoteService, token_in: Token, token_out: Token) -> Probe:
    """The direction's slot and rate bound, from a one-token ladder: each pool's price,
    less its fee where the fee is a fixed rate (constant-product pools: the probe's fee
    less one unit for its rounding up), the best of them, widened by `BOUND_MARGIN`.
    A DLMM pool's fee varies with the bins a swap crosses and its volatility, so a
    smaller swap may pay less than the probe: its price alone bounds it."""
    amount = 10**token_in.decimals
    ladder = await quotes.ladder(token_in.mint, token_out.mint, [amount])
    best = Decimal(0)
    for pool in ladder.pools:
        point = pool.quotes[0]
        fixed_fee = point.error is None and "DLMM" not in pool.label
        fee = max(0, int(point.fee_amount) - 1) if fixed_fee else 0
        best = max(best, Decimal(pool.spot_price) * (1 - Decimal(fee) / amount))
    return Probe(ladder.context_slot, float(best) * (1 + BOUND_MARGIN))


async def orders_met(
    quotes: QuoteService,
    token_in: Token,
    token_out: Token,
    orders: Sequence[ArmedOrder],
    max_legs: int,
) -> list[Met]:
    """The orders (all of `token_in` -> `token_out`) whose whole amount the market
    fills at or above their limit now, each with the quote that shows it."""
    amounts = sorted({order.amount_in for order in orders})
    by_amount: dict[int, tuple[int, list[tuple[PoolLadder, LadderPoint]]]] = {}
    chunks = [amounts[i : i + LADDER_AMOUNTS] for i in range(0, len(amounts), LADDER_AMOUNTS)]
    ladders = await asyncio.gather(
        *(quotes.ladder(token_in.mint, token_out.mint, chunk) for chunk in chunks)
    )
    for chunk, ladder in zip(chunks, ladders, strict=True):
        for index, amount in enumerate(chunk):
            by_amount[amount] = (ladder.context_slot, _points(ladder, index))
    met: list[Met] = []
    may_split: list[ArmedOrder] = []
    for order in orders:
        slot, points = by_amount[order.amount_in]
        single = _best_single(order, slot, points)
        if single is not None:
            met.append(single)
        elif split_may_pay([_filled(point) for _, point in points]):
            may_split.append(order)
    # Each split quote is a few requests of its own: side by side, not one after the
    # other (a slot that brings hundreds near their limit took seconds in turn).
    splits = asyncio.Semaphore(SPLIT_CONCURRENCY)

    async def split(order: ArmedOrder) -> Met | None:
        async with splits:
            return await _split(quotes, token_in, token_out, order, max_legs)

    met += [found for found in await asyncio.gather(*map(split, may_split)) if found]
    return met


def _points(ladder: Ladder, index: int) -> list[tuple[PoolLadder, LadderPoint]]:
    return [(pool, pool.quotes[index]) for pool in ladder.pools]


def _filled(point: LadderPoint) -> tuple[int | None, str]:
    out = int(point.out_amount) if point.error is None else 0
    return (out or None), point.price_impact_pct


def _best_single(
    order: ArmedOrder, slot: int, points: list[tuple[PoolLadder, LadderPoint]]
) -> Met | None:
    filled = [(pool, point) for pool, point in points if point.error is None]
    if not filled:
        return None
    pool, point = max(filled, key=lambda item: int(item[1].out_amount))
    out = int(point.out_amount)
    if out < order.limit_amount_out:
        return None
    leg = RouteLeg(
        pool=pool.amm_key,
        venue=pool.venue,
        label=pool.label,
        amount_in=order.amount_in,
        amount_out=out,
    )
    quote = TriggerQuote(expected_amount_out=out, price_impact=point.price_impact_pct, legs=(leg,))
    return Met(order, slot, quote)


async def _split(
    quotes: QuoteService, token_in: Token, token_out: Token, order: ArmedOrder, max_legs: int
) -> Met | None:
    try:
        plan = await plan_route(quotes, token_in, token_out, order.amount_in, 0, max_legs=max_legs)
    except NoRoute:
        return None
    if plan.expected_amount_out < order.limit_amount_out:
        return None
    quote = TriggerQuote(
        expected_amount_out=plan.expected_amount_out,
        price_impact=plan.price_impact,
        legs=plan.legs,
    )
    return Met(order, plan.context_slot, quote)
