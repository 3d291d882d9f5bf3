"""`/metrics` with several API processes behind one port: a scrape reaches any one of
them, yet counts the requests all of them served."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from db.migrate import migrate
from tests.support.read_side_api import wait_until
from tests.support.servers import PROJECT_ROOT, free_port, fresh_database

REQUESTS = 40


@pytest.fixture
def two_api_processes(postgres_admin: str, redis_server: str) -> Iterator[str]:
    with fresh_database(postgres_admin, prefix="oe_metrics") as database_url:
        migrate(database_url)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server,
            "API_PROCESSES": "2",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        api = subprocess.Popen(
            [sys.executable, "-m", "orderengine", "api", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            api.terminate()
            api.wait(20)


def _health_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        if family.name == "orderengine_http_request_duration_seconds":
            return sum(
                s.value
                for s in family.samples
                if s.name.endswith("_count") and s.labels["route"] == "/health"
            )
    return 0.0


@pytest.mark.slow
async def test_every_scrape_counts_the_requests_of_every_process(two_api_processes: str) -> None:
    # A new connection per request, so the kernel spreads them over both processes.
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=two_api_processes, limits=fresh) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(ready, what="the API processes", seconds=60)
        for _ in range(REQUESTS):
            assert (await client.get("/health")).status_code == 200
        scrapes = [_health_count((await client.get("/metrics")).text) for _ in range(10)]
    assert scrapes == [REQUESTS] * 10
