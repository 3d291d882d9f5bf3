"""What the end-to-end benchmarks share: a simulator process, orders straight into the
event store, waiting for the workers, and reading latencies back from the log."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from bench.e2e_result import Latency
from commands.submit_order import submit_order
from db.event_store import PostgresEventStore
from db.pool import create_pool
from domain.commands import SubmitOrder
from orderengine.progress import progress_bar
from tests.support.engine import Engine
from tests.support.simulator_process import SimulatorProcess, simulator_process

Order = tuple[str, str, int]  # token in, token out, atomic amount in
PAIRS: list[Order] = [
    ("SOL", "USDC", 10**9),
    ("USDC", "SOL", 150 * 10**6),
    ("JUP", "USDC", 50 * 10**6),
]
# About 10,000 MEME for SOL: the router sends each through the Raydium CPMM pool alone (the
# bench's PAIRS, submitted at once, all take DLMM), and the wallet's 50M MEME pays 4,000.
# Each amount differs by a unit: equal orders in one slot build byte-equal transactions,
# which the chain runs once (the signature is the same), so PAIRS runs few swaps.
CPMM_ORDERS: list[Order] = [("MEME", "SOL", 10**10 + n) for n in range(4_000)]

# (submit-to-final seconds, submitted at, final at, final event type) per order
# submitted after a global position (`bench.e2e_result.Latency`).
_LATENCIES = """
SELECT extract(epoch FROM f.recorded_at - s.recorded_at), extract(epoch FROM s.recorded_at),
       extract(epoch FROM f.recorded_at), f.event_type
FROM events s JOIN events f ON f.stream_id = s.stream_id
WHERE s.event_type = 'OrderSubmitted' AND f.event_type IN ('OrderConfirmed', 'OrderFailed')
  AND s.global_position > %s
"""


@contextmanager
def simulator(time_scale: float, seed: int = 1, ledger: str = "math") -> Iterator[SimulatorProcess]:
    """The simulator as its own process, its chain in memory (a benchmark's chain is
    thrown away), its CPMM pools in `ledger` (SIMULATOR_LEDGER)."""
    with (
        tempfile.TemporaryDirectory(prefix="oe-bench-sim-") as scratch,
        simulator_process(
            Path(scratch), seed, time_scale=time_scale, journaled=False, ledger=ledger
        ) as sim,
    ):
        yield sim


async def submit(database_url: str, count: int, orders: list[Order] = PAIRS) -> None:
    """`count` market orders at once, cycling through `orders`, straight into the store."""
    pool = create_pool(database_url, min_size=4, max_size=16, acquire_timeout_s=30)
    await pool.open(wait=True)
    store = PostgresEventStore(pool)
    commands = [
        SubmitOrder(
            order_id=str(uuid.uuid4()),
            order_type="market",
            token_in=orders[i % len(orders)][0],
            token_out=orders[i % len(orders)][1],
            amount_in=orders[i % len(orders)][2],
            slippage_bps=100,
        )
        for i in range(count)
    ]
    await asyncio.gather(*(submit_order(store, command, None) for command in commands))
    await pool.close()


async def ready(engine: Engine, workers: int, timeout_s: float = 60) -> None:
    """Until every worker process consumes (Dramatiq's heartbeats in Redis)."""
    client = redis.Redis.from_url(engine.redis_url)
    deadline = time.monotonic() + timeout_s
    try:
        while client.zcard(f"{engine.namespace}:__heartbeats__") < workers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers not consuming after {timeout_s} s")
            await asyncio.sleep(0.1)
    finally:
        client.close()


def process_cpu_s(pid: int) -> float:
    """Seconds of CPU (user + system) the process `pid` has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def simulator_cpu_s(sim: SimulatorProcess) -> float:
    """CPU seconds the simulator process has used so far."""
    assert sim.process is not None
    return process_cpu_s(sim.process.pid)


def engine_cpu_s(engine: Engine) -> float:
    """CPU seconds the engine's processes (workers, dispatcher) have used so far."""
    return sum(process_cpu_s(process.pid) for process in engine.processes.values())


def log_head(database_url: str) -> int:
    """The newest global position: orders submitted after it are the next run's."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT coalesce(max(global_position), 0) FROM events").fetchone()
    return int(row[0]) if row else 0


def latencies(database_url: str, after: int) -> list[Latency]:
    """Every order submitted after global position `after` that is final."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(_LATENCIES, (after,)).fetchall()
    return [(float(a), float(b), float(c), str(d)) for a, b, c, d in rows]


async def wait_final(engine: Engine, count: int, timeout_s: float, what: str) -> None:
    """Until `count` orders of the engine's database are final, with a progress bar of
    this run's (those final beyond the ones already final when it began)."""
    already = engine.final_count()
    deadline = time.monotonic() + timeout_s
    with progress_bar(what, "orders final") as progress:
        while (final := engine.final_count()) < count:
            progress(final - already, count - already)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{final} of {count} orders final; logs in {engine.logs}")
            await asyncio.sleep(0.05)
        progress(count - already, count - already)
