"""The read side against the real engine: a client on the submit-path WebSocket sees
`pending` through `confirmed` with no gap, a reconnect resumes exactly, the projector
process serves the snapshot, and `replay --verify` and `history` agree with the log."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import pytest
from websockets.asyncio.client import connect

from db.pool import create_pool
from tests.e2e.conftest import StackFactory
from tests.support.read_side_api import serving, wait_until
from tests.support.servers import PROJECT_ROOT

ORDER = {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}


@pytest.mark.slow
async def test_a_live_order_streams_to_confirmed_and_the_tools_agree(
    stack: StackFactory, redis_server: str
) -> None:
    async with stack() as running:
        engine = running.engine
        engine.start("projector")
        pool = create_pool(engine.database_url, min_size=1, max_size=8, acquire_timeout_s=5)
        await pool.open(wait=True)
        try:
            async with serving(pool, redis_server) as api:
                async with connect(
                    f"ws://{api.base_url}/api/orders/execute", additional_headers=api.auth
                ) as socket:
                    await socket.send(json.dumps(ORDER))
                    accepted = json.loads(await socket.recv())
                    messages = [json.loads(raw) async for raw in socket]
                    assert socket.close_code == 1000
                order_id = accepted["orderId"]
                events = [m for m in messages if m["type"] == "event"]
                assert [m["version"] for m in events] == list(range(1, len(events) + 1))
                statuses = [m["status"] for m in events]
                assert statuses[0] == "pending"
                assert statuses[-1] == "confirmed"
                assert {"routing", "building", "submitted"} <= set(statuses)

                url = f"ws://{api.base_url}/api/orders/{order_id}/stream?afterVersion=3"
                async with connect(url, additional_headers=api.auth) as socket:
                    resumed = [json.loads(raw) for raw in [m async for m in socket]]
                assert [m["version"] for m in resumed if m["type"] == "event"] == list(
                    range(4, len(events) + 1)
                )

                async with httpx.AsyncClient(
                    base_url=f"http://{api.base_url}", headers=api.auth
                ) as client:

                    async def projected() -> bool:
                        reply = await client.get(f"/api/orders/{order_id}")
                        return reply.status_code == 200 and reply.json()["status"] == "confirmed"

                    await wait_until(projected, what="the projector process", seconds=20)
                    snapshot = (await client.get(f"/api/orders/{order_id}")).json()
                assert snapshot["chosenVenue"] in ("raydium", "meteora")
                assert snapshot["executedPrice"]
        finally:
            await pool.close()
        env = engine.environment()
        code, out = await _orderengine(env, "replay", "--verify")
        assert code == 0, out
        assert "verify: no difference" in out
        code, out = await _orderengine(env, "history", order_id)
        assert code == 0, out
        assert "route chosen" in out
        assert "why:" in out


async def _orderengine(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run an `orderengine` tool without blocking this loop (it serves the simulator)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orderengine",
        *args,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    return await process.wait(), output.decode()
