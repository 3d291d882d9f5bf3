"""Submits and cancels per key (`RATE_LIMIT_PER_KEY` a second, a burst of twice that),
one token bucket per key in Redis, so every API process draws on the same bucket.

The bucket is read, refilled and drawn in one Lua script (atomic in Redis), on Redis's
own clock, so API processes whose clocks disagree still share one rate.
"""

from __future__ import annotations

import math

import redis.asyncio as aioredis

# KEYS[1]: the bucket; ARGV: rate per second, burst. Returns "0" (drawn) or the seconds
# until a token is there (nothing drawn).
_BUCKET_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RateLimited(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class KeyRateLimit:
    """`per_second` 0: no limit."""

    def __init__(self, redis: aioredis.Redis, namespace: str, per_second: int) -> None:
        self._redis = redis
        self._namespace = namespace
        self._per_second = per_second
        self._script = redis.register_script(_BUCKET_LUA)

    async def draw(self, key_name: str) -> None:
        """Take one token of `key_name`'s bucket, or raise `RateLimited`."""
        if self._per_second <= 0:
            return
        bucket = f"{self._namespace}:rate:{key_name}"
        wait = float(
            await self._script(keys=[bucket], args=[self._per_second, 2 * self._per_second])
        )
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)))
