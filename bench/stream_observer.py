"""An outside client on some orders' streams, for `bench.dashboard --profile`: when each
order event reached a plain WebSocket client (not a browser), on the machine's monotonic
clock (`time.perf_counter`, shared by every process here), so the dashboard's time can be
split into the API's fan-out and wire (up to here) and the page's own share.

    python -m bench.stream_observer PORT KEY < order-ids.json

Prints `live` once every stream has replayed, then, once every stream closed after its
final event, one JSON line: [[orderId, version, perf_counter seconds], ...].
"""

from __future__ import annotations

import asyncio
import json
import sys

from bench.ws_fanout import Key, _follow, _url


async def observe(port: int, key: str, order_ids: list[str]) -> dict[Key, float]:
    received: dict[Key, float] = {}
    live = asyncio.Semaphore(0)
    followers = [
        asyncio.create_task(_follow(_url(port, order_id, key), received, live))
        for order_id in order_ids
    ]
    for _ in followers:
        await asyncio.wait_for(live.acquire(), 120)
    print("live", flush=True)
    await asyncio.wait_for(asyncio.gather(*followers), 300)
    return received


def main() -> None:
    port, key = int(sys.argv[1]), sys.argv[2]
    order_ids = [str(order_id) for order_id in json.loads(sys.stdin.read())]
    received = asyncio.run(observe(port, key, order_ids))
    print(json.dumps([[order_id, version, at] for (order_id, version), at in received.items()]))


if __name__ == "__main__":
    main()
