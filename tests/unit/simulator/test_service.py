import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from simulator.config import SimulatorConfig
from simulator.routes import field_of
from simulator.service import RunningService, start
from tests.unit.simulator.http_client import JsonClient
from tests.unit.simulator.orders import signature

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


@pytest.mark.asyncio
async def test_order_round_trip_over_one_keep_alive_connection(client: JsonClient) -> None:
    status, health = await client.call("GET", "/health")
    assert (status, health["status"]) == (200, "ok")
    status, universe = await client.call("GET", "/tokens")
    assert status == 200
    assert [t["symbol"] for t in universe["tokens"]] == ["SOL", "USDC", "MEME", "JUP"]
    pools = [p["address"] for p in universe["pools"] if p["pair"] == "SOL/USDC"]

    status, ladder = await client.call(
        "POST",
        "/quote",
        {"inputMint": "SOL", "outputMint": "USDC", "amounts": ["1000000000", 5 * 10**11]},
    )
    assert status == 200
    assert [p["ammKey"] for p in ladder["pools"]] == pools
    assert all(len(p["quotes"]) == 2 for p in ladder["pools"])

    legs = [
        {"pool": pools[0], "amountIn": "400000000000"},
        {"pool": pools[2], "amountIn": "100000000000"},
    ]
    status, quote = await client.call(
        "POST",
        "/quote/legs",
        {"inputMint": "SOL", "outputMint": "USDC", "legs": legs, "slippageBps": 30},
    )
    assert status == 200
    assert [step["bps"] for step in quote["routePlan"]] == [8000, 2000]

    _, blockhash = await client.call("GET", "/blockhash")
    order = {
        "signature": signature("http-order"),
        "inputMint": "SOL",
        "outputMint": "USDC",
        "legs": legs,
        "minAmountOut": quote["otherAmountThreshold"],
        "lastValidBlockHeight": blockhash["lastValidBlockHeight"],
        "recentBlockhash": blockhash["blockhash"],
        "computeUnitPrice": 50_000,
    }
    status, sent = await client.call("POST", "/transactions", order)
    assert (status, sent["duplicate"], sent["status"]["state"]) == (202, False, "pending")
    status, again = await client.call("POST", "/transactions", order)
    assert (status, again["duplicate"]) == (200, True)

    for _ in range(10):  # at time_scale 0 each poll of a seen tx advances one slot
        status, statuses = await client.call(
            "POST", "/signature-statuses", {"signatures": [order["signature"]]}
        )
        assert status == 200
        (tx,) = statuses["value"]
        if tx["confirmationStatus"] == "confirmed":
            break
    assert tx["state"] == "confirmed"
    assert tx["err"] is None
    assert tx["result"]["outAmount"] == quote["outAmount"]
    assert tx["result"]["feeLamports"] == 5_000 + 20_000  # 50_000 µL/CU x 400k CU

    status, height = await client.call("GET", "/block-height")
    assert status == 200
    assert height["blockHeight"] > blockhash["blockHeight"]
    status, advanced = await client.call("POST", "/slots/advance", {"slots": 3})
    assert advanced["slot"] == height["slot"] + 3


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/quote", {"inputMint": "SOL", "outputMint": "USDC", "amounts": [1.5]}, 400, "amounts[0]"),
        ("/quote", {"inputMint": "SOL", "outputMint": "USDC", "amounts": ["1"], "x": 1}, 400, "x"),
        ("/quote", {"outputMint": "USDC", "amounts": ["1"]}, 400, "inputMint"),
        ("/quote", {"inputMint": "SOL", "outputMint": "WIF", "amounts": ["1"]}, 400, "outputMint"),
        (
            "/quote/legs",
            {"inputMint": "SOL", "outputMint": "USDC", "legs": [{"amountIn": "1"}]},
            400,
            "legs[0].pool",
        ),
        ("/signature-statuses", {"signatures": "abc"}, 400, "signatures"),
        ("/transactions", {"signature": "1"}, 400, "inputMint"),
    ],
)
@pytest.mark.asyncio
async def test_bad_input_is_4xx_naming_the_field(
    client: JsonClient, path: str, body: object, status: int, field: str
) -> None:
    got_status, error = await client.call("POST", path, body)
    assert (got_status, error["field"]) == (status, field)
    assert error["message"]


@pytest.mark.asyncio
async def test_malformed_requests(client: JsonClient, service: RunningService) -> None:
    status, _, body = await client.raw(b"POST /quote HTTP/1.1\r\nContent-Length: 5\r\n\r\n{bad}")
    assert status == 400
    assert b'"field":"body"' in body
    status, headers, _ = await client.raw(b"PUT /quote HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert (status, headers["allow"]) == (405, "POST")
    status, _, _ = await client.raw(b"GET /nowhere HTTP/1.1\r\n\r\n")
    assert status == 404
    other = await JsonClient.connect(service.port)
    status, headers, _ = await other.raw(
        b"POST /quote HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"
    )
    assert (status, headers["connection"]) == (413, "close")
    await other.close()


@pytest.mark.asyncio
async def test_wall_clock_mode_advances_slots_by_itself() -> None:
    config = SimulatorConfig(seed=5, slot_ms=1, time_scale=1.0, market_activity=False)
    loop = asyncio.get_running_loop()
    async with await start(config, "127.0.0.1", 0) as running:
        client = await JsonClient.connect(running.port)
        _, first = await client.call("GET", "/block-height")
        deadline = loop.time() + 5.0
        later = first
        while later["slot"] == first["slot"] and loop.time() < deadline:
            _, later = await client.call("GET", "/block-height")
        assert later["slot"] > first["slot"]
        await client.close()


def test_field_of_reads_msgspec_paths() -> None:
    assert (
        field_of("Expected `int | str`, got `float` - at `$.legs[0].amountIn`")
        == "legs[0].amountIn"
    )
    assert field_of("Object missing required field `pool` - at `$.legs[0]`") == "legs[0].pool"
    assert field_of("Object missing required field `signature`") == "signature"
    assert field_of("Expected `object`, got `array`") == "body"
