"""The API process's own figures, kept by prometheus_client: request latency per route
template and status class, database pool waits, event-loop lag, open WebSockets.

One `ApiTelemetry` per app, with a registry of its own. With several API processes
behind one port (`API_PROCESSES` > 1) a scrape reaches any one of them, so their
figures are kept in prometheus_client's multiprocess files instead (`metrics_dir`)
and every scrape adds them all up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

REQUEST_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
SAMPLE_INTERVAL_S = 0.25  # event-loop lag and pool figures, four times a second

# psycopg_pool's `pop_stats`: counters since the last call, gauges as they are now.
PoolStats = Callable[[], Mapping[str, int]]


class ApiTelemetry:
    def __init__(
        self,
        pool_stats: PoolStats | None = None,
        open_sockets: Callable[[], int] = lambda: 0,
        metrics_dir: Path | None = None,
    ) -> None:
        self._pool_stats = pool_stats
        self._open_sockets = open_sockets
        self._metrics_dir = metrics_dir
        self.registry = registry = CollectorRegistry()
        self.requests = Histogram(
            "orderengine_http_request_duration_seconds",
            "HTTP requests by route template, method and status class, until the last byte.",
            ["route", "method", "status"],
            buckets=REQUEST_BUCKETS_S,
            registry=registry,
        )
        self.loop_lag = Histogram(
            "orderengine_event_loop_lag_seconds",
            "How late the API's event loop ran a timer (a blocked loop delays every request).",
            buckets=LAG_BUCKETS_S,
            registry=registry,
        )
        self.pool_waits = Counter(
            "orderengine_db_pool_waits",
            "Connection requests that waited for a free pooled connection.",
            registry=registry,
        )
        self.pool_wait_seconds = Counter(
            "orderengine_db_pool_wait_seconds",
            "Time connection requests spent waiting for a pooled connection.",
            registry=registry,
        )
        self.pool_errors = Counter(
            "orderengine_db_pool_acquire_errors",
            "Connection requests that failed (timed out waiting: the API answered 503).",
            registry=registry,
        )
        self.pool_connections = Gauge(
            "orderengine_db_pool_connections",
            "PostgreSQL connections of the API's pool, idle or in use.",
            ["state"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_waiting = Gauge(
            "orderengine_db_pool_requests_waiting",
            "Connection requests waiting for a pooled connection now.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.websockets_open = Gauge(
            "orderengine_websockets_open",
            "WebSocket streams open in the API.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self._stop = asyncio.Event()
        self._sampler: asyncio.Task[None] | None = None

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Litestar middleware timing each HTTP request (WebSockets are counted open)."""

        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500  # unless a response starts: an error no handler turned into one

            async def send_noting_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_noting_status)
            finally:
                route = scope.get("path_template") or "unmatched"
                self.requests.labels(route, scope["method"], f"{status // 100}xx").observe(
                    time.perf_counter() - started
                )

        return timed

    async def start(self) -> None:
        self._stop.clear()
        self._sampler = asyncio.create_task(self._sample_until_stopped())

    async def stop(self) -> None:
        self._stop.set()
        if self._sampler is not None:
            await self._sampler
        if self._metrics_dir is not None:
            # Its live gauges (sockets, connections) no longer count in the sums.
            mark_process_dead(os.getpid(), str(self._metrics_dir))  # type: ignore[no-untyped-call]

    async def _sample_until_stopped(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            due = loop.time() + SAMPLE_INTERVAL_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SAMPLE_INTERVAL_S)
            self.loop_lag.observe(max(0.0, loop.time() - due))
            self.sample()

    def sample(self) -> None:
        """Bring the gauges and pool counters up to date (each sample, and each scrape)."""
        self.websockets_open.set(self._open_sockets())
        if self._pool_stats is None:
            return
        stats = self._pool_stats()
        self.pool_waits.inc(stats.get("requests_queued", 0))
        self.pool_wait_seconds.inc(stats.get("requests_wait_ms", 0) / 1000)
        self.pool_errors.inc(stats.get("requests_errors", 0))
        size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
        self.pool_connections.labels("idle").set(idle)
        self.pool_connections.labels("in_use").set(size - idle)
        self.pool_waiting.set(stats.get("requests_waiting", 0))

    def exposition(self, *extra: Collector) -> bytes:
        """This process's figures (all API processes' when they share a metrics
        directory) and `extra`'s, in the text format of `CONTENT_TYPE_LATEST`."""
        self.sample()
        if self._metrics_dir is None:
            return generate_latest(_Joined([self.registry, *extra]))
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(self._metrics_dir))  # type: ignore[no-untyped-call]
        return generate_latest(_Joined([merged, *extra]))


class _Joined(Collector):
    def __init__(self, collectors: list[Collector]) -> None:
        self._collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self._collectors:
            yield from collector.collect()
