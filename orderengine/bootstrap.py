"""The composition root: settings in, wired pools, stores and apps out.

Nothing else builds connections or reads configuration; every process entry point
(`orderengine ...`) starts here.
"""

from __future__ import annotations

import atexit
import gc
import logging
import tempfile
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from litestar import Litestar
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from api.keys import KeyRing
from api.rate_limit import KeyRateLimit
from api.read_side import build_read_side
from api.services import ApiServices
from db.api_keys import KeyTable
from db.event_store import PostgresEventStore
from db.migrate import migrate
from db.pool import create_pool
from db.redis_clients import async_redis
from db.wakeups import CommitNudger
from orderengine.embedded_postgres import embedded_postgres
from orderengine.embedded_redis import embedded_redis
from orderengine.key_commands import key_secret
from orderengine.logs import configure_logging
from orderengine.settings import EngineSettings
from workers.solana.balances import WalletBalances
from workers.solana.quoter import VenueQuoter
from workers.solana.wallet import WalletRefused, load_keypair

log = logging.getLogger("orderengine")

# Embedded servers and scratch directories this process made; stopped (removed) when it
# exits (Ctrl-C on `up` stops everything `up` started; a server another process still
# uses keeps running).
_EMBEDDED = ExitStack()
atexit.register(_EMBEDDED.close)


def with_backing_services(settings: EngineSettings, *, redis: bool = True) -> EngineSettings:
    """`settings` with embedded PostgreSQL / Redis started for any URL left empty (no
    Redis for a command that does not use it: `redis` False)."""
    database_url = settings.database_url or _EMBEDDED.enter_context(
        embedded_postgres(settings.data_dir / "postgres")
    )
    redis_url = settings.redis_url
    if redis and not redis_url:
        redis_url = _EMBEDDED.enter_context(embedded_redis(settings.data_dir / "redis"))
    return replace(settings, database_url=database_url, redis_url=redis_url)


def migrate_database(settings: EngineSettings) -> list[str]:
    return migrate(settings.database_url)


def shared_metrics_dir(settings: EngineSettings) -> Path:
    """Where several API processes keep their /metrics figures (prometheus_client's
    multiprocess mode): PROMETHEUS_MULTIPROC_DIR, emptied of an earlier run's files,
    else a fresh directory removed at exit."""
    if settings.prometheus_multiproc_dir:
        directory = Path(settings.prometheus_multiproc_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.db"):
            old.unlink()
        return directory
    return Path(_EMBEDDED.enter_context(tempfile.TemporaryDirectory(prefix="oe-metrics-")))


def build_pool(settings: EngineSettings) -> AsyncConnectionPool[AsyncConnection]:
    return create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        acquire_timeout_s=settings.db_acquire_timeout_s,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        idle_in_transaction_timeout_ms=settings.db_idle_in_transaction_timeout_ms,
        max_idle_s=settings.db_pool_max_idle_s,
    )


def build_event_store(
    pool: AsyncConnectionPool[AsyncConnection], nudger: CommitNudger | None = None
) -> PostgresEventStore:
    """The event store every process appends through (one place to decorate it);
    with `nudger`, each append publishes a wake-up for the log's followers."""
    return PostgresEventStore(pool, on_commit=nudger.nudge if nudger else None)


def _wallet_reader(settings: EngineSettings) -> WalletBalances | None:
    """The wallet's balances for `GET /api/wallet`; None (the route answers 503) when
    WALLET_KEYPAIR names no usable key: the worker refuses to start then, saying why."""
    try:
        keypair = load_keypair(settings.wallet_keypair, settings.simulator_seed)
    except WalletRefused:
        return None
    return WalletBalances(settings.solana_rpc_url, str(keypair.pubkey()))


def build_api_services(settings: EngineSettings) -> ApiServices:
    pool = build_pool(settings)
    redis_client = async_redis(settings.redis_url, settings.redis_timeout_s)

    async def open_pool() -> None:
        # Not waiting: with PostgreSQL down the API still starts and answers 503.
        await pool.open(wait=False)

    quotes = VenueQuoter(settings.quote_api_url, settings.max_price_impact_bps)
    wallet = _wallet_reader(settings)

    async def close() -> None:
        await pool.close()
        await redis_client.aclose()
        await quotes.close()
        if wallet is not None:
            await wallet.close()

    async def probe_postgres() -> None:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def probe_redis() -> None:
        await redis_client.ping()

    store = build_event_store(pool, CommitNudger(redis_client))
    read_side, read_side_tasks = build_read_side(
        pool,
        store,
        settings.redis_url,
        poll_interval_s=settings.live_feed_poll_ms / 1000,
        idle_poll_s=settings.idle_poll_ms / 1000,
        queue_capacity=settings.stream_queue_events,
        redis_timeout_s=settings.redis_timeout_s,
    )
    return ApiServices(
        store=store,
        keys=KeyRing(
            KeyTable(pool), key_secret(settings), max_sockets_per_key=settings.max_sockets_per_key
        ),
        rate_limit=KeyRateLimit(
            redis_client, settings.broker_namespace, settings.rate_limit_per_key
        ),
        probes={
            "postgres": probe_postgres,
            "redis": probe_redis,
            "live_feed": read_side_tasks.probe,
        },
        on_startup=[open_pool, read_side_tasks.start],
        on_shutdown=[read_side_tasks.stop, close],
        read_side=read_side,
        max_body_bytes=settings.max_body_bytes,
        allowed_origins=settings.origins,
        quotes=quotes,
        wallet=wallet,
        pool_stats=pool.pop_stats,
        metrics_dir=Path(d) if (d := settings.prometheus_multiproc_dir) else None,
    )


def create_api_app() -> Litestar:
    """The factory uvicorn calls in each API process (settings from the environment)."""
    settings = EngineSettings.from_environment()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.database_url or not settings.redis_url:
        settings = with_backing_services(settings)
    app = create_app(build_api_services(settings))
    # Everything built so far lives as long as the process: keep it out of the cyclic
    # collector's full passes, which otherwise rescan it and show up as p99 spikes.
    gc.freeze()
    return app
