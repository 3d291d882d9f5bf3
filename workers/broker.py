"""The Dramatiq broker on Redis, with the AsyncIO middleware for `async def` actors."""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    AsyncIO,
    Middleware,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

STEP_TIME_LIMIT_MS = 30_000  # one step is a few requests; anything longer is stuck


def build_broker(
    redis_url: str, namespace: str, extra: list[Middleware] | None = None
) -> RedisBroker:
    """A broker whose Redis keys all start with `namespace` (tests use their own).

    An actor that raises (venue or store unreachable) is retried by the broker after a
    short back-off; the sweeper covers a message that is lost outright.
    """
    middleware: list[Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=STEP_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Retries(max_retries=20, min_backoff=200, max_backoff=5_000),
        AsyncIO(),
        # After AsyncIO: "after" hooks run in reverse order, so their after_worker_shutdown
        # runs while AsyncIO's loop still does.
        *(extra or []),
    ]
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url, namespace=namespace, middleware=middleware
    )
