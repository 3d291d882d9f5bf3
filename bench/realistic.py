"""The realistic half of bench.e2e: orders at 400 ms slots, many at once against one alone.

One order's latency is random (the next block, p = 0.7 of landing per block, 1-2 slots
to confirm), so "one alone" is the median of several orders each submitted alone; a
single sample can be off by 2x either way. Each burst of orders at once is then set
against that median, and the same comparison is made for the chain alone
(bench.chain_alone), which is the floor no engine can go below.
"""

from __future__ import annotations

import argparse
import asyncio

from bench.chain_alone import chain_alone
from bench.e2e_result import Burst, RealisticRun
from bench.engine_runs import latencies, log_head, ready, simulator, submit, wait_final
from tests.support.engine import Engine, running_engine
from tests.support.servers import postgres_admin_url, redis_url

POLL_INTERVAL_MS = 200  # the engine's default look at pending signatures


async def _alone(engine: Engine, count: int, timeout_s: float) -> list[float]:
    """The submit-to-final latency of `count` orders, each submitted alone."""
    after = log_head(engine.database_url)
    for _ in range(count):
        await submit(engine.database_url, 1)
        await engine.wait_for_final(engine.final_count() + 1, timeout_s)
    return [row[0] for row in latencies(engine.database_url, after)]


async def _bursts(engine: Engine, size: int, rounds: int, timeout_s: float) -> list[Burst]:
    bursts = []
    for round_number in range(1, rounds + 1):
        after = log_head(engine.database_url)
        finals = engine.final_count()
        title = f"400 ms slots, {size} at once (round {round_number})"
        await submit(engine.database_url, size)
        await wait_final(engine, finals + size, timeout_s, title)
        bursts.append(Burst.of_rows(title, latencies(engine.database_url, after)))
    return bursts


async def _engine_run(engine: Engine, args: argparse.Namespace) -> tuple[list[float], list[Burst]]:
    await ready(engine, args.workers)
    await submit(engine.database_url, 1)  # warm-up: connections open, code paths hot
    await engine.wait_for_final(1, args.timeout)
    alone = await _alone(engine, args.singles, args.timeout)
    return alone, await _bursts(engine, args.realistic, args.rounds, args.timeout)


def run_realistic(args: argparse.Namespace, settings: dict[str, str]) -> RealisticRun:
    """The engine's bursts against one order alone, then the chain's own, each on a
    simulator of its own."""
    settings = {**settings, "POLL_INTERVAL_MS": str(POLL_INTERVAL_MS)}
    with (
        simulator(1.0) as sim,
        running_engine(
            postgres_admin_url(), redis_url(), sim.url, workers=args.workers, settings=settings
        ) as engine,
    ):
        alone, bursts = asyncio.run(_engine_run(engine, args))
    with simulator(1.0) as sim:
        poll_s = POLL_INTERVAL_MS / 1000
        chain = asyncio.run(chain_alone(sim.url, args.realistic, args.singles, args.rounds, poll_s))
    return RealisticRun(alone, bursts, chain)
