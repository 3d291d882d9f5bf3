"""Submission benchmark (issue 2): accepted orders/s and latency through the API, next to
the raw append rate of the event store alone, measured in the same run.

    .venv/bin/python -m bench.submit --orders 20000 --concurrency 64

It creates a scratch database (on DATABASE_URL's server, else the local server, else
an embedded one), starts `orderengine api` on a free port against it, drives it with
closed-loop keep-alive connections, then appends the same number of OrderSubmitted
events straight through `PostgresEventStore` at the same concurrency, and drops the
database. The workload is printed with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid

import msgspec

from bench.command import run_benchmark
from bench.http_load import LoadResult, post_request, run_load
from bench.submit_result import Round, SubmitResult
from commands.envelopes import wrap_events
from db.event_store import PostgresEventStore
from db.migrate import migrate
from db.pool import create_pool
from domain.commands import SubmitOrder
from domain.order import decide
from domain.records import EventMetadata
from domain.streams import order_stream
from orderengine.progress import progress_bar
from tests.support.api_keys import TEST_SECRET, bearer, make_key
from tests.support.servers import free_port, fresh_database, postgres_admin_url, wait_ready_async

ORDER = msgspec.json.encode(
    {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5", "slippageBps": 50}
)


def run(args: argparse.Namespace) -> SubmitResult:
    """Rounds of submissions through the API, each followed by the same appends
    straight through the store, on a scratch database dropped after."""
    admin = os.environ.get("DATABASE_URL") or postgres_admin_url()
    with fresh_database(admin, prefix="oe_bench") as url:
        migrate(url)
        args.auth = [bearer(make_key(url, f"bench-{n}")) for n in range(args.keys)]
        api_rounds, raw_rounds = asyncio.run(_benchmark(url, args))
    return SubmitResult(
        orders=args.orders,
        concurrency=args.concurrency,
        api_processes=args.api_processes,
        idempotency_keys=args.idempotency_keys,
        cores=os.cpu_count() or 1,
        api_rounds=[Round.of_load(r) for r in api_rounds],
        raw_rounds=[Round.of_load(r) for r in raw_rounds],
    )


def show(result: SubmitResult) -> None:
    print("\n".join(result.lines()))


async def _benchmark(
    database_url: str, args: argparse.Namespace
) -> tuple[list[LoadResult], list[LoadResult]]:
    port = free_port()
    api = _start_api(database_url, port, args.api_processes, args.rate_limit)
    api_rounds: list[LoadResult] = []
    raw_rounds: list[LoadResult] = []
    try:
        await wait_ready_async(f"http://127.0.0.1:{port}", 60)
        with progress_bar("submit rounds", "rounds") as progress:
            for done in range(args.rounds):
                api_rounds.append(await _api_round(port, args))
                raw_rounds.append(await _raw_round(database_url, args))
                progress(done + 1, args.rounds)
    finally:
        api.terminate()
        api.wait(10)
    return api_rounds, raw_rounds


def _start_api(
    database_url: str, port: int, processes: int, rate_limit: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "API_PROCESSES": str(processes),
        "LOG_LEVEL": "WARNING",
        "API_KEY_SECRET": TEST_SECRET,
        # Every submit draws on its key's bucket in Redis, which never runs dry here.
        "RATE_LIMIT_PER_KEY": str(rate_limit),
    }
    argv = [sys.executable, "-m", "orderengine", "api", "--port", str(port)]
    return subprocess.Popen(argv, env=env)


async def _api_round(port: int, args: argparse.Namespace) -> LoadResult:
    run_id = uuid.uuid4().hex[:8]

    def make_request(index: int) -> bytes:
        headers = {"Idempotency-Key": f"{run_id}-{index}"} if args.idempotency_keys else {}
        headers |= args.auth[index % len(args.auth)]
        return post_request("127.0.0.1", port, "/api/orders/execute", ORDER, headers)

    result = await run_load(
        "127.0.0.1", port, make_request, total=args.orders, concurrency=args.concurrency
    )
    assert set(result.statuses) == {202}, f"unexpected statuses {result.statuses}"
    return result


async def _raw_round(database_url: str, args: argparse.Namespace) -> LoadResult:
    """The same appends as the API makes, with no HTTP: the ceiling the API is held to."""
    pool = create_pool(
        database_url, min_size=args.concurrency // 4, max_size=16, acquire_timeout_s=30
    )
    await pool.open(wait=True)
    store = PostgresEventStore(pool)
    latencies: list[float] = []
    remaining = args.orders

    async def writer() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            order_id = str(uuid.uuid4())
            command = SubmitOrder(
                order_id=order_id,
                order_type="market",
                token_in="SOL",
                token_out="USDC",
                amount_in=1_500_000_000,
                slippage_bps=50,
            )
            key = f"submit:{order_id}" if args.idempotency_keys else None
            events = wrap_events(decide(None, command), EventMetadata(command_id=key, actor="api"))
            started = time.perf_counter()
            await store.append(order_stream(order_id), 0, events, command_id=key, request_hash="h")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(args.concurrency)))
    seconds = time.perf_counter() - started
    await pool.close()
    return LoadResult(latencies, {202: len(latencies)}, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--api-processes", type=int, default=2)
    parser.add_argument("--idempotency-keys", action="store_true", help="send a key per order")
    parser.add_argument("--rounds", type=int, default=3, help="report the median round")
    parser.add_argument("--keys", type=int, default=8, help="API keys the clients spread over")
    parser.add_argument(
        "--rate-limit", type=int, default=1_000_000, help="RATE_LIMIT_PER_KEY (0: no bucket)"
    )
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
