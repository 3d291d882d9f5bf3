"""`GET /api/tokens`: the tokens an order may name, the pairs and the pools behind each."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

from litestar import get
from litestar.di import NamedDependency

from api.problems import problem_responses
from api.schemas import PairView, PoolView, TokenView, Universe
from api.services import ApiServices, RouteQuoter
from domain.amounts import format_amount, max_amount
from domain.routing import NoRoute, VenueUnavailable
from domain.tokens import PAIRS, TOKENS, Token, token_by_symbol

log = logging.getLogger("api.tokens")
# The side a pair is priced in: USDC first, then SOL (SOL/USDC, MEME/SOL, JUP/USDC).
_QUOTE_SIDES = ("USDC", "SOL")


@get(
    "/api/tokens",
    operation_id="listTokens",
    summary="Tokens, pairs and their pools",
    description="Every token an order may name (symbol or mint), the largest amount of it an "
    "order may name, and each pair with its pools and the price of one unit of its base now "
    "(pools and price are null while the venue does not answer).",
    responses=problem_responses(401),
)
async def list_tokens(services: NamedDependency[ApiServices]) -> Universe:
    pairs = [_oriented(pair) for pair in PAIRS]
    pairs.sort(key=lambda pair: (pair[1].symbol, pair[0].symbol))
    views = await asyncio.gather(*(_pair(services.quotes, base, quote) for base, quote in pairs))
    tokens = [
        TokenView(
            symbol=token.symbol,
            mint=token.mint,
            decimals=token.decimals,
            max_amount=format(max_amount(token), "f"),
        )
        for token in TOKENS
    ]
    return Universe(tokens=tokens, pairs=list(views))


def _oriented(pair: frozenset[str]) -> tuple[Token, Token]:
    quote = next(symbol for symbol in _QUOTE_SIDES if symbol in pair)
    (base,) = pair - {quote}
    return token_by_symbol(base), token_by_symbol(quote)


async def _pair(quoter: RouteQuoter | None, base: Token, quote: Token) -> PairView:
    view = PairView(base=base.symbol, quote=quote.symbol, price=None, pools=None)
    if quoter is None:
        return view
    one = 10**base.decimals
    try:
        plan = await quoter.plan(base, quote, one, 0)
    except (NoRoute, VenueUnavailable) as error:
        log.warning("no price for the pair", extra={"pair": view.base, "error": str(error)})
        return view
    view.price = format(Decimal(format_amount(plan.expected_amount_out, quote)), "f")
    view.pools = [PoolView(venue=q.venue, pool=q.pool, label=q.label) for q in plan.quotes]
    return view
