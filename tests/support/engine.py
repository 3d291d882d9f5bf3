"""The engine's processes for end-to-end tests and benchmarks: a dispatcher and
workers as real `orderengine` processes on a database and broker namespace of their own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

from db.migrate import migrate
from tests.support.api_keys import TEST_SECRET, bearer, make_key
from tests.support.servers import fresh_database

FINAL_EVENTS = ("OrderConfirmed", "OrderFailed", "OrderExpired", "OrderCancelled")
# Settings for an instant venue (time scale 0): look again at once, retry soon, and
# recover lost steps fast.
INSTANT_VENUE = {
    "POLL_INTERVAL_MS": "0",
    "RETRY_BACKOFF_MS": "50",
    "RECOVER_AFTER_MS": "2000",
    "DISPATCH_POLL_MS": "10",
    "WORKER_THREADS": "8",
}


@dataclass
class Engine:
    database_url: str
    redis_url: str
    simulator_url: str
    settings: dict[str, str]
    namespace: str = field(default_factory=lambda: f"oe-test-{uuid.uuid4().hex[:10]}")
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="oe-e2e-")))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Per process name: a command prefix (`ip netns exec NS`) and settings of its own.
    wrappers: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    admin_key: str = ""  # made by `running_engine`; its API processes hash with TEST_SECRET

    @property
    def auth(self) -> dict[str, str]:
        """Headers of the admin key (HTTP and WebSockets)."""
        return bearer(self.admin_key)

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SIMULATOR_URL": self.simulator_url,
            "BROKER_NAMESPACE": self.namespace,
            "LOG_LEVEL": "WARNING",
            "DISPATCHER_METRICS_PORT": "0",  # engines of parallel runs would share the port
            "API_KEY_SECRET": TEST_SECRET,
            "RATE_LIMIT_PER_KEY": "0",  # one admin key carries every test client's load
            **self.settings,
        }

    def start(self, role: str, name: str | None = None, *args: str) -> subprocess.Popen[bytes]:
        name = name or role
        prefix, own = self.wrappers.get(name, ([], {}))
        with (self.logs / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                [*prefix, sys.executable, "-m", "orderengine", role, *args],
                env={**self.environment(), **own},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hooks, prefetched messages die with the process."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        client = redis.Redis.from_url(self.redis_url)
        keys = list(client.scan_iter(match=f"{self.namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()

    def final_count(self) -> int:
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM events WHERE event_type = ANY(%s)", (list(FINAL_EVENTS),)
            ).fetchone()
        return int(row[0]) if row else 0

    async def wait_for_final(self, count: int, timeout_s: float) -> float:
        """Seconds until `count` orders are final; raises after `timeout_s`. Async, so a
        simulator served by this event loop keeps answering meanwhile."""
        started = time.monotonic()
        deadline = started + timeout_s
        while self.final_count() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.final_count()} of {count} orders final after {timeout_s} s;"
                    f" logs in {self.logs}"
                )
            await asyncio.sleep(0.05)
        return time.monotonic() - started


@contextmanager
def running_engine(
    postgres_admin: str,
    redis_url: str,
    simulator_url: str,
    *,
    workers: int = 1,
    settings: dict[str, str] | None = None,
) -> Iterator[Engine]:
    """A fresh database, a dispatcher and `workers` worker processes; all gone after."""
    with fresh_database(postgres_admin, prefix="oe_e2e") as database_url:
        migrate(database_url)
        engine = Engine(database_url, redis_url, simulator_url, settings or {})
        engine.admin_key = make_key(database_url, admin=True)
        try:
            engine.start("dispatcher")
            for number in range(workers):
                engine.start("worker", f"worker-{number}")
            yield engine
        finally:
            engine.stop()
