"""Soak: the whole engine as `orderengine up` starts it, against a hostile RPC node
(every mode of `simulator.hostile` on), under a steady stream of market orders from an
outside client, for minutes; then every promise checked.

    python -m bench.soak --minutes 30            # 100 orders/s
    python -m bench.soak --minutes 2 --rate 50

`orderengine up` (`bench.engine_up`) runs on a fresh database of the local PostgreSQL
(TEST_DATABASE_URL's server) and its own embedded Redis; the client submits through
the API over HTTP as a careful client does (a submission is retried with the same
Idempotency-Key until accepted). Printed: orders accepted, lost (accepted, never
final within `--drain` seconds after the load stops), double executions (the
simulator's witness, as in the fault suite), unplanned restarts (the supervisor's own
"exited; restarting" lines), submit-to-final p50/p99 (from the events' commit times),
and each process's RSS after the warm-up and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import msgspec
import psutil

from bench.command import run_benchmark
from bench.engine_runs import latencies
from bench.engine_up import RunningEngine, engine_up
from bench.measures import Distribution, Figure, Throughput
from simulator.config import BLOCKHASH_VALIDITY, SimulatorConfig
from simulator.ledger import ARCHIVE_EVERY, SETTLING_MARGIN
from tests.support.engine_checks import double_executions, wait_until_final
from tests.support.servers import free_port, fresh_database, postgres_admin_url

# Every hostile mode at once (simulator/hostile.py); answers held past the engine's
# 5 s RPC client timeout.
EVERY_MODE = "drop:0.05,rate_limit:0.05,unavailable:0.05,lag:3,stale:3,slow:0.02,seed:7"
RESTARTED = "exited; restarting"
# Round trips of equal value at the simulator's starting prices (SOL 150 USDC, JUP 0.5
# USDC), so that the one wallet keeps its funds for the whole run: the tests' mix spends
# 100 JUP per three orders and ran the wallet dry within a minute, after which a quarter
# of a soak's orders failed with InsufficientFunds and measured nothing.
SOAK_BODIES = [
    {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "0.5"},
    {"type": "market", "tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "75"},
    {"type": "market", "tokenIn": "JUP", "tokenOut": "USDC", "amountIn": "100"},
    {"type": "market", "tokenIn": "USDC", "tokenOut": "JUP", "amountIn": "50"},
]


def warm_up_seconds(run_s: float, time_scale: float) -> float:
    """When the start reading of RSS is taken: once every process holds its working set,
    so that growth from there is growth (a leak), not the working set filling.

    The chain keeps each transaction in memory until nothing about it can change: up to
    its blockhash's window, the settling margin and one archive interval, 246 slots (98
    s at 400 ms slots); only then do the first records leave as fast as new ones come.
    Twice that covers the engine reaching its pace (measured, 100 orders/s with every
    hostile mode on: ~7,000 records held from 90-120 s on, the simulator's RSS 118 MB
    at 60 s and 136 MB from 90 s to the end). A short run keeps its second half."""
    slot_s = SimulatorConfig().slot_ms / 1000 * time_scale
    record_life_s = (BLOCKHASH_VALIDITY + SETTLING_MARGIN + ARCHIVE_EVERY) * slot_s
    return min(run_s / 2, max(run_s / 10, 2 * record_life_s))


class ProcessMemory(msgspec.Struct, frozen=True):
    role: str
    start_mb: float
    end_mb: float
    # Once a minute from the start of the load: whether it grows all along (a leak) or
    # steps up to a working set and stays there, which two readings cannot tell.
    by_minute_mb: list[float] = []

    @property
    def growth(self) -> float:
        return self.end_mb / self.start_mb - 1 if self.start_mb else 0.0


class SoakResult(msgspec.Struct, frozen=True):
    minutes: float
    rate: float
    hostile: str
    orders: int
    confirmed: int
    lost: int
    double_executions: int
    restarts: int
    refusals: int
    latency: Distribution  # submit-to-final
    memory: list[ProcessMemory]
    final_offsets_s: list[float]  # each order's final event, after the load began
    doubles_sample: list[str] = []
    warm_up_s: float = 0.0  # when the start reading of RSS was taken (warm_up_seconds)

    def lines(self) -> list[str]:
        head = (
            f"soak {self.minutes:g} min at {self.rate:g} orders/s, hostile RPC `{self.hostile}`:"
            f" {self.orders} orders ({self.confirmed} confirmed), {self.lost} lost,"
            f" {self.double_executions} double executions, {self.restarts} unplanned"
            f" restarts, {self.refusals} submissions refused; submit-to-final"
            f" p50 {self.latency.p50_ms:.0f} ms, p99 {self.latency.p99_ms:.0f} ms,"
            f" max {self.latency.max_ms:.0f} ms"
        )
        memory = [
            f"  {m.role}: RSS {m.start_mb:.0f} MB after the {self.warm_up_s:.0f} s warm-up,"
            f" {m.end_mb:.0f} MB at the end"
            f" ({100 * m.growth:+.0f} %); each minute: "
            + " ".join(f"{mb:.0f}" for mb in m.by_minute_mb)
            for m in self.memory
        ]
        return [head, *memory, *(f"  double: {d}" for d in self.doubles_sample)]

    def figures(self) -> list[Figure]:
        workload = f"{self.minutes:g} min at {self.rate:g} orders/s, hostile `{self.hostile}`"
        growth = max((m.growth for m in self.memory), default=0.0)
        return [
            Figure("soak", "orders lost", str(self.lost), workload, "0", "n/a"),
            Figure("soak", "double executions", str(self.double_executions), workload, "0", "n/a"),
            Figure("soak", "unplanned restarts", str(self.restarts), workload, "0", "n/a"),
            Figure(
                "soak",
                "submit-to-final p99",
                f"{self.latency.p99_ms:.0f} ms",
                workload,
                f"p50 {self.latency.p50_ms:.0f} ms",
                "n/a",
            ),
            Figure("soak", "largest RSS growth", f"{100 * growth:+.0f} %", workload, "20 %", "n/a"),
        ]

    def latencies(self) -> dict[str, Distribution]:
        return {"soak, submit-to-final": self.latency}

    def throughput(self) -> list[Throughput]:
        return [Throughput.of_offsets("soak", self.final_offsets_s, 1.0)]


class SteadyLoad:
    """`rate` market orders a second into one API, on a schedule (a slow turn of the loop
    sends the orders it owes at once), each retried with its Idempotency-Key until an
    answer accepts it or `give_up_s` pass. aiohttp, whose bounded pool waits for a free
    connection: httpx's pool, at 100 orders/s on a starved machine, lost its connections
    after 100 requests and sent nothing more."""

    def __init__(self, api: str, rate: float, auth: dict[str, str], give_up_s: float = 30) -> None:
        self.url = f"http://{api}/api/orders/execute"
        self.auth = auth
        self.rate = rate
        self.give_up_s = give_up_s
        self.accepted: dict[str, float] = {}  # order id -> accepted at (monotonic)
        self.refusals: list[str] = []

    async def run(self, stop: asyncio.Event) -> None:
        connector = aiohttp.TCPConnector(limit=128)
        timeout = aiohttp.ClientTimeout(total=10)
        pending: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            started, sent = time.monotonic(), 0
            while not stop.is_set():
                due = int((time.monotonic() - started) * self.rate) + 1
                for number in range(sent, due):
                    task = asyncio.create_task(self._submit(session, number))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                sent = max(sent, due)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1 / self.rate)
            await asyncio.gather(*pending)

    async def _submit(self, session: aiohttp.ClientSession, number: int) -> None:
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        body = {**SOAK_BODIES[number % len(SOAK_BODIES)], "slippageBps": 100}
        deadline = time.monotonic() + self.give_up_s
        while time.monotonic() < deadline:
            try:
                async with session.post(self.url, json=body, headers=headers) as reply:
                    answer = await reply.json(content_type=None)
                    status = reply.status
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
                await asyncio.sleep(0.05)
                continue
            if status in (200, 202):
                self.accepted.setdefault(answer["orderId"], time.monotonic())
                return
            if status != 503:  # 503: a backing service is down, nothing accepted
                self.refusals.append(f"{status} {answer}")
                return
            await asyncio.sleep(0.05)
        self.refusals.append(f"no answer accepted key {headers['Idempotency-Key']}")


def _memory(up: psutil.Process) -> dict[str, float]:
    """RSS in MB of each of `orderengine up`'s children, by role (workers numbered)."""
    found: dict[str, float] = {}
    for child in up.children():
        with contextlib.suppress(psutil.Error):
            argv = child.cmdline()
            role = argv[argv.index("orderengine") + 1] if "orderengine" in argv else child.name()
            name, number = role, 0
            while name in found:
                number += 1
                name = f"{role}-{number}"
            found[name] = child.memory_info().rss / 2**20
    return dict(sorted(found.items()))


async def _soak(
    args: argparse.Namespace, engine: RunningEngine, simulator_url: str, logs: Path
) -> SoakResult:
    load = SteadyLoad(engine.base_url.removeprefix("http://"), args.rate, engine.auth)
    stop = asyncio.Event()
    seconds = args.minutes * 60
    warm_up_s = warm_up_seconds(seconds, args.time_scale)
    began = time.time()
    running = asyncio.create_task(load.run(stop))
    by_minute: list[dict[str, float]] = []
    start_memory: dict[str, float] = {}
    while (elapsed := time.time() - began) < seconds:
        if not start_memory and elapsed >= warm_up_s:
            start_memory = _memory(engine.up)
        if elapsed >= 60 * len(by_minute):
            by_minute.append(_memory(engine.up))
        await asyncio.sleep(min(1.0, seconds - elapsed))
    stop.set()
    await running
    database_url = engine.database_url
    open_orders = await wait_until_final(database_url, load.accepted, args.drain)
    end_memory = _memory(engine.up)
    doubles = await asyncio.to_thread(double_executions, database_url, simulator_url)
    rows = latencies(database_url, 0)
    restarts = (logs / "up.log").read_text(errors="replace").count(RESTARTED)
    return SoakResult(
        minutes=args.minutes,
        rate=args.rate,
        hostile=args.hostile,
        orders=len(load.accepted),
        confirmed=sum(1 for row in rows if row[3] == "OrderConfirmed"),
        lost=len(open_orders),
        double_executions=len(doubles),
        restarts=restarts,
        refusals=len(load.refusals),
        latency=Distribution.of_seconds([row[0] for row in rows]),
        memory=[
            ProcessMemory(
                role,
                start_memory.get(role, 0.0),
                end_memory.get(role, 0.0),
                [minute.get(role, 0.0) for minute in by_minute],
            )
            for role in sorted(set(start_memory) | set(end_memory))
        ],
        final_offsets_s=sorted(round(row[2] - began, 3) for row in rows),
        doubles_sample=doubles[:5],
        warm_up_s=warm_up_s,
    )


def run(args: argparse.Namespace) -> SoakResult:
    logs = Path(tempfile.mkdtemp(prefix="oe-soak-"))
    print(f"soak: logs in {logs}", flush=True)
    simulator_url = f"http://127.0.0.1:{free_port()}"
    settings = {
        "SIMULATOR_URL": simulator_url,
        "SIMULATOR_HOSTILE": args.hostile,
        "SIMULATOR_TIME_SCALE": str(args.time_scale),
        "SIMULATOR_SEED": "3",
        "WORKER_PROCESSES": str(args.workers),
        "LOG_FORMAT": "json",
    }
    # Its own database on the local server; Redis embedded under the scratch directory.
    with (
        fresh_database(postgres_admin_url(), prefix="oe_soak") as database_url,
        engine_up(logs, database_url, None, settings) as engine,
    ):
        return asyncio.run(_soak(args, engine, simulator_url, logs))


def show(result: SoakResult) -> None:
    print("\n".join(result.lines()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=100, help="orders per second")
    parser.add_argument("--hostile", default=EVERY_MODE, help="simulator/hostile.py modes")
    parser.add_argument("--workers", type=int, default=2, help="WORKER_PROCESSES")
    parser.add_argument("--time-scale", type=float, default=1.0, help="SIMULATOR_TIME_SCALE")
    parser.add_argument("--drain", type=float, default=180, help="seconds to wait for finals")
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
