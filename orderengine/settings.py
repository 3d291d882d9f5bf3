"""Every setting of the engine, read once from the environment into one typed object.

This is the only module that reads environment variables (DESIGN.md). The README's
settings table is generated from `SETTINGS` below, so the two cannot drift.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin, get_type_hints

import msgspec
from msgspec import Meta

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
    Setting("DB_POOL_MIN", "1", "PostgreSQL connections each process keeps open when idle"),
    Setting("DB_POOL_MAX", "16", "most PostgreSQL connections per process"),
    Setting(
        "DB_POOL_MAX_IDLE_S", "30", "a pooled connection above DB_POOL_MIN unused this long closes"
    ),
    Setting("DB_ACQUIRE_TIMEOUT_S", "2", "wait this long for a connection, then answer 503"),
    Setting("DB_STATEMENT_TIMEOUT_MS", "5000", "statement_timeout and lock_timeout per session"),
    Setting(
        "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        "5000",
        "idle_in_transaction_session_timeout per session",
    ),
    Setting(
        "MAX_BODY_BYTES",
        "65536",
        "largest request body (and submit WebSocket message); larger is 413",
    ),
    Setting(
        "ALLOWED_ORIGINS",
        "",
        "browser origins (`https://host:port`, comma-separated) allowed to use the API"
        " (CORS, WebSocket upgrades) besides its own and loopback; `*`: any",
    ),
    Setting("LOG_LEVEL", "INFO", "log level (DEBUG, INFO, WARNING, ERROR)"),
    Setting(
        "LOG_FORMAT",
        "auto",
        "`json`: one JSON object per line; `console`: text; `auto`: text on a terminal, else JSON",
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "",
        "where API processes keep /metrics figures when there are several; empty: a fresh"
        " directory per `orderengine api`",
    ),
    Setting("SIMULATOR_URL", "http://127.0.0.1:8900", "where `orderengine simulator`/`up` serve"),
    Setting("SOLANA_RPC_URL", "", "the Solana JSON-RPC node; empty: the simulator (SIMULATOR_URL)"),
    Setting(
        "SOLANA_WS_URL",
        "",
        "the node's PubSub WebSocket (logsSubscribe, for the pool watcher); empty: SOLANA_RPC_URL"
        " with a ws:// or wss:// scheme; `off`: none, the watcher polls every POOL_WATCH_POLL_MS",
    ),
    Setting("RPC_TIMEOUT_MS", "5000", "an RPC request unanswered this long has no answer"),
    Setting("QUOTE_API_URL", "", "the quote service; empty: the simulator's (SIMULATOR_URL)"),
    Setting(
        "WALLET_KEYPAIR",
        "",
        "Solana CLI keypair file (JSON, 64 bytes) the engine signs with; empty: a key"
        " derived from SIMULATOR_SEED, for the simulator only",
    ),
    Setting("SIMULATOR_SEED", "0", "seed of the simulator `orderengine simulator`/`up` starts"),
    Setting(
        "SIMULATOR_TIME_SCALE", "1", "simulator wall-clock seconds per slot / 0.4; 0 = instant"
    ),
    Setting(
        "SIMULATOR_HOSTILE",
        "",
        "the simulator answers as a hostile RPC node: `drop:0.2,rate_limit:0.1,...`"
        " (modes in simulator/hostile.py); empty: a faithful one",
    ),
    Setting(
        "SIMULATOR_LEDGER",
        "math",
        "where the simulator's Raydium CPMM pools execute: `math` (our integer math) or"
        " `litesvm` (the vendored Raydium CPMM program in LiteSVM); other venues: our math",
    ),
    Setting(
        "SIMULATOR_LAUNCHES_PER_HOUR",
        "30",
        "new pools the simulator launches on its seeded schedule, per hour of 400 ms slots"
        " (some freezable, some with LP kept, some rugged; a crowd of snipers buys each); 0: none",
    ),
    Setting(
        "SIMULATOR_JOURNAL",
        "",
        "file keeping the simulator's chain across restarts; empty:"
        " DATA_DIR/simulator/seed-<seed>.journal; `off`: in memory only",
    ),
    Setting("BROKER_NAMESPACE", "orderengine", "prefix of every Dramatiq key in Redis"),
    Setting(
        "REDIS_TIMEOUT_S",
        "2",
        "socket and connect timeout of every Redis client (broker, wake-ups); at most 60",
    ),
    Setting("WORKER_PROCESSES", "2", "worker processes `orderengine up` runs"),
    Setting("WORKER_THREADS", "16", "Dramatiq threads per worker process (steps at once)"),
    Setting("INFLIGHT_LIMIT", "5000", "most orders executing at once; more wait (0: no limit)"),
    Setting("ORDERS_PER_MINUTE", "0", "most orders started per minute (0: no limit)"),
    Setting("MAX_ATTEMPTS", "3", "attempts per order before it fails"),
    Setting("RETRY_BACKOFF_MS", "500", "wait before attempt 2; doubles for each later attempt"),
    Setting("POLL_INTERVAL_MS", "200", "wait between two looks at the pending signatures"),
    Setting(
        "EXPIRY_MARGIN_BLOCKS",
        "32",
        "blocks past lastValidBlockHeight before a signature the RPC shows as null is expired",
    ),
    Setting(
        "MAX_PRICE_IMPACT_BPS",
        "500",
        "most a route may move the price, basis points; past it the order fails"
        " (`PriceImpactTooHigh`) and `/api/quote` answers 400",
    ),
    Setting("PRIORITY_FEE", "10000", "compute-unit price, micro-lamports per CU (0: none)"),
    Setting("RECOVER_AFTER_MS", "5000", "a step silent this long is sent again (lost message)"),
    Setting("DISPATCH_POLL_MS", "20", "how often the dispatcher looks for new events"),
    Setting(
        "DISPATCHER_METRICS_PORT",
        "9108",
        "port (on HOST) of the dispatcher's /metrics (undecodable events); 0: not served",
    ),
    Setting(
        "TRIGGER_POLL_MS", "50", "how often the trigger evaluator looks for a new slot and expiries"
    ),
    Setting(
        "POOL_WATCH_POLL_MS",
        "100",
        "how often the pool watcher asks the chain for new pool creations"
        " (getSignaturesForAddress)",
    ),
    Setting("PROJECTOR_POLL_MS", "50", "projector's poll for new events (wake-ups come sooner)"),
    Setting(
        "IDLE_POLL_MS",
        "1000",
        "a quiet follower of the log (dispatcher, evaluator, projector, API tailer) looks"
        " this often when no wake-up comes, and checks its lock as often: a standby takes"
        " over within 2 x this + 0.5 s",
    ),
    Setting("LIVE_FEED_POLL_MS", "20", "API tailer's poll for new events (wake-ups come sooner)"),
    Setting("STREAM_QUEUE_EVENTS", "256", "events queued per WebSocket before it re-reads the log"),
    Setting(
        "API_KEY_SECRET",
        "",
        "server secret API keys are hashed with (HMAC-SHA256); empty: a random one kept in"
        " DATA_DIR/api_key.secret. Every API process and `orderengine keys` must share it",
    ),
    Setting(
        "RATE_LIMIT_PER_KEY",
        "100",
        "submits and cancels per second per API key, a burst of twice that, shared by every"
        " API process (0: no limit)",
    ),
    Setting("MAX_SOCKETS_PER_KEY", "100", "open WebSockets per API key in each API process"),
)


# The types a setting's text is converted to (msgspec, lax: "8000" -> 8000, "true" ->
# True, "0.5" -> 0.5); the bounds are part of the type, so a refusal names them.
Count = Annotated[int, Meta(ge=0)]
Positive = Annotated[int, Meta(ge=1)]
Port = Annotated[int, Meta(ge=0, le=65_535)]
Seconds = Annotated[float, Meta(gt=0)]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LogFormat = Literal["auto", "json", "console"]


class ConfigurationError(Exception):
    """The engine cannot start as configured (`orderengine` exits with status 2)."""


@dataclass(frozen=True)
class EngineSettings:
    database_url: str
    redis_url: str
    data_dir: Path
    host: str
    port: Port
    api_processes: Positive
    db_pool_min: Count
    db_pool_max_idle_s: Annotated[float, Meta(gt=0)]
    db_pool_max: Positive
    db_acquire_timeout_s: Seconds
    db_statement_timeout_ms: Count
    db_idle_in_transaction_timeout_ms: Count
    max_body_bytes: Positive
    allowed_origins: str
    log_level: LogLevel
    log_format: LogFormat
    prometheus_multiproc_dir: str
    simulator_url: str
    solana_rpc_url: str
    solana_ws_url: str
    rpc_timeout_ms: Positive
    quote_api_url: str
    wallet_keypair: str
    simulator_seed: int
    simulator_time_scale: Annotated[float, Meta(ge=0)]
    simulator_hostile: str
    simulator_ledger: Literal["math", "litesvm"]
    simulator_launches_per_hour: Annotated[float, Meta(ge=0, le=9_000)]
    simulator_journal: str
    broker_namespace: str
    redis_timeout_s: Annotated[float, Meta(gt=0, le=60)]
    worker_processes: Count
    worker_threads: Positive
    inflight_limit: Count
    orders_per_minute: Count
    max_attempts: Positive
    retry_backoff_ms: Count
    poll_interval_ms: Count
    expiry_margin_blocks: Count
    max_price_impact_bps: Annotated[int, Meta(ge=1, le=10_000)]
    priority_fee: Count
    recover_after_ms: Count
    dispatch_poll_ms: Count
    dispatcher_metrics_port: Port
    trigger_poll_ms: Positive
    pool_watch_poll_ms: Positive
    projector_poll_ms: Count
    idle_poll_ms: Positive
    live_feed_poll_ms: Count
    stream_queue_events: Positive
    api_key_secret: str
    rate_limit_per_key: Count
    max_sockets_per_key: Positive

    @property
    def origins(self) -> tuple[str, ...]:
        """ALLOWED_ORIGINS as a list, without trailing slashes."""
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> EngineSettings:
        """Settings from `environ` (default: the process environment), else defaults.
        Raises `ConfigurationError` naming the first variable whose value is refused."""
        source = os.environ if environ is None else environ
        types = get_type_hints(cls, include_extras=True)
        values = {
            s.env.lower(): convert_setting(
                s.env, source.get(s.env, s.default), types[s.env.lower()]
            )
            for s in SETTINGS
        }
        # Empty: the simulator serves both (SIMULATOR_URL).
        values["solana_rpc_url"] = values["solana_rpc_url"] or values["simulator_url"]
        values["quote_api_url"] = values["quote_api_url"] or values["simulator_url"]
        values["solana_ws_url"] = values["solana_ws_url"] or websocket_url(
            str(values["solana_rpc_url"])
        )
        return cls(**values)  # type: ignore[arg-type]  # each converted to its field's type


def websocket_url(rpc_url: str) -> str:
    """The PubSub address of a node served at `rpc_url`: the same address with a
    WebSocket scheme, as hosted providers (and the simulator) serve it."""
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if rpc_url.startswith(http):
            return ws + rpc_url.removeprefix(http)
    return rpc_url


def convert_setting(env: str, text: str, kind: object) -> object:
    """`text` (an environment variable's value) as `kind`, or `ConfigurationError`
    naming the variable and what it expects."""
    try:
        return msgspec.convert(text, kind, strict=False, dec_hook=_decode)
    except msgspec.ValidationError as error:
        raise ConfigurationError(
            f"setting {env}={text!r} refused: {_expected(kind, error)}"
        ) from None


def _decode(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        path = Path(value)
        return path if path.is_absolute() else PROJECT_ROOT / path
    raise NotImplementedError(kind)


def _expected(kind: object, error: msgspec.ValidationError) -> str:
    if get_origin(kind) is Literal:
        return "expected one of " + ", ".join(str(option) for option in get_args(kind))
    message = str(error)
    return message[:1].lower() + message[1:]
