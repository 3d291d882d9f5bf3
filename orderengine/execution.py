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

from db import inflight
from db.pool import session_options
from db.subscription import SubscriptionRunner
from db.wakeups import CommitNudger
from orderengine.bootstrap import build_event_store, build_pool
from orderengine.settings import EngineSettings
from workers.actors import Resources, WorkerResources, register_actors
from workers.admission import Admission, RateLimit
from workers.broker import build_broker
from workers.context import ExecutionPolicy, StepContext
from workers.dispatcher import Dispatcher, broker_publisher
from workers.sweeper import Sweeper
from workers.venue import SimulatorVenue

log = logging.getLogger("orderengine.execution")
# An idle Dramatiq consumer backs off up to this long between fetches: the latency a
# step adds when the queues are quiet (the default, 1 s, would dominate an order's life).
IDLE_POLL_MS = 50


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
        ctx = StepContext(store, venue, execution_policy(settings))

        async def extend_due(order_id: str, step: str, attempt: int, due_in_ms: int) -> None:
            async with pool.connection() as conn:
                await inflight.extend(conn, order_id, step, attempt, due_in_ms)

        async def close() -> None:
            await venue.close()
            await wake_ups.aclose()
            await pool.close()

        return WorkerResources(ctx, extend_due, settings.recover_after_ms, close)

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
    """The dispatcher and its sweeper, until SIGTERM (a standby waits for the lock)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await dispatch_until(settings, stop)

    asyncio.run(main())
    return 0


async def dispatch_until(settings: EngineSettings, stop: asyncio.Event) -> None:
    """Run the dispatcher and sweeper in this loop until `stop` is set."""
    pool = build_pool(settings)
    await pool.open(wait=True)
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
    try:
        await asyncio.gather(_run_runner(runner, stop), sweeper.run(stop, runner.active))
    finally:
        broker.close()
        await pool.close()


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


def simulator_argv(settings: EngineSettings) -> list[str]:
    """`orderengine simulator`'s defaults, from the settings (SIMULATOR_URL's port)."""
    url = urlsplit(settings.simulator_url)
    return [
        "--host",
        url.hostname or "127.0.0.1",
        "--port",
        str(url.port or 8900),
        "--seed",
        str(settings.simulator_seed),
        "--time-scale",
        str(settings.simulator_time_scale),
    ]
