"""Wiring of the execution side: worker processes, the dispatcher, the API's quoter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis
from dramatiq import Worker
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db import inflight
from db.order_histories import load_orders
from db.pool import session_options
from db.subscription import SubscriptionRunner
from db.wakeups import CommitNudger
from domain.order_state import OrderState
from orderengine.bootstrap import build_event_store, build_pool
from orderengine.settings import EngineSettings
from workers.actors import Resources, WorkerResources, register_actors
from workers.admission import Admission, RateLimit
from workers.broker import build_broker
from workers.context import ExecutionPolicy, OrderLoader, StepContext
from workers.dispatcher import Dispatcher, broker_publisher
from workers.sweeper import Sweeper
from workers.venue import SimulatorVenue
from workers.watcher import ConfirmationWatcher

log = logging.getLogger("orderengine.execution")
# An idle Dramatiq consumer backs off up to this long between fetches: the latency a
# step adds when the queues are quiet (the default, 1 s, would dominate an order's life).
IDLE_POLL_MS = 50
# Signatures followed per watcher round; beyond that the oldest go first.
WATCHED_AT_ONCE = 4_096


def execution_policy(settings: EngineSettings) -> ExecutionPolicy:
    return ExecutionPolicy(
        max_attempts=settings.max_attempts,
        retry_backoff_ms=settings.retry_backoff_ms,
        poll_interval_ms=settings.poll_interval_ms,
        compute_unit_price=settings.priority_fee,
    )


def run_worker(settings: EngineSettings) -> int:
    """One worker process: the step actors on `WORKER_THREADS` threads, until SIGTERM."""

    async def open_resources() -> WorkerResources:
        pool = build_pool(settings)
        await pool.open(wait=True)
        venue = SimulatorVenue(settings.simulator_url)
        # Each outcome the workers append wakes the API's tailer and the projector.
        wake_ups = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2)
        store = build_event_store(pool, CommitNudger(wake_ups))
        ctx = StepContext(store, venue, execution_policy(settings), _order_loader(pool))

        async def close() -> None:
            await venue.close()
            await wake_ups.aclose()
            await pool.close()

        return WorkerResources(ctx, close)

    resources = Resources(open_resources)
    broker = build_broker(settings.redis_url, settings.broker_namespace, extra=[resources])
    register_actors(broker, resources)
    worker = Worker(broker, worker_threads=settings.worker_threads, worker_timeout=IDLE_POLL_MS)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    worker.start()
    log.info("worker running", extra={"threads": settings.worker_threads})
    stopped.wait()
    worker.stop()
    broker.close()
    return 0


def run_dispatcher(settings: EngineSettings) -> int:
    """The dispatcher, its sweeper and its confirmation watcher, until SIGTERM (a
    standby waits for the lock)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await dispatch_until(settings, stop)

    asyncio.run(main())
    return 0


async def dispatch_until(settings: EngineSettings, stop: asyncio.Event) -> None:
    """Run the dispatcher, sweeper and watcher in this loop until `stop` is set."""
    pool = build_pool(settings)
    await pool.open(wait=True)
    venue = SimulatorVenue(settings.simulator_url)
    wake_ups = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2)
    broker = build_broker(settings.redis_url, settings.broker_namespace)
    publish = broker_publisher(broker)
    admission = Admission(
        settings.inflight_limit, RateLimit(settings.orders_per_minute), settings.recover_after_ms
    )
    runner = SubscriptionRunner(
        settings.database_url,
        build_event_store(pool),
        Dispatcher(publish, admission, settings.recover_after_ms),
        poll_interval_s=settings.dispatch_poll_ms / 1000,
        connect_options=session_options(
            settings.db_statement_timeout_ms, settings.db_idle_in_transaction_timeout_ms
        ),
    )
    sweeper = Sweeper(pool, publish, admission, settings.recover_after_ms)
    watcher = _watcher(settings, pool, venue, CommitNudger(wake_ups))
    try:
        await asyncio.gather(
            _run_runner(runner, stop),
            sweeper.run(stop, runner.active),
            watcher.run(stop, runner.active),
        )
    finally:
        broker.close()
        await venue.close()
        await wake_ups.aclose()
        await pool.close()


def _watcher(
    settings: EngineSettings,
    pool: AsyncConnectionPool[AsyncConnection],
    venue: SimulatorVenue,
    nudger: CommitNudger,
) -> ConfirmationWatcher:
    # The outcomes it appends wake the API's tailer and the projector, as a worker's do.
    store = build_event_store(pool, nudger)
    ctx = StepContext(store, venue, execution_policy(settings), _order_loader(pool))

    async def source() -> list[inflight.Watched]:
        async with pool.connection() as conn:
            return await inflight.watched(conn, WATCHED_AT_ONCE)

    # Never more often than the dispatcher looks for events: at POLL_INTERVAL_MS 0 a
    # round per dispatcher poll is plenty (each round moves an instant chain a slot).
    interval_ms = max(settings.poll_interval_ms, settings.dispatch_poll_ms)
    return ConfirmationWatcher(ctx, source, interval_ms / 1000)


def _order_loader(pool: AsyncConnectionPool[AsyncConnection]) -> OrderLoader:
    async def load(order_ids: list[str]) -> dict[str, OrderState]:
        async with pool.connection() as conn:
            return await load_orders(conn, order_ids)

    return load


async def _run_runner(runner: SubscriptionRunner, stop: asyncio.Event) -> None:
    # A Redis outage fails the batch before its checkpoint commits: retry it later.
    while not stop.is_set():
        try:
            await runner.run_until_stopped(stop)
        except (redis.RedisError, OSError) as error:
            log.warning("dispatcher cannot publish; retrying", extra={"error": repr(error)})
            runner.active.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


def simulator_argv(settings: EngineSettings, seed: str | None = None) -> list[str]:
    """`orderengine simulator`'s defaults, from the settings (SIMULATOR_URL's port);
    the journal is the seed's own unless SIMULATOR_JOURNAL names one or is `off`."""
    url = urlsplit(settings.simulator_url)
    seed = seed or str(settings.simulator_seed)
    argv = [
        "--host",
        url.hostname or "127.0.0.1",
        "--port",
        str(url.port or 8900),
        "--seed",
        seed,
        "--time-scale",
        str(settings.simulator_time_scale),
    ]
    journal = settings.simulator_journal
    if journal == "off":
        return argv
    default = settings.data_dir / "simulator" / f"seed-{seed}.journal"
    return [*argv, "--journal", journal or str(default)]
