"""The whole engine behind a real API process, as a browser sees it: the simulator on a
thread, the dispatcher, a worker, the projector, the evaluator and `orderengine api` on a
free port. The dashboard's browser tests and `bench/dashboard.py` run against it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from simulator.config import SimulatorConfig
from tests.support.engine import INSTANT_VENUE, Engine, running_engine
from tests.support.servers import free_port, wait_ready
from tests.support.simulator_thread import SimulatorThread, simulator_thread

# Generous: the API process imports and migrates first, and CI machines are busy.
READY_TIMEOUT_S = 180.0


@dataclass
class DashboardEngine:
    engine: Engine
    simulator: SimulatorThread
    base_url: str

    @property
    def admin_key(self) -> str:
        return self.engine.admin_key

    @property
    def auth(self) -> dict[str, str]:
        """Headers of the admin key, for the tests' own API calls."""
        return self.engine.auth

    def rpc(self, method: str, params: dict[str, Any]) -> Any:
        """A simulator JSON-RPC call (control methods such as `simulator_movePrice`)."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [params]}
        reply = httpx.post(self.simulator.url, json=body, timeout=10)
        return reply.json()["result"]


@contextmanager
def running_dashboard(
    postgres_admin: str,
    redis_url: str,
    config: SimulatorConfig,
    *,
    workers: int = 1,
    settings: dict[str, str] | None = None,
) -> Iterator[DashboardEngine]:
    with (
        simulator_thread(config) as simulator,
        running_engine(
            postgres_admin,
            redis_url,
            simulator.url,
            workers=workers,
            settings={**INSTANT_VENUE, **(settings or {})},
        ) as engine,
    ):
        port = free_port()
        for role in ("projector", "evaluator"):
            engine.start(role)
        engine.start("api", "api", "--port", str(port))
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(base_url, READY_TIMEOUT_S, engine.logs)
        yield DashboardEngine(engine, simulator, base_url)
