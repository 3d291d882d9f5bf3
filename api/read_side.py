"""What the read routes need, bundled for `ApiServices.read_side`, and its wiring."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from litestar.connection import ASGIConnection
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.live_feed import LiveFeed
from api.problems import ApiError
from api.services import SERVICES_STATE_KEY, ApiServices
from db.event_store import PostgresEventStore
from db.log_head import settled_head
from db.redis_clients import DEFAULT_TIMEOUT_S
from db.wakeups import WakeUpListener
from domain.records import GlobalPosition
from projections.launch_queries import LaunchReader
from projections.metric_queries import ReadSideFigures, read_side_figures
from projections.snapshot_queries import SnapshotReader


class LiveFeedStarting(Exception):
    """The tailer has not read where the log ends yet."""


@dataclass
class ReadSide:
    snapshots: SnapshotReader
    feed: LiveFeed
    figures: Callable[[], Awaitable[ReadSideFigures]]
    launches: LaunchReader


def read_side_of(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[ApiServices, ReadSide]:
    """The services and read side from app state (HTTP requests and WebSockets alike)."""
    services = cast(ApiServices, connection.app.state[SERVICES_STATE_KEY])
    if not isinstance(services.read_side, ReadSide):
        raise ApiError(503, "the read side is not configured in this process")
    return services, services.read_side


class ReadSideTasks:
    """Starts and stops what the read side runs in the API process: the wake-up
    listener and the live feed's tailer (as app start-up and shutdown hooks).

    Start-up waits (at most `start_wait_s`) for the tailer's start position, so the
    server accepts WebSockets only once it has one; should PostgreSQL not answer in
    that time the server starts anyway (health, 503s), sockets are told to try again
    and `/ready` says the live feed is starting."""

    def __init__(
        self, feed: LiveFeed, listener: WakeUpListener, *, start_wait_s: float = 10.0
    ) -> None:
        self._feed = feed
        self._listener = listener
        self._start_wait_s = start_wait_s
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._listener.run(self._stop)),
            asyncio.create_task(self._feed.run(self._stop)),
        ]
        if self._start_wait_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._feed.started.wait(), self._start_wait_s)

    async def probe(self) -> None:
        """The readiness probe of the live feed: ready once it has a start position."""
        if not self._feed.started.is_set():
            raise LiveFeedStarting("no start position yet")

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


def build_read_side(
    pool: AsyncConnectionPool[AsyncConnection],
    store: PostgresEventStore,
    redis_url: str,
    *,
    poll_interval_s: float,
    idle_poll_s: float | None = None,
    queue_capacity: int = 256,
    redis_timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[ReadSide, ReadSideTasks]:
    listener = WakeUpListener(redis_url, redis_timeout_s=redis_timeout_s)

    async def head() -> GlobalPosition:
        return await settled_head(pool)

    async def figures() -> ReadSideFigures:
        return await read_side_figures(pool)

    feed = LiveFeed(
        store,
        head,
        waiter=listener.wait,
        poll_interval_s=poll_interval_s,
        idle_poll_s=idle_poll_s,
        queue_capacity=queue_capacity,
    )
    read_side = ReadSide(SnapshotReader(pool), feed, figures, LaunchReader(pool))
    return read_side, ReadSideTasks(feed, listener)
