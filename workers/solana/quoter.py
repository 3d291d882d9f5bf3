"""`GET /api/quote`'s quoter (`api.services.RouteQuoter`): `plan_route` over the quote service."""

from __future__ import annotations

from commands.plan_route import plan_route
from commands.step_context import ExecutionPolicy
from domain.routing import RoutePlan
from domain.tokens import Token
from workers.solana.http import HttpClient
from workers.solana.quote_client import QuoteClient


class VenueQuoter:
    """`plan_route` over the quote service at `quote_url`, for `GET /api/quote`: the
    route an order would take now, over at most the pools an order's route may use."""

    def __init__(
        self,
        quote_url: str,
        max_price_impact_bps: int = ExecutionPolicy().max_price_impact_bps,
        max_legs: int = ExecutionPolicy().max_route_legs,
    ) -> None:
        self._url = quote_url
        self._max_legs = max_legs
        self._max_price_impact_bps = max_price_impact_bps
        self._quotes: QuoteClient | None = None

    async def plan(
        self, token_in: Token, token_out: Token, amount_in: int, slippage_bps: int
    ) -> RoutePlan:
        if self._quotes is None:  # made in the serving loop, on first use
            self._quotes = QuoteClient(HttpClient(self._url))
        return await plan_route(
            self._quotes,
            token_in,
            token_out,
            amount_in,
            slippage_bps,
            max_legs=self._max_legs,
            max_price_impact_bps=self._max_price_impact_bps,
        )

    async def close(self) -> None:
        if self._quotes is not None:
            await self._quotes.close()
