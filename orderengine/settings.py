"""Every setting of the engine, read once from the environment into one typed object.

This is the only module that reads environment variables (DESIGN.md). The README's
settings table is generated from `SETTINGS` below, so the two cannot drift.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "", "PostgreSQL URL; empty: an embedded PostgreSQL under DATA_DIR"),
    Setting("REDIS_URL", "", "Redis URL; empty: an embedded Redis under DATA_DIR"),
    Setting("DATA_DIR", ".data", "where embedded PostgreSQL and Redis keep their data"),
    Setting("HOST", "127.0.0.1", "address the API listens on (or --host)"),
    Setting("PORT", "8000", "port the API listens on (or --port)"),
    Setting("API_PROCESSES", "1", "API worker processes (uvicorn workers)"),
    Setting("DB_POOL_MIN", "4", "PostgreSQL connections each process keeps open"),
    Setting("DB_POOL_MAX", "16", "most PostgreSQL connections per process"),
    Setting("DB_ACQUIRE_TIMEOUT_S", "2", "wait this long for a connection, then answer 503"),
    Setting("DB_STATEMENT_TIMEOUT_MS", "5000", "statement_timeout and lock_timeout per session"),
    Setting(
        "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        "5000",
        "idle_in_transaction_session_timeout per session",
    ),
    Setting("MAX_BODY_BYTES", "65536", "largest request body; larger is 413"),
    Setting("LOG_LEVEL", "INFO", "log level (DEBUG, INFO, WARNING, ERROR)"),
    Setting("SIMULATOR_URL", "http://127.0.0.1:8900", "the venue: the simulator's HTTP service"),
    Setting("SIMULATOR_SEED", "0", "seed of the simulator `orderengine simulator`/`up` starts"),
    Setting(
        "SIMULATOR_TIME_SCALE", "1", "simulator wall-clock seconds per slot / 0.4; 0 = instant"
    ),
    Setting(
        "SIMULATOR_JOURNAL",
        "",
        "file keeping the simulator's chain across restarts; empty:"
        " DATA_DIR/simulator/seed-<seed>.journal; `off`: in memory only",
    ),
    Setting("BROKER_NAMESPACE", "orderengine", "prefix of every Dramatiq key in Redis"),
    Setting("WORKER_PROCESSES", "2", "worker processes `orderengine up` runs"),
    Setting("WORKER_THREADS", "16", "Dramatiq threads per worker process (steps at once)"),
    Setting("INFLIGHT_LIMIT", "5000", "most orders executing at once; more wait (0: no limit)"),
    Setting("ORDERS_PER_MINUTE", "0", "most orders started per minute (0: no limit)"),
    Setting("MAX_ATTEMPTS", "3", "attempts per order before it fails"),
    Setting("RETRY_BACKOFF_MS", "500", "wait before attempt 2; doubles for each later attempt"),
    Setting("POLL_INTERVAL_MS", "200", "wait between two looks at the pending signatures"),
    Setting("PRIORITY_FEE", "10000", "compute-unit price, micro-lamports per CU (0: none)"),
    Setting("RECOVER_AFTER_MS", "5000", "a step silent this long is sent again (lost message)"),
    Setting("DISPATCH_POLL_MS", "20", "how often the dispatcher looks for new events"),
    Setting("PROJECTOR_POLL_MS", "50", "projector's poll for new events (wake-ups come sooner)"),
    Setting("LIVE_FEED_POLL_MS", "20", "API tailer's poll for new events (wake-ups come sooner)"),
    Setting("STREAM_QUEUE_EVENTS", "256", "events queued per WebSocket before it re-reads the log"),
)


@dataclass(frozen=True)
class EngineSettings:
    database_url: str
    redis_url: str
    data_dir: Path
    host: str
    port: int
    api_processes: int
    db_pool_min: int
    db_pool_max: int
    db_acquire_timeout_s: float
    db_statement_timeout_ms: int
    db_idle_in_transaction_timeout_ms: int
    max_body_bytes: int
    log_level: str
    simulator_url: str
    simulator_seed: int
    simulator_time_scale: float
    simulator_journal: str
    broker_namespace: str
    worker_processes: int
    worker_threads: int
    inflight_limit: int
    orders_per_minute: int
    max_attempts: int
    retry_backoff_ms: int
    poll_interval_ms: int
    priority_fee: int
    recover_after_ms: int
    dispatch_poll_ms: int
    projector_poll_ms: int
    live_feed_poll_ms: int
    stream_queue_events: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> EngineSettings:
        """Settings from `environ` (default: the process environment), else defaults."""
        source = os.environ if environ is None else environ
        raw = {s.env.lower(): source.get(s.env, s.default) for s in SETTINGS}
        values: dict[str, object] = {}
        for field in fields(cls):
            text = raw[field.name]
            values[field.name] = _convert(field.name, str(field.type), text)
        return cls(**values)  # type: ignore[arg-type]


def _convert(name: str, kind: str, text: str) -> object:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise SystemExit(f"setting {name.upper()}={text!r} is not a number") from None
    if kind == "Path":
        path = Path(text)
        return path if path.is_absolute() else PROJECT_ROOT / path
    return text
