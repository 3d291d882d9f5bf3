"""The pool watcher's bell (`workers.solana.logs_subscription`): not live while no node
answers, live once one does, and it ends at once on stop."""

from __future__ import annotations

import asyncio

from simulator.config import SimulatorConfig
from simulator.service import start
from tests.support.servers import free_port
from workers.solana.launch_feed import CREATE_POOL_FEE
from workers.solana.logs_subscription import LogsSubscription


async def _until(condition: object, seconds: float) -> bool:
    for _ in range(int(seconds * 100)):
        if callable(condition) and condition():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_it_reconnects_when_the_node_comes_and_stops_at_once() -> None:
    port = free_port()
    subscription = LogsSubscription(f"ws://127.0.0.1:{port}/", CREATE_POOL_FEE)
    stop = asyncio.Event()
    running = asyncio.create_task(subscription.run(stop))
    await asyncio.sleep(0.7)  # refused at least once: not live, and polling meanwhile
    assert not subscription.live
    assert not subscription.bell.is_set()
    node = await start(SimulatorConfig(seed=3), "127.0.0.1", port)
    async with node:
        assert await _until(lambda: subscription.live, 5)
        assert subscription.bell.is_set()  # a (re)subscription rings: look for what passed
        stop.set()
        await asyncio.wait_for(running, 2)
