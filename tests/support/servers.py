"""Where tests get PostgreSQL and Redis: a server named by the environment, the
machine's own on the default port, or an embedded one; never anyone's data.

Each test run creates its own database and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg
import redis
from psycopg import sql

from orderengine.embedded_postgres import embedded_postgres
from orderengine.embedded_redis import embedded_redis

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
# Embedded servers started for this test run, stopped when it ends.
_EMBEDDED = ExitStack()
atexit.register(_EMBEDDED.close)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_admin_url() -> str:
    """A URL with the right to create databases: TEST_DATABASE_URL, the local server,
    or an embedded server under .data/test-postgres."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured
    try:
        psycopg.connect(LOCAL_POSTGRES, connect_timeout=2).close()
    except psycopg.OperationalError:
        return _EMBEDDED.enter_context(embedded_postgres(PROJECT_ROOT / ".data" / "test-postgres"))
    return LOCAL_POSTGRES


def redis_url() -> str:
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        return configured
    try:
        redis.Redis.from_url(LOCAL_REDIS, socket_timeout=1).ping()
    except (redis.RedisError, OSError):
        return _EMBEDDED.enter_context(embedded_redis(PROJECT_ROOT / ".data" / "test-redis"))
    return LOCAL_REDIS


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database on the same server."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = database
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


@contextmanager
def fresh_database(admin_url: str, prefix: str = "oe_test") -> Iterator[str]:
    """A new, empty database for the duration of the block; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def wait_ready(base_url: str, seconds: float, logs: object = None) -> None:
    """Until `base_url`'s `/ready` answers 200; fails after `seconds` (saying where the
    logs are, when given)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base_url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(_not_ready(base_url, seconds, logs))
        time.sleep(0.05)


async def wait_ready_async(base_url: str, seconds: float, logs: object = None) -> None:
    """`wait_ready` for a caller on an event loop."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(f"{base_url}/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(_not_ready(base_url, seconds, logs))
            await asyncio.sleep(0.05)


def _not_ready(base_url: str, seconds: float, logs: object) -> str:
    where = f"; logs in {logs}" if logs is not None else ""
    return f"the API at {base_url} was not ready after {seconds:.0f} s{where}"
