"""The simulator's HTTP service on a thread and event loop of its own, so that test
clients which block their caller's loop (Litestar's test client) cannot stall it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.service import RunningService, start

T = TypeVar("T")


class SimulatorThread:
    def __init__(self, running: RunningService, loop: asyncio.AbstractEventLoop) -> None:
        self._running = running
        self._loop = loop

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._running.port}"

    def call(self, fn: Callable[[Simulator], T]) -> T:
        """Run `fn` on the simulator's own loop (it is not thread-safe)."""

        async def on_loop() -> T:
            return fn(self._running.simulator)

        return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result(10)


@contextmanager
def simulator_thread(config: SimulatorConfig) -> Iterator[SimulatorThread]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    running = asyncio.run_coroutine_threadsafe(start(config), loop).result(10)
    try:
        yield SimulatorThread(running, loop)
    finally:
        asyncio.run_coroutine_threadsafe(running.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
