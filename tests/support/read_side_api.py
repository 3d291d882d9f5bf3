"""The API with its read side, served by a real uvicorn on this test loop, and the
projector running in-process: what the read-side tests talk to."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as aioredis
import uvicorn
from litestar import Litestar
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from api.rate_limit import KeyRateLimit
from api.read_side import ReadSide, build_read_side
from api.services import ApiServices
from db.event_store import PostgresEventStore
from db.pool import create_pool
from db.subscription import SubscriptionRunner
from db.wakeups import CommitNudger
from projections.order_projector import OrderSnapshotProjection
from tests.support.api_keys import bearer, key_ring, make_key, pool_url


class ReadSideApi:
    def __init__(
        self, app: Litestar, store: PostgresEventStore, read_side: ReadSide, admin_key: str
    ) -> None:
        self.app = app
        self.store = store
        self.read_side = read_side
        self.base_url = ""
        self.admin_key = admin_key
        self.auth = bearer(admin_key)  # headers of an admin key, for HTTP and WebSockets


def read_side_api(
    pool: AsyncConnectionPool[AsyncConnection],
    redis_url: str,
    *,
    queue_capacity: int = 256,
    allowed_origins: tuple[str, ...] = (),
    max_sockets_per_key: int = 100,
    rate_limit_per_key: int = 0,
) -> tuple[ReadSideApi, aioredis.Redis]:
    redis_client = aioredis.Redis.from_url(redis_url)
    store = PostgresEventStore(pool, on_commit=CommitNudger(redis_client).nudge)
    read_side, tasks = build_read_side(
        pool, store, redis_url, poll_interval_s=0.02, queue_capacity=queue_capacity
    )
    services = ApiServices(
        store=store,
        keys=key_ring(pool, max_sockets_per_key=max_sockets_per_key),
        rate_limit=KeyRateLimit(
            redis_client, f"oe-test-{uuid.uuid4().hex[:8]}", rate_limit_per_key
        ),
        on_startup=[tasks.start],
        on_shutdown=[tasks.stop],
        read_side=read_side,
        pool_stats=pool.pop_stats,
        allowed_origins=allowed_origins,
    )
    admin_key = make_key(pool_url(pool), admin=True)
    return ReadSideApi(create_app(services), store, read_side, admin_key), redis_client


@asynccontextmanager
async def serving(
    pool: AsyncConnectionPool[AsyncConnection],
    redis_url: str,
    *,
    queue_capacity: int = 256,
    allowed_origins: tuple[str, ...] = (),
    max_sockets_per_key: int = 100,
    rate_limit_per_key: int = 0,
) -> AsyncIterator[ReadSideApi]:
    """A real HTTP/WebSocket server on a free port, on the running loop."""
    api, redis_client = read_side_api(
        pool,
        redis_url,
        queue_capacity=queue_capacity,
        allowed_origins=allowed_origins,
        max_sockets_per_key=max_sockets_per_key,
        rate_limit_per_key=rate_limit_per_key,
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(api.app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await wait_until(lambda: server.started, what="the API started")
    await asyncio.wait_for(api.read_side.feed.started.wait(), 10)
    api.base_url = f"127.0.0.1:{port}"
    try:
        yield api
    finally:
        server.should_exit = True
        await task
        listener.close()
        await redis_client.aclose()


@asynccontextmanager
async def projecting(database_url: str, store: PostgresEventStore) -> AsyncIterator[None]:
    """The live `order_snapshots` projector, in-process, until the block ends."""
    stop = asyncio.Event()
    runner = SubscriptionRunner(
        database_url, store, OrderSnapshotProjection(store), poll_interval_s=0.01
    )
    task = asyncio.create_task(runner.run_until_stopped(stop))
    await asyncio.wait_for(runner.active.wait(), 10)
    try:
        yield
    finally:
        stop.set()
        await task


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, what: str, seconds: float = 10
) -> None:
    """Wait for `condition`, checking every 10 ms, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        outcome = condition()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def projected_snapshots(
    database_url: str, redis_url: str, order_ids: list[str], status: str, seconds: float = 30
) -> list[dict[str, Any]]:
    """The snapshots of `order_ids` as a read-side API over `database_url` serves them
    (the engine's projector writes them), once the first one shows `status`."""
    pool = create_pool(database_url, min_size=1, max_size=4, acquire_timeout_s=5)
    await pool.open(wait=True)
    try:
        async with (
            serving(pool, redis_url) as api,
            httpx.AsyncClient(base_url=f"http://{api.base_url}", headers=api.auth) as reader,
        ):

            async def projected() -> bool:
                reply = await reader.get(f"/api/orders/{order_ids[0]}")
                return reply.status_code == 200 and reply.json()["status"] == status

            await wait_until(projected, what="the projector", seconds=seconds)
            return [(await reader.get(f"/api/orders/{order}")).json() for order in order_ids]
    finally:
        await pool.close()
