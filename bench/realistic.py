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
import statistics

from bench.chain_alone import chain_alone
from bench.engine_runs import latencies, log_head, ready, report, simulator, submit
from tests.support.engine import Engine, running_engine
from tests.support.servers import postgres_admin_url, redis_url

POLL_INTERVAL_MS = 200  # the engine's default look at pending signatures


async def _alone(engine: Engine, count: int, timeout_s: float) -> float:
    """The median submit-to-final latency of `count` orders, each submitted alone."""
    after = log_head(engine.database_url)
    for _ in range(count):
        await submit(engine.database_url, 1)
        await engine.wait_for_final(engine.final_count() + 1, timeout_s)
    alone = [row[0] for row in latencies(engine.database_url, after)]
    single = statistics.median(alone)
    print(
        f"400 ms slots, one order at a time ({count} orders): submit-to-final"
        f" p50 {1000 * single:.0f} ms (min {1000 * min(alone):.0f}, max {1000 * max(alone):.0f})",
        flush=True,
    )
    return single


async def _bursts(engine: Engine, size: int, rounds: int, timeout_s: float) -> list[float]:
    spans = []
    for round_number in range(1, rounds + 1):
        after = log_head(engine.database_url)
        finals = engine.final_count()
        await submit(engine.database_url, size)
        await engine.wait_for_final(finals + size, timeout_s)
        title = f"400 ms slots, {size} at once (round {round_number})"
        spans.append(report(title, latencies(engine.database_url, after)))
    return spans


async def _engine_run(engine: Engine, args: argparse.Namespace) -> tuple[float, float]:
    """(all-final seconds, median of the bursts; one order's latency, median alone)"""
    await ready(engine, args.workers)
    await submit(engine.database_url, 1)  # warm-up: connections open, code paths hot
    await engine.wait_for_final(1, args.timeout)
    single = await _alone(engine, args.singles, args.timeout)
    spans = await _bursts(engine, args.realistic, args.rounds, args.timeout)
    span = statistics.median(spans)
    print(
        f"all final after {span:.2f} s (median of {len(spans)} rounds)"
        f" = {span / single:.2f} x a single order's latency (p50 of {args.singles} alone)",
        flush=True,
    )
    return span, single


def run_realistic(args: argparse.Namespace, settings: dict[str, str]) -> None:
    """The engine's ratio, then the chain's own, each on a simulator of its own."""
    settings = {**settings, "POLL_INTERVAL_MS": str(POLL_INTERVAL_MS)}
    with (
        simulator(1.0) as url,
        running_engine(
            postgres_admin_url(), redis_url(), url, workers=args.workers, settings=settings
        ) as engine,
    ):
        span, single = asyncio.run(_engine_run(engine, args))
    with simulator(1.0) as url:
        poll_s = POLL_INTERVAL_MS / 1000
        chain = asyncio.run(chain_alone(url, args.realistic, args.singles, args.rounds, poll_s))
    chain_span, chain_single = chain
    print(
        f"the engine adds {span - chain_span:+.2f} s to all {args.realistic} final"
        f" and {1000 * (single - chain_single):+.0f} ms to one order alone;"
        f" ratio {span / single:.2f} x against the chain's own {chain_span / chain_single:.2f} x",
        flush=True,
    )
