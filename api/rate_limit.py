"""Submits and cancels per key (`RATE_LIMIT_PER_KEY` a second, a burst of twice that),
one token bucket per key in Redis, so every API process draws on the same bucket.

The bucket is read, refilled and drawn in one Lua script (atomic in Redis), on Redis's
own clock, so API processes whose clocks disagree still share one rate. A process takes
up to a twentieth of a second's tokens at once (a lease) and spends them locally, so a
busy key costs a Redis call per lease, not per request. Every token served was drawn
from the shared bucket, so the limit is never exceeded; a lease left unspent for
`LEASE_S` is dropped (the key loses those few tokens, it never gains any).
"""

from __future__ import annotations

import asyncio
import math
import time

import redis.asyncio as aioredis

LEASE_S = 0.05

# KEYS[1]: the bucket; ARGV: rate per second, burst, most tokens to take. Returns
# "<tokens taken> <seconds until one is there>" (the wait only when none was taken).
_BUCKET_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local taken = math.min(tonumber(ARGV[3]), math.floor(tokens))
local wait = 0
if taken >= 1 then tokens = tokens - taken else taken = 0; wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return taken .. ' ' .. tostring(wait)
"""


class RateLimited(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class KeyRateLimit:
    """`per_second` 0: no limit."""

    def __init__(self, redis: aioredis.Redis, namespace: str, per_second: int) -> None:
        self._namespace = namespace
        self._per_second = per_second
        self._lease = max(1, int(per_second * LEASE_S))
        self._script = redis.register_script(_BUCKET_LUA)
        self._held: dict[str, tuple[int, float]] = {}  # key name -> (tokens, leased at)
        self._leasing: dict[str, asyncio.Future[int]] = {}

    async def draw(self, key_name: str) -> None:
        """Take one token of `key_name`'s bucket, or raise `RateLimited`."""
        if self._per_second <= 0:
            return
        while True:
            held, leased_at = self._held.get(key_name, (0, 0.0))
            if held > 0 and time.monotonic() - leased_at < LEASE_S:
                self._held[key_name] = (held - 1, leased_at)
                return
            # One lease in flight per key: the requests that find none wait for it
            # (a burst of them is one Redis call, not one each), and share a refusal.
            leasing = self._leasing.get(key_name)
            if leasing is None:
                break
            retry_after_s = await asyncio.shield(leasing)
            if retry_after_s:
                raise RateLimited(retry_after_s)
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._leasing[key_name] = done
        retry_after_s = 0
        try:
            retry_after_s = await self._lease_for(key_name)
        finally:
            del self._leasing[key_name]
            done.set_result(retry_after_s)
        if retry_after_s:
            raise RateLimited(retry_after_s)

    async def _lease_for(self, key_name: str) -> int:
        """Lease tokens of the shared bucket and spend one; else the seconds to wait."""
        bucket = f"{self._namespace}:rate:{key_name}"
        answer = await self._script(
            keys=[bucket], args=[self._per_second, 2 * self._per_second, self._lease]
        )
        taken_text, wait_text = (answer.decode() if isinstance(answer, bytes) else answer).split()
        taken = int(float(taken_text))
        if taken == 0:
            return max(1, math.ceil(float(wait_text)))
        # Tokens other requests leased meanwhile stay: this one spends one of its own.
        held, _ = self._held.get(key_name, (0, 0.0))
        self._held[key_name] = (held + taken - 1, time.monotonic())
        return 0
