"""The event store under test: each contract test runs against both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg import sql

from api.services import EventLog
from db.event_store import PostgresEventStore
from db.memory import InMemoryEventStore
from db.migrate import migrate
from db.pool import create_pool
from tests.support.servers import fresh_database, with_database


@pytest.fixture(scope="session")
def template_database(postgres_admin: str) -> Iterator[str]:
    """A migrated database that each Postgres test copies, so tests start empty."""
    with fresh_database(postgres_admin, prefix="oe_template") as url:
        migrate(url)
        yield psycopg.conninfo.conninfo_to_dict(url)["dbname"]  # type: ignore[misc]


@pytest.fixture
def empty_database(postgres_admin: str, template_database: str) -> Iterator[str]:
    name = f"{template_database}_copy"
    with psycopg.connect(postgres_admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    try:
        yield with_database(postgres_admin, name)
    finally:
        with psycopg.connect(postgres_admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[EventLog]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    url: str = request.getfixturevalue("empty_database")
    pool = create_pool(url, min_size=1, max_size=8, acquire_timeout_s=5)
    await pool.open(wait=True)
    try:
        yield PostgresEventStore(pool)
    finally:
        await pool.close()
