"""Wiring of the execution side's processes: the workers and the dispatcher (with its
sweeper and confirmation watcher)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIServer

from dramatiq import Worker
from prometheus_client import CollectorRegistry, start_http_server
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from solders.keypair import Keypair

from commands.ports import EventStore
from commands.step_context import ExecutionPolicy, StepContext
from db import inflight
from db.pool import session_options
from db.redis_clients import async_redis
from db.subscription import SubscriptionRunner
from db.wakeups import CommitNudger, WakeUpListener
from orderengine.bootstrap import build_event_store, build_pool
from orderengine.readiness import announce_ready, announce_when
from orderengine.settings import ConfigurationError, EngineSettings
from workers.actors import BootAbandoned, Resources, WorkerResources, register_actors
from workers.broker import broker_publisher, build_broker, queue_depth
from workers.doorbell import SAFETY_POLL_MS
from workers.process_manager.admission import Admission
from workers.process_manager.confirmation_watcher import ConfirmationWatcher
from workers.process_manager.dispatcher import Dispatcher
from workers.process_manager.sweeper import Sweeper
from workers.process_manager.telemetry import DispatcherTelemetry
from workers.solana.connect import SolanaClients, connect
from workers.solana.wallet import WalletRefused, load_keypair

log = logging.getLogger("orderengine.processes")
# Signatures followed per watcher round; beyond that the oldest go first.
WATCHED_AT_ONCE = 4_096


def execution_policy(settings: EngineSettings) -> ExecutionPolicy:
    return ExecutionPolicy(
        max_attempts=settings.max_attempts,
        retry_backoff_ms=settings.retry_backoff_ms,
        poll_interval_ms=settings.poll_interval_ms,
        compute_unit_price=settings.priority_fee,
        expiry_margin_blocks=settings.expiry_margin_blocks,
        max_price_impact_bps=settings.max_price_impact_bps,
    )


def run_worker(settings: EngineSettings) -> int:
    """One worker process: the step actors on `WORKER_THREADS` threads, until SIGTERM."""
    keypair = wallet(settings)  # before anything starts: refused, nothing is left running

    async def open_resources() -> WorkerResources:
        pool = build_pool(settings)
        try:
            await pool.open(wait=True)
        except BaseException:
            await pool.close()  # tried again at boot: leave no pool connecting behind
            raise
        chain = solana_clients(settings, keypair)
        # Each outcome the workers append wakes the API's tailer and the projector.
        wake_ups = async_redis(settings.redis_url, settings.redis_timeout_s)
        store = build_event_store(pool, CommitNudger(wake_ups))
        ctx = step_context(store, chain, settings)

        async def close() -> None:
            await chain.close()
            await wake_ups.aclose()
            await pool.close()

        return WorkerResources(ctx, close)

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    resources = Resources(open_resources, stopped)
    broker = build_broker(
        settings.redis_url, settings.broker_namespace, [resources], settings.redis_timeout_s
    )
    register_actors(broker, resources)
    worker = Worker(broker, worker_threads=settings.worker_threads, worker_timeout=SAFETY_POLL_MS)
    try:
        worker.start()  # returns once the resources are open (waiting for the store)
    except BootAbandoned as abandoned:
        broker.emit_after("worker_shutdown", worker)  # stops the AsyncIO loop
        broker.close()
        if abandoned.error is None:
            return 0
        log.exception("worker could not start", exc_info=abandoned.error)
        return 1
    log.info("worker running", extra={"threads": settings.worker_threads})
    announce_ready(settings.data_dir)
    stopped.wait()
    worker.stop()
    broker.close()
    return 0


def run_dispatcher(settings: EngineSettings) -> int:
    """The dispatcher, its sweeper and its confirmation watcher, until SIGTERM (a
    standby waits for the lock)."""
    keypair = wallet(settings)  # before anything starts: refused, nothing is left running

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await dispatch_until(settings, keypair, stop)

    asyncio.run(main())
    return 0


async def dispatch_until(settings: EngineSettings, keypair: Keypair, stop: asyncio.Event) -> None:
    """Run the dispatcher, sweeper and watcher in this loop until `stop` is set."""
    pool = build_pool(settings)
    await pool.open(wait=True)
    chain = solana_clients(settings, keypair)
    wake_ups = async_redis(settings.redis_url, settings.redis_timeout_s)
    broker = build_broker(
        settings.redis_url, settings.broker_namespace, redis_timeout_s=settings.redis_timeout_s
    )
    publish = broker_publisher(broker)
    admission = Admission(
        settings.inflight_limit, settings.orders_per_minute, settings.recover_after_ms
    )
    telemetry = DispatcherTelemetry()
    metrics = serve_metrics(telemetry.registry, settings.host, settings.dispatcher_metrics_port)
    settling = asyncio.Event()  # the dispatcher gave the watcher a signature to follow
    # Commits anywhere wake it (`db/wakeups.py`): idle, it need not poll.
    listener = WakeUpListener(settings.redis_url, redis_timeout_s=settings.redis_timeout_s)
    runner = SubscriptionRunner(
        settings.database_url,
        build_event_store(pool),
        Dispatcher(publish, admission, settings.recover_after_ms, telemetry, settling),
        poll_interval_s=settings.dispatch_poll_ms / 1000,
        idle_poll_s=settings.idle_poll_ms / 1000,
        waiter=listener.wait,
        connect_options=session_options(
            settings.db_statement_timeout_ms, settings.db_idle_in_transaction_timeout_ms
        ),
    )
    sweeper = Sweeper(
        pool, publish, admission, settings.recover_after_ms, queued=queue_depth(broker)
    )
    watcher = _watcher(settings, pool, chain, CommitNudger(wake_ups), settling)
    announcing = asyncio.create_task(announce_when(runner.active, settings.data_dir))
    try:
        await asyncio.gather(
            listener.run(stop),
            runner.run_until_stopped(stop),
            sweeper.run(stop, runner.active),
            watcher.run(stop, runner.active),
        )
    finally:
        announcing.cancel()
        if metrics is not None:
            metrics.shutdown()
            metrics.server_close()
        broker.close()
        await chain.close()
        await wake_ups.aclose()
        await pool.close()


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> WSGIServer | None:
    """Serve `registry` at http://host:port/metrics from a thread (port 0: not at all).
    A port already taken (a standby dispatcher on the same machine) is a warning only."""
    if not port:
        return None
    try:
        server, _ = start_http_server(port, host, registry)
    except OSError as error:
        log.warning("metrics not served", extra={"port": port, "error": repr(error)})
        return None
    return server


def wallet(settings: EngineSettings) -> Keypair:
    """The keypair the engine signs with; `ConfigurationError` (status 2, which the
    supervisor does not restart) when WALLET_KEYPAIR names no usable file."""
    try:
        return load_keypair(settings.wallet_keypair, settings.simulator_seed)
    except WalletRefused as refused:
        raise ConfigurationError(str(refused)) from None


def solana_clients(settings: EngineSettings, keypair: Keypair) -> SolanaClients:
    """The JSON-RPC node, the quote service and the wallet, as every engine process
    that touches the chain opens them."""
    return connect(
        settings.solana_rpc_url,
        settings.quote_api_url,
        keypair,
        rpc_timeout_s=settings.rpc_timeout_ms / 1000,
        websocket_url=None if settings.solana_ws_url == "off" else settings.solana_ws_url,
    )


def step_context(store: EventStore, chain: SolanaClients, settings: EngineSettings) -> StepContext:
    return StepContext(store, chain.rpc, chain.quotes, chain.wallet, execution_policy(settings))


def _watcher(
    settings: EngineSettings,
    pool: AsyncConnectionPool[AsyncConnection],
    chain: SolanaClients,
    nudger: CommitNudger,
    settling: asyncio.Event,
) -> ConfirmationWatcher:
    # The outcomes it appends wake the API's tailer and the projector, as a worker's do.
    store = build_event_store(pool, nudger)
    ctx = step_context(store, chain, settings)

    async def source() -> list[inflight.Watched]:
        async with pool.connection() as conn:
            return await inflight.watched(conn, WATCHED_AT_ONCE)

    # Never more often than the dispatcher looks for events: at POLL_INTERVAL_MS 0 a
    # round per dispatcher poll is plenty (each round moves an instant chain a slot).
    interval_ms = max(settings.poll_interval_ms, settings.dispatch_poll_ms)
    return ConfirmationWatcher(
        ctx, source, interval_ms / 1000, idle=(settings.idle_poll_ms / 1000, settling)
    )


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
        "--ledger",
        settings.simulator_ledger,
        "--launches-per-hour",
        str(settings.simulator_launches_per_hour),
    ]
    if settings.simulator_hostile:
        argv += ["--hostile", settings.simulator_hostile]
    journal = settings.simulator_journal
    if journal == "off":
        return argv
    default = settings.data_dir / "simulator" / f"seed-{seed}.journal"
    return [*argv, "--journal", journal or str(default)]
