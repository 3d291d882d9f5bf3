"""The simulator's HTTP service: Solana JSON-RPC and the quote service over aiohttp, the
engine's own clients against it, errors in Solana's and the quote service's shapes, the
wall clock, and the one seam where faults are injected."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from commands.chain_types import SwapLeg, SwapRequest
from commands.quote_types import LegOrder
from domain.routing import VenueUnavailable
from simulator.answers import field_of
from simulator.config import SimulatorConfig
from simulator.rpc import MethodClass
from simulator.server import Answer
from simulator.service import RunningService, start
from simulator.universe import SOL, USDC
from tests.unit.simulator.http_client import JsonClient
from workers.solana.connect import SolanaClients, connect
from workers.solana.wallet import load_keypair

QUIET = SimulatorConfig(seed=5, skip_rate=0.0, fork_prob=0.0, p_land=1.0, market_activity=False)


@pytest_asyncio.fixture
async def service() -> AsyncIterator[RunningService]:
    running = await start(QUIET, "127.0.0.1", 0)
    async with running:
        yield running


@pytest_asyncio.fixture
async def client(service: RunningService) -> AsyncIterator[JsonClient]:
    connection = await JsonClient.connect(service.port)
    yield connection
    await connection.close()


def _clients(port: int) -> SolanaClients:
    url = f"http://127.0.0.1:{port}"
    return connect(url, url, load_keypair("", QUIET.seed))


@pytest.mark.asyncio
async def test_an_order_round_trip_through_the_engines_own_clients(
    service: RunningService,
) -> None:
    chain = _clients(service.port)
    try:
        ladder = await chain.quotes.ladder(SOL.mint, USDC.mint, [10**9, 5 * 10**11])
        assert all(len(pool.quotes) == 2 for pool in ladder.pools)
        pools = [pool.amm_key for pool in ladder.pools]
        legs = [
            LegOrder(pool=pools[0], amount_in="400000000000"),
            LegOrder(pool=pools[2], amount_in="100000000000"),
        ]
        quote = await chain.quotes.quote_legs(SOL.mint, USDC.mint, legs, 30)
        assert [step.swap_info.amm_key for step in quote.route_plan] == [pools[0], pools[2]]
        blockhash = await chain.rpc.latest_blockhash()
        swap = SwapRequest(
            input_mint=SOL.mint,
            output_mint=USDC.mint,
            legs=tuple(
                SwapLeg(
                    pool=step.swap_info.amm_key,
                    venue=pool.venue,
                    amount_in=int(step.swap_info.in_amount),
                    min_amount_out=int(step.swap_info.out_amount),
                )
                for step, pool in zip(
                    quote.route_plan, [ladder.pools[0], ladder.pools[2]], strict=True
                )
            ),
            compute_unit_price=50_000,
            memo="test",
        )
        signed = await chain.wallet.build(swap, blockhash)
        assert await chain.rpc.send_transaction(signed.transaction) == signed.signature
        assert await chain.rpc.send_transaction(signed.transaction) == signed.signature
        status = None
        for _ in range(10):  # at time scale 0 each poll of a seen tx advances one slot
            (status,) = await chain.rpc.signature_statuses([signed.signature])
            if status is not None and status.confirmation_status == "confirmed":
                break
        assert status is not None
        assert (status.confirmation_status, status.failed) == ("confirmed", False)
        (landed,) = await chain.rpc.landed_transactions([signed.signature])
        assert landed is not None
        assert landed.failure is None
        assert landed.amount_out == int(quote.out_amount)
        assert landed.fee_lamports == 5_000 + 20_000  # 50_000 µL/CU x 400k CU
        assert await chain.rpc.block_height() > blockhash.last_valid_block_height - 150
    finally:
        await chain.close()


@pytest.mark.asyncio
async def test_json_rpc_batches_and_errors_are_solanas(client: JsonClient) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
        {"jsonrpc": "2.0", "id": 2, "method": "getBalance", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "getFeeForMessage", "params": []},
        {"id": 4, "method": "getSlot"},
    ]
    status, answers = await client.call("POST", "/", batch)
    assert status == 200
    assert isinstance(answers[0]["result"], int)
    assert [answer.get("error", {}).get("code") for answer in answers] == [
        None,
        -32602,
        -32601,
        -32600,
    ]
    status, _, body = await client.raw(
        b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\n{bad}"
    )
    assert (status, b'"code":-32700' in body) == (200, True)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/quote/ladder",
            {"inputMint": "SOL", "outputMint": "USDC", "amounts": [1.5]},
            "amounts[0]",
        ),
        (
            "/quote/ladder",
            {"inputMint": "SOL", "outputMint": "USDC", "amounts": ["1"], "x": 1},
            "x",
        ),
        ("/quote/ladder", {"outputMint": "USDC", "amounts": ["1"]}, "inputMint"),
        (
            "/quote/ladder",
            {"inputMint": "SOL", "outputMint": "WIF", "amounts": ["1"]},
            "outputMint",
        ),
        (
            "/quote/legs",
            {"inputMint": "SOL", "outputMint": "USDC", "legs": [{"amountIn": "1"}]},
            "legs[0].pool",
        ),
    ],
)
@pytest.mark.asyncio
async def test_bad_quote_input_is_400_naming_the_field(
    client: JsonClient, path: str, body: object, field: str
) -> None:
    got_status, error = await client.call("POST", path, body)
    assert (got_status, error["field"]) == (400, field)
    assert error["message"]


@pytest.mark.asyncio
async def test_jupiters_quote_names_a_missing_parameter(client: JsonClient) -> None:
    status, error = await client.call("GET", "/quote?inputMint=SOL&outputMint=USDC")
    assert (status, error["field"]) == (400, "amount")
    status, quote = await client.call("GET", "/quote?inputMint=SOL&outputMint=USDC&amount=1000")
    assert (status, quote["swapMode"], len(quote["routePlan"])) == (200, "ExactIn", 1)


@pytest.mark.asyncio
async def test_malformed_requests(client: JsonClient, service: RunningService) -> None:
    status, _, body = await client.raw(
        b"POST /quote/legs HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\n{bad}"
    )
    assert status == 400
    assert b'"field":"body"' in body
    status, headers, _ = await client.raw(
        b"PUT /quote/legs HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n"
    )
    assert (status, headers["allow"]) == (405, "POST")
    status, _, _ = await client.raw(b"GET /nowhere HTTP/1.1\r\nHost: test\r\n\r\n")
    assert status == 404
    other = await JsonClient.connect(service.port)
    too_big = b"x" * (1024 * 1024 + 1)
    head = f"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: {len(too_big)}\r\n\r\n".encode()
    status, _, _ = await other.raw(head + too_big)
    assert status == 413
    await other.close()


@pytest.mark.asyncio
async def test_wall_clock_mode_advances_slots_by_itself() -> None:
    config = SimulatorConfig(seed=5, slot_ms=1, time_scale=1.0, market_activity=False)
    loop = asyncio.get_running_loop()
    get_slot = {"jsonrpc": "2.0", "id": 1, "method": "getSlot"}
    async with await start(config, "127.0.0.1", 0) as running:
        client = await JsonClient.connect(running.port)
        _, first = await client.call("POST", "/", get_slot)
        deadline = loop.time() + 5.0
        later = first
        while later["result"] == first["result"] and loop.time() < deadline:
            _, later = await client.call("POST", "/", get_slot)
        assert later["result"] > first["result"]
        _, refused = await client.call(
            "POST", "/", {"jsonrpc": "2.0", "id": 2, "method": "simulator_advanceSlots"}
        )
        assert refused["error"]["code"] == -32602  # a wall clock drives this chain
        await client.close()


@pytest.mark.asyncio
async def test_every_rpc_request_passes_the_interceptor_with_its_method_class() -> None:
    seen: list[MethodClass] = []

    async def refuse_sends(method_class: MethodClass, answer: Answer) -> web.Response:
        seen.append(method_class)
        if method_class == "send":
            return web.Response(status=429, text="rate limited")
        return await answer()

    async with await start(QUIET, "127.0.0.1", 0, interceptor=refuse_sends) as running:
        chain = _clients(running.port)
        try:
            blockhash = await chain.rpc.latest_blockhash()
            pool = (await chain.quotes.ladder(SOL.mint, USDC.mint, [10**9])).pools[0]
            leg = SwapLeg(pool=pool.amm_key, venue=pool.venue, amount_in=10**9, min_amount_out=0)
            swap = SwapRequest(
                input_mint=SOL.mint,
                output_mint=USDC.mint,
                legs=(leg,),
                compute_unit_price=0,
                memo="test",
            )
            signed = await chain.wallet.build(swap, blockhash)
            with pytest.raises(VenueUnavailable):
                await chain.rpc.send_transaction(signed.transaction)
            assert await chain.rpc.signature_statuses([signed.signature]) == [None]
        finally:
            await chain.close()
    assert seen == ["read", "send", "status"]  # quotes and pool keys are not RPC


def test_field_of_reads_msgspec_paths() -> None:
    assert (
        field_of("Expected `int | str`, got `float` - at `$.legs[0].amountIn`")
        == "legs[0].amountIn"
    )
    assert field_of("Object missing required field `pool` - at `$.legs[0]`") == "legs[0].pool"
    assert field_of("Object missing required field `signature`") == "signature"
    assert field_of("Expected `object`, got `array`") == "body"
