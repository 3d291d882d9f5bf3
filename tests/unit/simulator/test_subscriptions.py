"""`logsSubscribe` on the simulator's WebSocket: a pool creation is pushed once, when its
block reaches the subscription's commitment, in Solana's shapes; bad requests get
Solana's errors; a closed connection's subscriptions end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from simulator.config import SimulatorConfig
from simulator.launch_tx import CREATE_POOL_FEE
from simulator.service import RunningService, start

QUIET = SimulatorConfig(seed=5, skip_rate=0.0, fork_prob=0.0, market_activity=False)
LAUNCH = {"quoteToken": "SOL"}


@pytest_asyncio.fixture
async def service() -> AsyncIterator[RunningService]:
    running = await start(QUIET, "127.0.0.1", 0)
    async with running:
        yield running


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def _rpc(
    session: aiohttp.ClientSession, service: RunningService, method: str, *params: object
) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    async with session.post(f"http://127.0.0.1:{service.port}/", json=body) as reply:
        answer = await reply.json()
    assert "error" not in answer, answer
    return answer["result"]


async def _next(socket: aiohttp.ClientWebSocketResponse, seconds: float = 2.0) -> Any:
    return await asyncio.wait_for(socket.receive_json(), seconds)


async def _subscribe(socket: aiohttp.ClientWebSocketResponse, commitment: str = "confirmed") -> int:
    await socket.send_json(
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "logsSubscribe",
            "params": [{"mentions": [CREATE_POOL_FEE]}, {"commitment": commitment}],
        }
    )
    answer = await _next(socket)
    assert answer["id"] == 7
    assert isinstance(answer["result"], int)
    return int(answer["result"])


async def test_a_creation_is_pushed_once_when_its_block_is_confirmed(
    service: RunningService, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(f"ws://127.0.0.1:{service.port}/") as socket:
        subscription = await _subscribe(socket)
        launched = await _rpc(session, service, "simulator_launchPool", LAUNCH)
        with pytest.raises(TimeoutError):  # processed only: not yet
            await _next(socket, 0.3)
        await _rpc(session, service, "simulator_advanceSlots", {"slots": 1})
        pushed = await _next(socket)
        assert pushed["method"] == "logsNotification"
        assert pushed["params"]["subscription"] == subscription
        value = pushed["params"]["result"]["value"]
        assert value["signature"] == launched["signature"]
        assert value["err"] is None
        assert any("pool_created" in line for line in value["logs"])
        assert pushed["params"]["result"]["context"]["slot"] == launched["slot"]
        await _rpc(session, service, "simulator_advanceSlots", {"slots": 5})
        with pytest.raises(TimeoutError):  # once
            await _next(socket, 0.3)


async def test_an_unsubscribed_or_closed_subscription_hears_nothing_more(
    service: RunningService, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(f"ws://127.0.0.1:{service.port}/") as socket:
        subscription = await _subscribe(socket)
        await socket.send_json(
            {"jsonrpc": "2.0", "id": 8, "method": "logsUnsubscribe", "params": [subscription]}
        )
        assert (await _next(socket))["result"] is True
        await _rpc(session, service, "simulator_launchPool", LAUNCH)
        await _rpc(session, service, "simulator_advanceSlots", {"slots": 2})
        with pytest.raises(TimeoutError):
            await _next(socket, 0.3)
    async with session.ws_connect(f"ws://127.0.0.1:{service.port}/") as socket:
        await _subscribe(socket)
    # The first connection's subscription went with it; the launch still announces to
    # nobody and nothing fails.
    await _rpc(session, service, "simulator_launchPool", LAUNCH)
    await _rpc(session, service, "simulator_advanceSlots", {"slots": 2})
    assert service.server.subscriptions.live == 0


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"method": "logsSubscribe", "params": [{"mentions": ["a", "b"]}]}, -32602),
        ({"method": "logsSubscribe", "params": ["all"]}, -32602),
        ({"method": "logsSubscribe", "params": [{"mentions": ["a"]}, {"commitment": "x"}]}, -32602),
        ({"method": "logsUnsubscribe", "params": [999]}, -32602),
        ({"method": "slotSubscribe", "params": []}, -32601),
    ],
)
async def test_bad_requests_get_solanas_errors(
    service: RunningService, session: aiohttp.ClientSession, call: dict[str, Any], code: int
) -> None:
    async with session.ws_connect(f"ws://127.0.0.1:{service.port}/") as socket:
        await socket.send_json({"jsonrpc": "2.0", "id": 3, **call})
        answer = await _next(socket)
        assert answer["id"] == 3
        assert answer["error"]["code"] == code
        await socket.send_str("{not json")
        assert (await _next(socket))["error"]["code"] == -32700
