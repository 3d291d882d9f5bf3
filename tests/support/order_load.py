"""A steady stream of market orders through the API processes, and WebSocket clients
that follow orders and reconnect with `afterVersion` when their server goes away.

Both act like careful clients: a submission is retried with the same Idempotency-Key
on another API until it is accepted, so an order is counted as submitted only once an
API said so, and "lost" means an accepted order that never became final.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

ORDER_BODIES = [
    {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"},
    {"type": "market", "tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "300"},
    {"type": "market", "tokenIn": "JUP", "tokenOut": "USDC", "amountIn": "100"},
]
RETRYABLE = (httpx.TransportError, ConnectionClosed, InvalidHandshake, OSError, TimeoutError)


@dataclass
class OrderLoad:
    """Submits `rate` orders per second, round-robin over `apis` (host:port)."""

    apis: list[str]
    rate: float
    headers: dict[str, str] = field(default_factory=dict)  # the API key's
    accepted: dict[str, float] = field(default_factory=dict)  # order id -> accepted at
    refusals: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: on a schedule, not a sleep per order, so that a loop slower
        than one order's interval (100 orders/s on a busy machine) still keeps the rate."""
        apis = itertools.cycle(self.apis)
        started = time.monotonic()
        sent = 0
        async with httpx.AsyncClient(timeout=5) as client, asyncio.TaskGroup() as group:
            while not stop.is_set():
                due = int((time.monotonic() - started) * self.rate) + 1
                for number in range(sent, due):
                    group.create_task(self._submit(client, next(apis), number))
                sent = max(sent, due)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1 / self.rate)

    async def burst(self, count: int) -> None:
        """`count` submissions at once, on top of the steady rate: orders in flight."""
        async with httpx.AsyncClient(timeout=5) as client:
            await asyncio.gather(
                *(self._submit(client, self.apis[n % len(self.apis)], n) for n in range(count))
            )

    async def _submit(self, client: httpx.AsyncClient, first: str, number: int) -> None:
        key = uuid.uuid4().hex
        body = {**ORDER_BODIES[number % len(ORDER_BODIES)], "slippageBps": 100}
        apis = itertools.chain([first], itertools.cycle(self.apis))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            url = f"http://{next(apis)}/api/orders/execute"
            try:
                headers = {**self.headers, "Idempotency-Key": key}
                reply = await client.post(url, json=body, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(0.05)
                continue
            if reply.status_code in (200, 202):
                self.accepted.setdefault(reply.json()["orderId"], time.monotonic())
                return
            if reply.status_code != 503:  # 503: a backing service is down, nothing accepted
                self.refusals.append(f"{reply.status_code} {reply.text}")
                return
            await asyncio.sleep(0.05)
        self.refusals.append(f"no API accepted key {key} in 20 s")


@dataclass
class StreamFollower:
    """Follows one order's stream to its end over any of `apis`, reconnecting after
    the last version it saw; `versions` is every event version received, in order."""

    order_id: str
    apis: list[str]
    headers: dict[str, str] = field(default_factory=dict)  # the API key's
    versions: list[int] = field(default_factory=list)
    reconnects: int = 0

    async def follow(self, seconds: float = 30) -> None:
        apis = itertools.cycle(self.apis)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            after = self.versions[-1] if self.versions else 0
            url = f"ws://{next(apis)}/api/orders/{self.order_id}/stream?afterVersion={after}"
            try:
                async with connect(
                    url, open_timeout=5, close_timeout=1, additional_headers=self.headers
                ) as socket:
                    async for raw in socket:
                        message = json.loads(raw)
                        if message["type"] == "event":
                            self.versions.append(message["version"])
                    if socket.close_code == 1000:
                        return
            except InvalidStatus:
                raise
            except RETRYABLE:
                pass
            self.reconnects += 1
            await asyncio.sleep(0.05)
        raise TimeoutError(f"stream of {self.order_id} not finished in {seconds} s")

    def exactly_once(self) -> bool:
        return self.versions == list(range(1, len(self.versions) + 1))
