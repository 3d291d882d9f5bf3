"""`GET /api/quote`: the route the engine would take now, without ordering."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.presenting import OrderPair, present_legs, present_quotes
from api.problems import ApiError, problem_responses
from api.schemas import QuoteView
from api.services import ApiServices
from domain.amounts import format_amount, parse_amount
from domain.errors import InvalidField
from domain.order_state import min_amount_out
from domain.routing import RoutePlan
from domain.submission import DEFAULT_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS
from domain.tokens import Token, require_pair, resolve_token


@get(
    "/api/quote",
    operation_id="getQuote",
    summary="The route the engine would take now, without ordering",
    description="Quotes every pool of the pair, picks the best venue or split, and prices "
    "it exactly. 400 names the field at fault; 503 when the venue does not answer.",
    responses=problem_responses(400, 401, 503),
)
async def quote(
    services: NamedDependency[ApiServices],
    # Optional here only so that a missing one is a 400 naming it, like every other fault.
    token_in: Annotated[str | None, QueryParameter(name="tokenIn")] = None,
    token_out: Annotated[str | None, QueryParameter(name="tokenOut")] = None,
    amount_in: Annotated[str | None, QueryParameter(name="amountIn")] = None,
    slippage_bps: Annotated[int, QueryParameter(name="slippageBps")] = DEFAULT_SLIPPAGE_BPS,
) -> QuoteView:
    source = resolve_token(_required(token_in, "tokenIn"), "tokenIn")
    target = resolve_token(_required(token_out, "tokenOut"), "tokenOut")
    require_pair(source, target)
    atomic_in = parse_amount(_required(amount_in, "amountIn"), source, "amountIn")
    if not 0 <= slippage_bps <= MAX_SLIPPAGE_BPS:
        raise InvalidField("slippageBps", f"must be between 0 and {MAX_SLIPPAGE_BPS}")
    if services.quotes is None:
        raise ApiError(503, "quotes are not configured in this process")
    plan = await services.quotes.plan(source, target, atomic_in, slippage_bps)
    return present_plan(plan, source, target, atomic_in, slippage_bps)


def _required(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise InvalidField(field, "is required")
    return value


def present_plan(
    plan: RoutePlan, token_in: Token, token_out: Token, amount_in: int, slippage_bps: int
) -> QuoteView:
    expected = plan.expected_amount_out
    price = Decimal(format_amount(expected, token_out)) / Decimal(
        format_amount(amount_in, token_in)
    )
    return QuoteView(
        token_in=token_in.symbol,
        token_out=token_out.symbol,
        amount_in=format_amount(amount_in, token_in),
        slippage_bps=slippage_bps,
        chosen_venue=plan.chosen_venue,
        expected_amount_out=format_amount(expected, token_out),
        min_amount_out=format_amount(min_amount_out(expected, slippage_bps), token_out),
        price=str(price.quantize(Decimal(1).scaleb(-token_out.decimals))),
        price_impact=plan.price_impact,
        context_slot=plan.context_slot,
        route=present_legs(plan.legs, OrderPair(token_in, token_out)),
        quotes=present_quotes(plan.quotes, OrderPair(token_in, token_out)),
    )
