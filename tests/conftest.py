"""Fixtures shared by every test: a migrated database of this run, and stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.migrate import migrate
from db.pool import create_pool
from tests.support.servers import fresh_database, postgres_admin_url, redis_url


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    return postgres_admin_url()


@pytest.fixture(scope="session")
def redis_server() -> str:
    return redis_url()


@pytest.fixture(scope="session")
def database_url(postgres_admin: str) -> Iterator[str]:
    """This run's own database, migrated; dropped when the run ends."""
    with fresh_database(postgres_admin) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    pool = create_pool(database_url, min_size=2, max_size=20, acquire_timeout_s=5)
    await pool.open(wait=True)
    yield pool
    await pool.close()


def count_events(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None
    return int(row[0])
