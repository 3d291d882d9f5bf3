"""WebSocket fan-out benchmark (issue 4): N clients each following an order over
`/api/orders/{id}/stream` while the orders' lifecycle events are committed; prints
p50/p99 from commit to client receipt and the API process's memory.

    .venv/bin/python -m bench.ws_fanout --clients 1000 --rate 2000

It creates a scratch database (on DATABASE_URL's server, else the local one), starts
`orderengine api` (one process) on a free port against it, appends each order's
`OrderSubmitted`, connects the clients (replay, then `live`), then appends the rest of
every order's lifecycle (routing .. confirmed, 5 events each) at `--rate` events/s
through the store with its Redis wake-up, as the execution workers would. `--stalled`
more clients connect and never read, to show the memory they cost is bounded.
Commit time is taken when the append returns, receipt when the client's loop reads
the frame, both in this process (so the figure includes this process's own delays).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.command import run_benchmark
from bench.measures import Distribution
from bench.ws_fanout_result import FanoutResult
from db.event_store import PostgresEventStore
from db.migrate import migrate
from db.pool import create_pool
from db.wakeups import CommitNudger
from domain.events import OrderEvent, OrderSubmitted
from domain.streams import order_stream
from tests.support.api_keys import TEST_SECRET, make_key
from tests.support.order_histories import as_new_events, confirmed_history
from tests.support.servers import free_port, fresh_database, postgres_admin_url, redis_url

Key = tuple[str, int]


def run(args: argparse.Namespace) -> FanoutResult:
    admin = os.environ.get("DATABASE_URL") or postgres_admin_url()
    with fresh_database(admin, prefix="oe_bench_ws") as url:
        migrate(url)
        return asyncio.run(_benchmark(url, os.environ.get("REDIS_URL") or redis_url(), args))


def show(result: FanoutResult) -> None:
    print("\n".join(result.lines()), flush=True)


async def _benchmark(database_url: str, redis: str, args: argparse.Namespace) -> FanoutResult:
    port = free_port()
    api = _start_api(database_url, redis, port)
    key = make_key(database_url, admin=True)
    pool = create_pool(database_url, min_size=4, max_size=16, acquire_timeout_s=10)
    redis_client = aioredis.Redis.from_url(redis)
    try:
        await _wait_healthy(port)
        await pool.open(wait=True)
        store = PostgresEventStore(pool, on_commit=CommitNudger(redis_client).nudge)
        histories = [confirmed_history() for _ in range(args.clients + args.stalled)]
        for history in histories:
            await store.append(order_stream(_order_id(history)), 0, as_new_events(history[:1]))
        rss_before = _rss_mib(api.pid)
        received: dict[Key, float] = {}
        live = asyncio.Semaphore(0)
        followers = [
            asyncio.create_task(_follow(_url(port, _order_id(h), key), received, live))
            for h in histories[: args.clients]
        ]
        stalled = [
            await connect(_url(port, _order_id(h), key), max_queue=1)
            for h in histories[args.clients :]
        ]
        for _ in followers:
            await asyncio.wait_for(live.acquire(), 60)
        rss_connected = _rss_mib(api.pid)
        started = time.perf_counter()
        committed = await _drive(store, histories, args.rate)
        append_seconds = time.perf_counter() - started
        await asyncio.wait_for(asyncio.gather(*followers), 120)
        measured, latencies_ms = _latencies(committed, received)
        result = FanoutResult(
            clients=args.clients,
            stalled=args.stalled,
            rate=args.rate,
            rss_before_mib=rss_before,
            rss_connected_mib=rss_connected,
            rss_after_mib=_rss_mib(api.pid),
            rss_peak_mib=_rss_mib(api.pid, "VmHWM"),
            appended=len(committed),
            append_seconds=append_seconds,
            measured=measured,
            latency=Distribution.of_ms(latencies_ms),
        )
        for connection in stalled:
            await connection.close()
        return result
    finally:
        await redis_client.aclose()
        await pool.close()
        api.terminate()
        api.wait(10)


async def _follow(url: str, received: dict[Key, float], live: asyncio.Semaphore) -> None:
    order_id = url.split("/api/orders/", 1)[1].split("/", 1)[0]
    async with connect(url, max_queue=64) as connection:
        await _read_until_closed(connection, order_id, received, live)


async def _read_until_closed(
    connection: ClientConnection, order_id: str, received: dict[Key, float], live: asyncio.Semaphore
) -> None:
    try:
        async for raw in connection:
            at = time.perf_counter()
            message = json.loads(raw)
            if message["type"] == "live":
                live.release()
            elif message["type"] == "event":
                received[(order_id, message["version"])] = at
    except ConnectionClosed:
        return


async def _drive(
    store: PostgresEventStore, histories: list[list[OrderEvent]], rate: int
) -> dict[Key, float]:
    """Append every order's remaining events, one per commit, paced to `rate`/s."""
    committed: dict[Key, float] = {}
    work = [(h, version) for version in range(2, len(histories[0]) + 1) for h in histories]
    queue: asyncio.Queue[tuple[list[OrderEvent], int]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    started = time.perf_counter()

    async def appender(worker: int) -> None:
        done = 0
        while not queue.empty():
            history, version = queue.get_nowait()
            order_id = _order_id(history)
            # Pacing: each of the 16 appenders takes its share of the rate.
            due = started + (worker + done * 16) / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await store.append(
                order_stream(order_id), version - 1, as_new_events([history[version - 1]])
            )
            committed[(order_id, version)] = time.perf_counter()
            done += 1

    await asyncio.gather(*(appender(worker) for worker in range(16)))
    return committed


def _latencies(committed: dict[Key, float], received: dict[Key, float]) -> tuple[int, list[float]]:
    """(live events committed for the clients that read, commit -> receipt in ms of
    those delivered)."""
    followed = {order_id for order_id, _ in received}
    measured = [key for key in committed if key[0] in followed]
    latencies = [
        max(0.0, received[key] - committed[key]) * 1000 for key in measured if key in received
    ]
    return len(measured), latencies


def _url(port: int, order_id: str, key: str) -> str:
    return f"ws://127.0.0.1:{port}/api/orders/{order_id}/stream?access_token={key}"


def _order_id(history: list[OrderEvent]) -> str:
    submitted = history[0]
    assert isinstance(submitted, OrderSubmitted)
    return submitted.order_id


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start_api(database_url: str, redis: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "API_PROCESSES": "1",
        "LOG_LEVEL": "WARNING",
        "API_KEY_SECRET": TEST_SECRET,
        "MAX_SOCKETS_PER_KEY": "1000000",  # one key holds every client's socket
    }
    return subprocess.Popen(
        [sys.executable, "-m", "orderengine", "api", "--port", str(port)], env=env
    )


async def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the API did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1_000)
    parser.add_argument("--rate", type=int, default=2_000, help="events appended per second")
    parser.add_argument("--stalled", type=int, default=100, help="clients that never read")
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
