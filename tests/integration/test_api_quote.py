"""`GET /api/quote`: the route the engine would take, 400s naming the field, 503 when
the venue is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import ApiServices
from db.memory import InMemoryEventStore
from domain.routing import RoutePlan
from domain.tokens import Token
from simulator.core import Simulator
from tests.unit.execution.in_process_venue import InProcessVenue
from workers.planner import VenueQuoter, plan_route


class InProcessQuoter:
    def __init__(self) -> None:
        self.venue = InProcessVenue(Simulator(seed=1))

    async def plan(
        self, token_in: Token, token_out: Token, amount_in: int, slippage_bps: int
    ) -> RoutePlan:
        return await plan_route(self.venue, token_in, token_out, amount_in, slippage_bps)


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient[Litestar]]:
    services = ApiServices(store=InMemoryEventStore(), quotes=InProcessQuoter())
    async with AsyncTestClient(create_app(services)) as test_client:
        yield test_client


async def get_quote(client: AsyncTestClient[Litestar], **params: Any) -> tuple[int, Any]:
    response = await client.get("/api/quote", params=params)
    return response.status_code, response.json()


async def test_a_quote_names_every_venue_and_the_route(client: AsyncTestClient[Litestar]) -> None:
    status, body = await get_quote(
        client, tokenIn="SOL", tokenOut="USDC", amountIn="2000", slippageBps=100
    )
    assert status == 200, body
    assert {q["venue"] for q in body["quotes"]} == {"raydium", "meteora"}
    assert len(body["route"]) > 1, "2,000 SOL is worth splitting"
    assert sum(float(leg["amountIn"]) for leg in body["route"]) == 2000
    assert float(body["minAmountOut"]) < float(body["expectedAmountOut"])
    assert body["chosenVenue"] in {"raydium", "meteora"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tokenOut": "USDC", "amountIn": "1"}, "tokenIn"),
        ({"tokenIn": "DOGE", "tokenOut": "USDC", "amountIn": "1"}, "tokenIn"),
        ({"tokenIn": "MEME", "tokenOut": "USDC", "amountIn": "1"}, "tokenOut"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.0000000001"}, "amountIn"),
        (
            {"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1", "slippageBps": 9999},
            "slippageBps",
        ),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "0"}, "amountIn"),
        ({"tokenIn": "SOL", "tokenOut": "USDC"}, "amountIn"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    client: AsyncTestClient[Litestar], params: dict[str, Any], field: str
) -> None:
    status, body = await get_quote(client, **params)
    assert status == 400, body
    assert body["field"] == field


async def test_a_venue_that_does_not_answer_is_a_503() -> None:
    quotes = VenueQuoter("http://127.0.0.1:9")  # discard port: nothing listens
    services = ApiServices(store=InMemoryEventStore(), quotes=quotes, on_shutdown=[quotes.close])
    async with AsyncTestClient(create_app(services)) as client:
        status, body = await get_quote(client, tokenIn="SOL", tokenOut="USDC", amountIn="1")
    assert status == 503, body
