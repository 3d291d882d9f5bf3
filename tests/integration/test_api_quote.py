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
from commands.plan_route import plan_route
from commands.ports import VenueRejected
from db.memory import InMemoryEventStore
from domain.amounts import format_amount
from domain.routing import RoutePlan
from domain.tokens import TOKENS, Token
from simulator.answers import Answers
from simulator.core import Simulator
from simulator.wallets import STARTING_FUNDS
from tests.support.api_keys import InMemoryKeys, bearer, in_memory_admin
from tests.support.in_process_chain import InProcessTransport, in_process_clients
from workers.solana.balances import WalletBalances
from workers.solana.quoter import VenueQuoter
from workers.solana.wallet import load_keypair


class InProcessQuoter:
    def __init__(self) -> None:
        self.quotes = in_process_clients(Simulator(seed=1)).quotes

    async def plan(
        self, token_in: Token, token_out: Token, amount_in: int, slippage_bps: int
    ) -> RoutePlan:
        return await plan_route(
            self.quotes,
            token_in,
            token_out,
            amount_in,
            slippage_bps,
            max_legs=2,
            max_price_impact_bps=500,
        )


SIMULATOR = Simulator(seed=1)


def in_process_wallet() -> WalletBalances:
    transport = InProcessTransport(Answers(SIMULATOR, clock_driven=False))
    address = str(load_keypair("", SIMULATOR.config.seed).pubkey())
    return WalletBalances("", address, transport)


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient[Litestar]]:
    keys = InMemoryKeys()
    services = ApiServices(
        store=InMemoryEventStore(),
        keys=keys.ring(),
        quotes=InProcessQuoter(),
        wallet=in_process_wallet(),
    )
    async with AsyncTestClient(create_app(services)) as test_client:
        test_client.headers.update(bearer(keys.add("quoter")))
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
    assert len(body["route"]) == 2, "2,000 SOL is worth splitting, over two pools at most"
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
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "18446744073.709551616"}, "amountIn"),
        ({"tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "1000000000000"}, "amountIn"),
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
    keys, auth = in_memory_admin()
    services = ApiServices(
        store=InMemoryEventStore(), keys=keys, quotes=quotes, on_shutdown=[quotes.close]
    )
    async with AsyncTestClient(create_app(services)) as client:
        client.headers.update(auth)
        status, body = await get_quote(client, tokenIn="SOL", tokenOut="USDC", amountIn="1")
    assert status == 503, body


async def test_a_fat_finger_quote_names_the_price_impact_guard(
    client: AsyncTestClient[Litestar],
) -> None:
    status, body = await get_quote(client, tokenIn="USDC", tokenOut="SOL", amountIn="1000000000000")
    assert status == 400, body
    assert "MAX_PRICE_IMPACT_BPS" in body["detail"]


async def test_tokens_list_every_token_pair_and_pool(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/tokens")
    assert response.status_code == 200, response.text
    body = response.json()
    sol = next(token for token in body["tokens"] if token["symbol"] == "SOL")
    assert (sol["decimals"], sol["maxAmount"]) == (9, "18446744073.709551615")
    pairs = {(pair["base"], pair["quote"]): pair for pair in body["pairs"]}
    assert set(pairs) == {("SOL", "USDC"), ("MEME", "SOL"), ("JUP", "USDC")}
    sol_usdc = pairs[("SOL", "USDC")]
    assert {pool["venue"] for pool in sol_usdc["pools"]} == {"raydium", "meteora"}
    assert float(sol_usdc["price"]) > 1


@pytest.mark.parametrize(
    "page", ["/schema", "/schema/swagger", "/schema/redoc", "/schema/elements"]
)
async def test_the_api_has_reference_pages(client: AsyncTestClient[Litestar], page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # The page carries the document inline, or loads it from /schema/openapi.json.
    assert "submitOrder" in response.text or "/schema/openapi.json" in response.text


async def test_the_wallet_shows_its_seeded_balances(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/wallet")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["address"] == str(load_keypair("", SIMULATOR.config.seed).pubkey())
    held = {balance["token"]: balance["amount"] for balance in body["balances"]}
    for token in TOKENS:
        assert held[token.symbol] == format_amount(STARTING_FUNDS.get(token.mint, 0), token)
    assert float(body["feeBalance"]) > 0


class RefusingQuoter:
    """A venue that refuses every amount, as the quote service does past its limits."""

    async def plan(
        self, token_in: Token, token_out: Token, amount_in: int, slippage_bps: int
    ) -> RoutePlan:
        raise VenueRejected(400, "amounts[0]", "must be between 1 and 18446744073709551615")


async def test_a_venue_refusal_is_a_400_naming_amount_in() -> None:
    keys, auth = in_memory_admin()
    services = ApiServices(store=InMemoryEventStore(), keys=keys, quotes=RefusingQuoter())
    async with AsyncTestClient(create_app(services)) as client:
        client.headers.update(auth)
        status, body = await get_quote(client, tokenIn="SOL", tokenOut="USDC", amountIn="1")
    assert status == 400, body
    assert body["field"] == "amountIn"
    assert "refused" in body["detail"]
