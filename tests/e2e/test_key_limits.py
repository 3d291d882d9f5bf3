"""A key's rate limit holds across API processes (one bucket in Redis), and no line any
process logs carries a key."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from db.migrate import migrate
from tests.support.api_keys import bearer, make_key, revoke
from tests.support.engine import Engine
from tests.support.read_side_api import wait_until
from tests.support.servers import free_port, fresh_database

ORDER = {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1"}
RATE = 5  # per second, a burst of 10


@pytest.fixture
def two_apis(postgres_admin: str, redis_server: str) -> Iterator[tuple[Engine, list[str]]]:
    with fresh_database(postgres_admin, prefix="oe_limits") as database_url:
        migrate(database_url)
        settings = {"RATE_LIMIT_PER_KEY": str(RATE), "LOG_LEVEL": "DEBUG"}
        engine = Engine(database_url, redis_server, "http://127.0.0.1:9", settings)
        ports = [free_port(), free_port()]
        try:
            for number, port in enumerate(ports):
                engine.start("api", f"api-{number}", "--port", str(port))
            yield engine, [f"http://127.0.0.1:{port}" for port in ports]
        finally:
            engine.stop()


def submitted(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


async def revocation_reaches_both(engine: Engine, apis: list[str]) -> None:
    name = f"revoked-{uuid.uuid4().hex[:6]}"
    key = make_key(engine.database_url, name)
    async with httpx.AsyncClient(timeout=10, headers=bearer(key)) as http:
        for api in apis:  # each process has the key verified and cached
            assert (await http.get(f"{api}/api/tokens")).status_code == 200
        revoke(engine.database_url, name)
        revoked_at = time.monotonic()
        refused: dict[str, float] = {}
        while len(refused) < len(apis) and time.monotonic() - revoked_at < 5:
            for api in apis:
                if api not in refused and (await http.get(f"{api}/api/tokens")).status_code == 401:
                    refused[api] = time.monotonic() - revoked_at
    assert set(refused) == set(apis)
    assert max(refused.values()) < 1.0, refused


def every_line(logs: Path) -> str:
    return "".join(path.read_text() for path in logs.glob("*.log"))


@pytest.mark.slow
async def test_the_rate_limit_and_revocations_are_shared_by_every_api_process(
    two_apis: tuple[Engine, list[str]],
) -> None:
    engine, apis = two_apis
    key = make_key(engine.database_url, f"limited-{uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient(timeout=10, headers=bearer(key)) as http:

        async def ready() -> bool:
            try:
                answers = [await http.get(f"{api}/ready") for api in apis]
            except httpx.TransportError:
                return False
            return all(a.status_code in (200, 503) for a in answers)

        await wait_until(ready, what="both API processes", seconds=60)
        started = time.monotonic()
        replies = await asyncio.gather(
            *(http.post(f"{apis[n % 2]}/api/orders/execute", json=ORDER) for n in range(40))
        )
        elapsed = time.monotonic() - started
    order_id = next(r.json()["orderId"] for r in replies if r.status_code == 202)
    # A WebSocket with the key in its URL: uvicorn logs the path of every socket.
    url = f"ws://{apis[1][len('http://') :]}/api/orders/{order_id}/stream?access_token={key}"
    async with connect(url) as socket:
        assert json.loads(await socket.recv())["type"] == "event"
    accepted = [r for r in replies if r.status_code == 202]
    limited = [r for r in replies if r.status_code == 429]
    assert len(accepted) + len(limited) == 40, {r.status_code for r in replies}
    # One bucket: the burst plus what refilled meanwhile, far from two buckets' 20.
    assert 2 * RATE <= len(accepted) <= 2 * RATE + RATE * elapsed + 1, (len(accepted), elapsed)
    assert {r.status_code for r in replies[:2]} == {202}  # both processes served the key
    assert all(int(r.headers["retry-after"]) >= 1 for r in limited)
    assert submitted(engine.database_url) == len(accepted)  # a 429 appends nothing
    await revocation_reaches_both(engine, apis)
    engine.stop()  # every line written
    lines = await asyncio.to_thread(every_line, engine.logs)
    assert "access_token=oe_" in lines  # the scan reads what uvicorn logged
    assert key.rsplit("_", 1)[1] not in lines
