"""The per-key token bucket in Redis, drawn from by two API processes' limiters at once."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis.asyncio as aioredis

from api.rate_limit import KeyRateLimit, RateLimited


@pytest.mark.parametrize("rate", [5, 200])
async def test_two_limiters_never_serve_more_than_one_bucket_holds(
    redis_server: str, rate: int
) -> None:
    client = aioredis.Redis.from_url(redis_server)
    namespace = f"oe-test-{uuid.uuid4().hex[:8]}"
    limiters = [KeyRateLimit(client, namespace, rate), KeyRateLimit(client, namespace, rate)]
    served = refused = 0
    waits: list[int] = []
    started = time.monotonic()

    async def one(number: int) -> None:
        nonlocal served, refused
        try:
            await limiters[number % 2].draw("desk")
            served += 1
        except RateLimited as limited:
            waits.append(limited.retry_after_s)
            refused += 1

    try:
        for batch in range(6):
            await asyncio.gather(*(one(batch * 100 + n) for n in range(rate)))
        elapsed = time.monotonic() - started
        assert served <= 2 * rate + rate * elapsed + 1, (served, elapsed)
        assert served >= 2 * rate * 0.9  # the burst is there (leases lose at most a few)
        assert refused > 0
        assert min(waits) >= 1
        await limiters[0].draw("another")  # each key has its own bucket
    finally:
        await client.delete(*[k async for k in client.scan_iter(f"{namespace}:*")])
        await client.aclose()
