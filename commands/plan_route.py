"""`plan_route`: ladder quotes from every pool, `domain.routing` picks, exact re-quote."""

from __future__ import annotations

from commands.ports import QuoteService, VenueRejected
from commands.quote_types import Ladder, LadderPoint, LegOrder
from domain.events import Quote, RouteLeg
from domain.routing import (
    DEFAULT_STEPS,
    NoRoute,
    PoolLadder,
    RoutePlan,
    choose_split,
    ladder_amounts,
    refuse_price_impact,
    split_may_pay,
)
from domain.tokens import Token


async def plan_route(
    venue: QuoteService,
    token_in: Token,
    token_out: Token,
    amount_in: int,
    slippage_bps: int,
    steps: int = DEFAULT_STEPS,
    max_legs: int | None = None,
    max_price_impact_bps: int | None = None,
) -> RoutePlan:
    """The best route for `amount_in` now, over at most `max_legs` pools; raises NoRoute
    when nothing can fill it, `PriceImpactTooHigh` when it moves the price by more than
    `max_price_impact_bps`.

    Every pool is quoted for the whole amount first; the ladder of partial amounts
    that a split needs is asked for only when a split could pay (most small orders
    take one pool: the ladder would cost the venue 50 quotes per pool for nothing).
    """
    plan = await _best_plan(venue, token_in, token_out, amount_in, slippage_bps, steps, max_legs)
    refuse_price_impact(plan, max_price_impact_bps)
    return plan


async def _best_plan(
    venue: QuoteService,
    token_in: Token,
    token_out: Token,
    amount_in: int,
    slippage_bps: int,
    steps: int,
    max_legs: int | None,
) -> RoutePlan:
    whole = await venue.ladder(token_in.mint, token_out.mint, [amount_in])
    quotes = _whole_amount_quotes(whole)
    if not split_may_pay([_whole_amount(pool.quotes[-1]) for pool in whole.pools]):
        return _single_pool(whole, quotes, amount_in)
    amounts = ladder_amounts(amount_in, steps)
    ladder = await venue.ladder(token_in.mint, token_out.mint, amounts)
    ladders = [
        _pool_ladder(pool.amm_key, pool.venue, pool.label, pool.quotes) for pool in ladder.pools
    ]
    allocations = choose_split(amount_in, ladders, max_legs)
    orders = [LegOrder(pool=leg.pool, amount_in=str(leg.amount_in)) for leg in allocations]
    try:
        exact = await venue.quote_legs(token_in.mint, token_out.mint, orders, slippage_bps)
    except VenueRejected as error:
        # The pools moved between the ladder and the re-quote and a leg no longer fills.
        raise NoRoute(f"the chosen split no longer fills: {error.message}") from error
    pools = {pool.amm_key: pool for pool in ladder.pools}
    legs = tuple(
        RouteLeg(
            pool=step.swap_info.amm_key,
            venue=pools[step.swap_info.amm_key].venue,
            label=step.swap_info.label,
            amount_in=int(step.swap_info.in_amount),
            amount_out=int(step.swap_info.out_amount),
        )
        for step in exact.route_plan
    )
    return RoutePlan(
        quotes=quotes,
        legs=legs,
        expected_amount_out=int(exact.out_amount),
        price_impact=exact.price_impact_pct,
        context_slot=exact.context_slot,
    )


def _single_pool(whole: Ladder, quotes: tuple[Quote, ...], amount_in: int) -> RoutePlan:
    """The best pool alone: its whole-amount quote is already exact, at this slot."""
    best = max(whole.pools, key=lambda pool: _whole_amount(pool.quotes[-1])[0] or 0)
    point = best.quotes[-1]
    leg = RouteLeg(
        pool=best.amm_key,
        venue=best.venue,
        label=best.label,
        amount_in=amount_in,
        amount_out=int(point.out_amount),
    )
    return RoutePlan(
        quotes=quotes,
        legs=(leg,),
        expected_amount_out=leg.amount_out,
        price_impact=point.price_impact_pct,
        context_slot=whole.context_slot,
    )


def _whole_amount(point: LadderPoint) -> tuple[int | None, str]:
    filled = point.error is None and int(point.out_amount) > 0
    return (int(point.out_amount) if filled else None), point.price_impact_pct


def _pool_ladder(pool: str, venue: str, label: str, points: list[LadderPoint]) -> PoolLadder:
    outs = tuple(
        int(point.out_amount) if point.error is None and int(point.out_amount) > 0 else None
        for point in points
    )
    return PoolLadder(pool=pool, venue=venue, label=label, amounts_out=outs)


def _whole_amount_quotes(ladder: Ladder) -> tuple[Quote, ...]:
    """What each pool offered for the whole amount (the ladder's last rung)."""
    return tuple(
        Quote(
            pool=pool.amm_key,
            venue=pool.venue,
            label=pool.label,
            amount_out=int(pool.quotes[-1].out_amount),
            fee_amount=int(pool.quotes[-1].fee_amount),
            price_impact=pool.quotes[-1].price_impact_pct,
        )
        for pool in ladder.pools
    )
