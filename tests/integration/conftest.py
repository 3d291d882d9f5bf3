"""An API wired to this run's PostgreSQL and Redis, driven in-process over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
import redis.asyncio as aioredis
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from api.services import ApiServices
from db.event_store import PostgresEventStore
from db.migrate import migrate
from tests.support.api_keys import bearer, key_ring, make_key, pool_url
from tests.support.consumers import EFFECTS_TABLE
from tests.support.servers import fresh_database


@pytest.fixture
async def client(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    # The client is made per request so it belongs to whichever loop serves the app.
    async def probe_postgres() -> None:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def probe_redis() -> None:
        redis_client = aioredis.Redis.from_url(redis_server)
        try:
            await redis_client.ping()
        finally:
            await redis_client.aclose()

    services = ApiServices(
        store=PostgresEventStore(pool),
        keys=key_ring(pool),
        probes={"postgres": probe_postgres, "redis": probe_redis},
    )
    async with AsyncTestClient(create_app(services)) as test_client:
        test_client.headers.update(bearer(make_key(pool_url(pool), admin=True)))
        yield test_client


@pytest.fixture
def own_database(postgres_admin: str) -> Iterator[str]:
    """A migrated database of the test's own: for tests that cut every session of
    their database, or run a consumer whose checkpoint no other test may move."""
    with fresh_database(postgres_admin, prefix="oe_own") as url:
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(EFFECTS_TABLE)
        yield url
