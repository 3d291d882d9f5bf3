"""The outside client of `bench.user_load`'s burst: N market orders at once, each submitted
on its own `/api/orders/execute` WebSocket and followed there until the order is final.

    .venv/bin/python -m bench.burst_client --url http://127.0.0.1:3000 --orders 2000

It runs as its own process (the engine's processes and this one share nothing but the
sockets) and writes its result as JSON with `--result-json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import uuid
from collections import Counter

import msgspec
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from bench.command import run_benchmark
from bench.measures import Distribution

FINAL = frozenset({"confirmed", "failed", "expired", "cancelled"})


class Follow(msgspec.Struct, frozen=True):
    accepted_s: float | None  # from the burst's start to the `accepted` message
    final_s: float | None  # to the final status; None if the socket never told it
    final_status: str | None
    error: str | None  # a client time-out, a refused connection, a refusal


class BurstResult(msgspec.Struct, frozen=True):
    orders: int
    seconds: float  # until the last socket ended
    follows: list[Follow]

    @property
    def timeouts(self) -> int:
        return sum(1 for f in self.follows if f.error == "timeout")

    @property
    def errors(self) -> int:
        return sum(1 for f in self.follows if f.error is not None)

    @property
    def error_kinds(self) -> dict[str, int]:
        return dict(Counter(f.error for f in self.follows if f.error is not None))

    @property
    def told_final(self) -> int:
        return sum(1 for f in self.follows if f.final_status is not None)

    @property
    def all_final_s(self) -> float | None:
        finals = [f.final_s for f in self.follows if f.final_s is not None]
        return max(finals) if len(finals) == self.orders else None

    def accepted(self) -> Distribution:
        return Distribution.of_seconds([f.accepted_s for f in self.follows if f.accepted_s])

    def final(self) -> Distribution:
        return Distribution.of_seconds([f.final_s for f in self.follows if f.final_s])


async def _follow(ws_url: str, start: float, n: int, timeout_s: float, key: str) -> Follow:
    accepted_s = final_s = None
    status = None
    body = {
        "type": "market",
        "tokenIn": "SOL",
        "tokenOut": "USDC",
        "amountIn": "0.5",
        "idempotencyKey": f"burst-{uuid.uuid4()}-{n}",
    }
    try:
        async with asyncio.timeout(timeout_s):
            auth = {"Authorization": f"Bearer {key}"}
            url = f"{ws_url}/api/orders/execute"
            async with connect(url, open_timeout=timeout_s, additional_headers=auth) as socket:
                await socket.send(json.dumps(body))
                async for raw in socket:
                    message = json.loads(raw)
                    if message["type"] == "accepted":
                        accepted_s = time.monotonic() - start
                    elif message["type"] == "error":
                        return Follow(accepted_s, None, None, f"refused {message['status']}")
                    elif message["type"] == "event" and message.get("status") in FINAL:
                        status, final_s = message["status"], time.monotonic() - start
    except TimeoutError:
        return Follow(accepted_s, final_s, status, "timeout")
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else "no close frame"
        reason = closed.rcvd.reason if closed.rcvd else ""
        return Follow(accepted_s, final_s, status, f"closed {code} {reason}".strip())
    except (OSError, WebSocketException) as error:
        return Follow(accepted_s, final_s, status, type(error).__name__)
    return Follow(accepted_s, final_s, status, None if status else "closed before final")


def _raise_open_files_limit() -> None:
    # One socket per order: 2,000 at once is past the usual soft limit of 1,024.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def burst(base_url: str, orders: int, timeout_s: float, key: str) -> BurstResult:
    _raise_open_files_limit()
    ws_url = base_url.replace("http://", "ws://", 1)
    start = time.monotonic()
    follows = await asyncio.gather(
        *(_follow(ws_url, start, n, timeout_s, key) for n in range(orders))
    )
    return BurstResult(orders, time.monotonic() - start, list(follows))


def show(result: BurstResult) -> None:
    final = result.all_final_s
    print(
        f"{result.orders} at once: {result.timeouts} time-outs, {result.errors} errors,"
        f" told final {result.told_final}, all final after "
        + (f"{final:.2f} s" if final is not None else "never (some not told)")
    )
    if result.errors:
        print(f"errors: {result.error_kinds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the engine's API, http://host:port")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=60, help="per socket, seconds")
    parser.add_argument("--key", required=True, help="the API key (DATA_DIR/admin.key)")
    run_benchmark(
        parser, lambda args: asyncio.run(burst(args.url, args.orders, args.timeout, args.key)), show
    )


if __name__ == "__main__":
    main()
