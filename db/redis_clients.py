"""Every Redis client the engine makes is made here, with a socket timeout and a
connect timeout (`REDIS_TIMEOUT_S`): a Redis that accepts connections and never
answers then fails a call after that long instead of hanging its caller forever."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis

DEFAULT_TIMEOUT_S = 2.0


def async_redis(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> aioredis.Redis:
    """An asyncio client (wake-ups, probes)."""
    return aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)


def sync_redis(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> redis.Redis:
    """A blocking client (the Dramatiq broker, the embedded server's management)."""
    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
