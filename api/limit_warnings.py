"""The `warnings` of a limit order's `202` (API.md, "Limit orders"): a limit far better
than the market is accepted, but the client is told it is unlikely to fill soon."""

from __future__ import annotations

import logging

from api.services import RouteQuoter
from domain.amounts import format_amount
from domain.commands import SubmitOrder
from domain.limit_terms import UNREALISTIC_BETTER_THAN_MARKET, is_unrealistic
from domain.routing import NoRoute, VenueUnavailable
from domain.tokens import token_by_symbol

log = logging.getLogger(__name__)


async def limit_warnings(quotes: RouteQuoter | None, command: SubmitOrder) -> list[str]:
    """What to warn about `command`'s limit, from a quote now; none when the market
    cannot be asked (the order stands either way)."""
    if command.limit_amount_out is None or quotes is None:
        return []
    token_in, token_out = token_by_symbol(command.token_in), token_by_symbol(command.token_out)
    try:
        plan = await quotes.plan(token_in, token_out, command.amount_in, command.slippage_bps)
    except (NoRoute, VenueUnavailable) as error:
        log.info("no market quote for the limit warning", extra={"error": str(error)})
        return []
    if not is_unrealistic(command.limit_amount_out, plan.expected_amount_out):
        return []
    market = format_amount(plan.expected_amount_out, token_out)
    wanted = format_amount(command.limit_amount_out, token_out)
    better = f"{UNREALISTIC_BETTER_THAN_MARKET:%}"
    return [
        f"limitPrice: the limit asks {wanted} {token_out.symbol}, more than {better} above"
        f" the market's {market} {token_out.symbol} now; it fills only if the market gets there"
    ]
