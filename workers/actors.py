"""The Dramatiq actors: thin adapters from a message to one step.

Each actor is `async def`, so it runs on the worker process's one event loop (the
AsyncIO middleware); each step is short and never sleeps. A signature still pending
is looked at again through a delayed message, not by waiting in the actor.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware

from workers.context import StepContext
from workers.execute_step import execute_order
from workers.follow_step import follow_order
from workers.messages import PRIORITY, Step, now_ms, step_message
from workers.route_step import route_order

log = logging.getLogger("workers.actors")

# (order_id, step, attempt, due_in_ms): tell the sweeper this step is still alive.
ExtendDue = Callable[[str, str, int, int], Awaitable[None]]


@dataclass
class WorkerResources:
    ctx: StepContext
    extend_due: ExtendDue
    recover_after_ms: int
    close: Callable[[], Awaitable[None]]


Opener = Callable[[], Awaitable[WorkerResources]]


class Resources(Middleware):
    """Opens the process's pools and clients on the actors' event loop at boot, and
    closes them at shutdown; it must come after AsyncIO in the middleware list."""

    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._resources: WorkerResources | None = None

    @property
    def current(self) -> WorkerResources:
        assert self._resources is not None, "worker not booted"
        return self._resources

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # Before the worker threads take messages; AsyncIO's loop (earlier in the list,
        # so booted first) is already running.
        thread = get_event_loop_thread()
        assert thread is not None, "the AsyncIO middleware must come before this one"
        self._resources = thread.run_coroutine(self._opener())

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        # After the worker threads are gone (no step still uses the pools), before the
        # AsyncIO middleware (earlier in the list, so later here) stops the loop.
        thread = get_event_loop_thread()
        if self._resources is not None and thread is not None:
            thread.run_coroutine(self._resources.close())


def register_actors(broker: dramatiq.Broker, resources: Resources) -> None:
    """Declare the three step actors (and their queues) on `broker`."""

    async def route(order_id: str, attempt: int) -> None:
        await route_order(resources.current.ctx, order_id, attempt)

    async def execute(order_id: str, attempt: int) -> None:
        await execute_order(resources.current.ctx, order_id, attempt)

    async def follow(
        order_id: str, attempt: int, lease_ms: int = 0, signature: str | None = None
    ) -> None:
        current = resources.current
        if not await follow_order(current.ctx, order_id, attempt, signature):
            return
        # Still pending: keep the sweeper off this order while we keep looking.
        if now_ms() - lease_ms > current.recover_after_ms // 2:
            await current.extend_due(order_id, Step.FOLLOW, attempt, current.recover_after_ms)
            lease_ms = now_ms()
        message = step_message(Step.FOLLOW, order_id, attempt, f"poll:{now_ms()}")
        kwargs = {**message.kwargs, "lease_ms": lease_ms, "signature": signature}
        message = message.copy(kwargs=kwargs)
        delay = current.ctx.policy.poll_interval_ms
        broker.enqueue(message, delay=delay or None)

    for step, fn in ((Step.ROUTE, route), (Step.EXECUTE, execute), (Step.FOLLOW, follow)):
        declare = dramatiq.actor(
            actor_name=step.value, queue_name=step.queue, priority=PRIORITY[step], broker=broker
        )
        declare(fn)
