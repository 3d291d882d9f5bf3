"""The whole engine as separate processes, kept alive the way `orderengine up` keeps it
(a process that dies is started again, and counted), on a Redis of its own so that it
can be restarted without disturbing anyone else's work on this machine. The simulator
runs as a process too, on a journal, so that it can be stopped and killed like an RPC
node, and turned hostile (`simulator.hostile`) while it runs.

The engine reaches Redis through a TCP proxy that can become a black hole
(`tests.support.tcp_proxy`). Where the kernel allows (root, iproute2), `worker-1` runs
in a network namespace of its own (`tests.support.netns`) and reaches PostgreSQL, Redis
and the simulator only over its veth link, through proxies listening on the link's
address (PostgreSQL itself listens on 127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import redis

from orderengine.embedded_redis import embedded_redis
from orderengine.readiness import marked_ready
from tests.support import netns
from tests.support.engine import INSTANT_VENUE, Engine, running_engine
from tests.support.servers import free_port
from tests.support.simulator_process import SimulatorProcess, simulator_process
from tests.support.tcp_proxy import Target, TcpProxy, tcp_proxy

# An instant venue, a short wait for a connection while PostgreSQL is cut off, and an RPC
# client that gives up on an answer after 1 s (a hostile node holds answers longer).
FAST = {**INSTANT_VENUE, "DB_ACQUIRE_TIMEOUT_S": "2", "RPC_TIMEOUT_MS": "1000"}
# The engine's own sessions, by the application_name db/pool.py gives them.
ENGINE_APPLICATION = "orderengine"
# The longest-running transaction of the engine's that holds the read horizon back:
# one with a transaction id (pg_snapshot_xmin waits for it) or a snapshot.
_HORIZON_HELD_S = (
    "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)"
    " FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()"
    " AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)"
)
NETNS_WORKER = "worker-1"
# Session ids of the connections `pg_terminate_backend` should cut: the engine's own.
_ENGINE_SESSIONS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = %s AND pid <> pg_backend_pid()"
)


class HorizonSampler:
    def __init__(self, database_url: str, every_s: float) -> None:
        self.database_url = database_url
        self.every_s = every_s
        self.longest_s = 0.0
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with psycopg.connect(
                    self.database_url, autocommit=True, application_name="fault-rig"
                ) as conn:
                    while not self.stop.wait(self.every_s):
                        row = conn.execute(_HORIZON_HELD_S, (ENGINE_APPLICATION,)).fetchone()
                        self.longest_s = max(self.longest_s, float(row[0]) if row else 0.0)
                        self.samples += 1
            except psycopg.Error:
                self.stop.wait(0.2)  # the fault cut this connection too


class FaultRig:
    """The engine's processes by name (`dispatcher`, `projector`, `worker-0`,
    `worker-1`, `api-0`, `api-1`) and the simulator, each restarted when it exits."""

    def __init__(
        self,
        engine: Engine,
        simulator: SimulatorProcess,
        redis_dir: Path,
        redis_runs: ExitStack,
        redis_proxy: TcpProxy,
        namespace: netns.Namespace | None,
    ) -> None:
        self.engine = engine
        self.simulator = simulator
        self.redis_dir = redis_dir
        self._redis_runs = redis_runs
        self.redis_proxy = redis_proxy
        self.namespace = namespace
        self.api_ports = {"api-0": free_port(), "api-1": free_port()}
        self.restarts: dict[str, int] = {}
        self.planned: dict[str, int] = {}  # restarts a fault asked for (a SIGKILL)
        self.hostile_counts: dict[str, int] = {}  # what the last hostile row's node did
        self._simulator_restarted = asyncio.Event()
        self._killing = 0

    @property
    def apis(self) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.api_ports.values()]

    def start(self, name: str) -> None:
        if name in self.api_ports:
            self.engine.start("api", name, "--port", str(self.api_ports[name]))
        else:
            self.engine.start(name.split("-")[0], name)

    def kill(self, name: str) -> None:
        """SIGKILL `name`; the supervision loop starts it again (a planned restart)."""
        self.planned[name] = self.planned.get(name, 0) + 1
        self.engine.processes[name].kill()

    def unplanned_restarts(self) -> int:
        """Processes that exited on their own (or crashed) and were started again."""
        return sum(self.restarts.values()) - sum(self.planned.values())

    @contextlib.contextmanager
    def horizon_sampler(self, every_s: float = 0.02) -> Iterator[HorizonSampler]:
        """Samples, on a thread, how long the engine's oldest transaction holding the
        read horizon has run, every `every_s`, for the block."""
        sampler = HorizonSampler(self.engine.database_url, every_s)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        try:
            yield sampler
        finally:
            sampler.stop.set()
            thread.join(10)

    def hostile(self, modes: str | None) -> dict[str, Any]:
        """Make the simulator a hostile node (`simulator.hostile` modes; "" ends it;
        None only reads them): its modes, and what each did since they were set."""
        call = {"jsonrpc": "2.0", "id": 1, "method": "simulator_hostile"}
        params = [] if modes is None else [{"modes": modes}]
        answer = httpx.post(self.simulator.url, json={**call, "params": params})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()["result"]
        return result

    async def black_hole_redis(self, seconds: float) -> None:
        """Redis accepts connections and answers nothing for `seconds`."""
        self.redis_proxy.black_hole()
        try:
            await asyncio.sleep(seconds)
        finally:
            self.redis_proxy.open()

    async def network_fault(self, cut_s: float, bad_s: float) -> None:
        """The kernel cuts `NETNS_WORKER`'s link for `cut_s`, then makes it lossy and
        slow for `bad_s`."""
        assert self.namespace is not None
        try:
            await asyncio.to_thread(self.namespace.cut)
            await asyncio.sleep(cut_s)
            await asyncio.to_thread(self.namespace.lossy_and_slow)
            await asyncio.sleep(bad_s)
        finally:
            await asyncio.to_thread(self.namespace.heal)

    async def supervise(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for name, process in list(self.engine.processes.items()):
                if process.poll() is not None:
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self.start(name)
            if self.simulator.exited():
                self.restarts["simulator"] = self.restarts.get("simulator", 0) + 1
                self.planned["simulator"] = self.planned.get("simulator", 0) + self._killing
                self.simulator.start()
                self._simulator_restarted.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)

    async def wait_for_apis(self, seconds: float = 120) -> None:
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
        socket = self.redis_dir / "redis.sock"
        with contextlib.suppress(redis.ConnectionError, OSError):
            redis.Redis.from_url(f"unix://{socket}", socket_timeout=5).shutdown()
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
        self._killing = 1
        self.simulator.kill()
        await asyncio.wait_for(self._simulator_restarted.wait(), 30)
        self._killing = 0
        await asyncio.to_thread(self.simulator.wait_healthy)


@asynccontextmanager
async def fault_rig(postgres_admin: str, scratch: Path) -> AsyncIterator[FaultRig]:
    """Everything running, supervised; stopped and dropped after the block."""
    with ExitStack() as stack:
        redis_url = stack.enter_context(embedded_redis(scratch / "redis"))
        # Redis restarted by a fault stops only after the engine, which still uses it.
        redis_runs = stack.enter_context(ExitStack())
        redis_proxy = stack.enter_context(tcp_proxy(urlsplit(redis_url).path))
        sim = stack.enter_context(simulator_process(scratch / "simulator", seed=11))
        engine = stack.enter_context(
            running_engine(
                postgres_admin,
                f"redis://{redis_proxy.address}/0",
                sim.url,
                workers=2,
                settings=FAST,
            )
        )
        namespace = None if netns.unavailable() else stack.enter_context(netns.namespace())
        if namespace is not None:
            netns_data = scratch / NETNS_WORKER
            worker = _into_namespace(stack, engine, namespace, redis_proxy, sim, netns_data)
            await _booted(worker, netns_data, engine.logs)
        rig = FaultRig(engine, sim, scratch / "redis", redis_runs, redis_proxy, namespace)
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


def _into_namespace(
    stack: ExitStack,
    engine: Engine,
    namespace: netns.Namespace,
    redis_proxy: TcpProxy,
    simulator: SimulatorProcess,
    data_dir: Path,
) -> subprocess.Popen[bytes]:
    """Start `NETNS_WORKER` again inside `namespace`, reaching each server through a
    proxy on the link's address."""
    via = namespace.host_address

    def proxy(target: Target) -> int:
        return stack.enter_context(tcp_proxy(target, via)).port

    database_port = proxy(database_target(engine.database_url))
    settings = {
        "DATABASE_URL": database_via(engine.database_url, via, database_port),
        "REDIS_URL": f"redis://{via}:{proxy(('127.0.0.1', redis_proxy.port))}/0",
        "SIMULATOR_URL": f"http://{via}:{proxy(('127.0.0.1', simulator.port))}",
        "DATA_DIR": str(data_dir),  # its ready marker: proof it reached them all
    }
    engine.wrappers[NETNS_WORKER] = (namespace.prefix(), settings)
    engine.kill(NETNS_WORKER)  # before supervision: not a restart
    return engine.start("worker", NETNS_WORKER)


def database_target(url: str) -> Target:
    """Where the server of `url` listens: a host and port, or, when its host is a
    directory (libpq's rule), the unix socket `.s.PGSQL.<port>` in it."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, port = str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432)
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)


def database_via(url: str, host: str, port: int) -> str:
    """`url` (a URL or a conninfo string, as `fresh_database` makes) with its server
    reached at `host`:`port` instead."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.update(host=host, port=str(port))
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


async def _booted(process: subprocess.Popen[bytes], data_dir: Path, logs: Path) -> None:
    """Wait until the worker in the namespace has opened its pools and clients: a worker
    that cannot reach its servers would otherwise sit in every row unnoticed."""
    deadline = time.monotonic() + 60
    while not marked_ready(data_dir, process.pid):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{NETNS_WORKER} did not start within 60 s; logs in {logs}")
        await asyncio.sleep(0.1)
