"""The whole engine as separate processes, kept alive the way `orderengine up` keeps it
(a process that dies is started again), on a Redis of its own so that it can be
restarted without disturbing anyone else's work on this machine. The simulator runs as
a process too, on a journal, so that it can be stopped and killed like an RPC node."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import httpx
import psycopg
import redis

from tests.support.engine import INSTANT_VENUE, Engine, running_engine
from tests.support.servers import free_port
from tests.support.simulator_process import SimulatorProcess, simulator_process
from workers.embedded_redis import embedded_redis

# An instant venue, and a short wait for a connection while PostgreSQL is cut off.
FAST = {**INSTANT_VENUE, "DB_ACQUIRE_TIMEOUT_S": "2"}
# Session ids of the connections `pg_terminate_backend` should cut: the engine's own.
_ENGINE_SESSIONS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = %s AND pid <> pg_backend_pid()"
)


class FaultRig:
    """The engine's processes by name (`dispatcher`, `projector`, `worker-0`,
    `worker-1`, `api-0`, `api-1`) and the simulator, each restarted when it exits."""

    def __init__(
        self, engine: Engine, simulator: SimulatorProcess, redis_dir: Path, redis_runs: ExitStack
    ) -> None:
        self.engine = engine
        self.simulator = simulator
        self.redis_dir = redis_dir
        self._redis_runs = redis_runs
        self.api_ports = {"api-0": free_port(), "api-1": free_port()}
        self.restarts: dict[str, int] = {}
        self._simulator_restarted = asyncio.Event()

    @property
    def apis(self) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.api_ports.values()]

    def start(self, name: str) -> None:
        if name in self.api_ports:
            self.engine.start("api", name, "--port", str(self.api_ports[name]))
        else:
            self.engine.start(name.split("-")[0], name)

    def kill(self, name: str) -> None:
        """SIGKILL `name`; the supervision loop starts it again."""
        self.engine.processes[name].kill()

    async def supervise(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for name, process in list(self.engine.processes.items()):
                if process.poll() is not None:
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self.start(name)
            if self.simulator.exited():
                self.restarts["simulator"] = self.restarts.get("simulator", 0) + 1
                self.simulator.start()
                self._simulator_restarted.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)

    async def wait_for_apis(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=1) as client:
            for api in self.apis:
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"http://{api}/ready")).status_code == 200:
                            break
                    assert time.monotonic() < deadline, f"{api} not ready; logs in {self.logs}"
                    await asyncio.sleep(0.05)

    @property
    def logs(self) -> Path:
        return self.engine.logs

    def cut_database_connections(self) -> int:
        name = psycopg.conninfo.conninfo_to_dict(self.engine.database_url)["dbname"]
        with psycopg.connect(self.engine.database_url, autocommit=True) as conn:
            return len(conn.execute(_ENGINE_SESSIONS, (name,)).fetchall())

    def restart_redis(self) -> None:
        """SHUTDOWN (it writes its append-only file) and start again on the same socket."""
        with contextlib.suppress(redis.ConnectionError, OSError):
            redis.Redis.from_url(self.engine.redis_url, socket_timeout=5).shutdown()
        self._redis_runs.enter_context(embedded_redis(self.redis_dir))

    async def stop_simulator(self, seconds: float) -> None:
        """SIGSTOP the simulator: requests wait unanswered, then SIGCONT resumes it."""
        self.simulator.signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.simulator.signal(signal.SIGCONT)

    async def kill_simulator(self) -> None:
        """SIGKILL the simulator; supervision starts it again on its journal. Returns
        once it answers again."""
        self._simulator_restarted.clear()
        self.simulator.kill()
        await asyncio.wait_for(self._simulator_restarted.wait(), 30)
        await asyncio.to_thread(self.simulator.wait_healthy)


@asynccontextmanager
async def fault_rig(postgres_admin: str, scratch: Path) -> AsyncIterator[FaultRig]:
    """Everything running, supervised; stopped and dropped after the block."""
    with ExitStack() as stack:
        redis_url = stack.enter_context(embedded_redis(scratch / "redis"))
        # Redis restarted by a fault stops only after the engine, which still uses it.
        redis_runs = stack.enter_context(ExitStack())
        sim = stack.enter_context(simulator_process(scratch / "simulator", seed=11))
        engine = stack.enter_context(
            running_engine(postgres_admin, redis_url, sim.url, workers=2, settings=FAST)
        )
        rig = FaultRig(engine, sim, scratch / "redis", redis_runs)
        for name in ("projector", "api-0", "api-1"):
            rig.start(name)
        stop = asyncio.Event()
        supervision = asyncio.create_task(rig.supervise(stop))
        try:
            await rig.wait_for_apis()
            yield rig
        finally:
            stop.set()
            await supervision
