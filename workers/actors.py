"""The Dramatiq actors: thin adapters from a message to one step.

Each actor is `async def`, so it runs on the worker process's one event loop (the
AsyncIO middleware); each step is short and never sleeps. A signature still pending
is followed by the dispatcher's confirmation watcher, not by any actor. Each step's
log lines carry its step, order and attempt (bound here, in the step's own task).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware, MiddlewareError
from structlog.contextvars import bound_contextvars

from commands.resend_transaction import resend_transaction
from commands.route_and_send import route_and_send
from commands.step_context import StepContext
from db.retry import TRANSIENT, Outage
from workers.messages import PRIORITY, Step

log = logging.getLogger("workers.actors")


@dataclass
class WorkerResources:
    ctx: StepContext
    close: Callable[[], Awaitable[None]]


Opener = Callable[[], Awaitable[WorkerResources]]


class BootAbandoned(MiddlewareError):
    """The worker stopped booting before its resources opened: `error` is why, or
    None when it was asked to stop while it waited for them."""

    def __init__(self, error: BaseException | None) -> None:
        super().__init__(repr(error) if error else "stopped while waiting to start")
        self.error = error


class Resources(Middleware):
    """Opens the process's pools and clients on the actors' event loop at boot, and
    closes them at shutdown; it must come after AsyncIO in the middleware list.

    Boot runs before any consumer starts, so a worker whose store or Redis is down
    takes no message until they answer: it waits at boot (backing off, the outage
    logged once) rather than failing every step it is handed. Dramatiq logs and
    swallows most exceptions raised by a middleware and would start the consumers
    anyway, so a boot that cannot finish (a SIGTERM while waiting, or a failure that
    waiting cannot cure) raises `BootAbandoned`, which dramatiq lets through."""

    def __init__(self, opener: Opener, stopping: threading.Event) -> None:
        self._opener = opener
        self._stopping = stopping  # set by SIGTERM: stop waiting for the store
        self._resources: WorkerResources | None = None

    @property
    def booted(self) -> bool:
        return self._resources is not None

    @property
    def current(self) -> WorkerResources:
        assert self._resources is not None, "worker not booted"
        return self._resources

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # Before the worker threads take messages; AsyncIO's loop (earlier in the list,
        # so booted first) is already running.
        thread = get_event_loop_thread()
        assert thread is not None, "the AsyncIO middleware must come before this one"
        try:
            opened = thread.run_coroutine(self._open_when_reachable())
        except Exception as error:
            raise BootAbandoned(error) from error
        if opened is None:
            raise BootAbandoned(None)
        self._resources = opened

    async def _open_when_reachable(self) -> WorkerResources | None:
        outage = Outage("worker start-up (store, Redis, RPC)", log)
        while True:
            try:
                resources = await self._opener()
            except TRANSIENT as error:
                if self._stopping.is_set():
                    return None
                await asyncio.sleep(outage.failed(error))
                if self._stopping.is_set():
                    return None
            else:
                outage.recovered()
                return resources

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        # After the worker threads are gone (no step still uses the pools), before the
        # AsyncIO middleware (earlier in the list, so later here) stops the loop.
        thread = get_event_loop_thread()
        if self._resources is not None and thread is not None:
            thread.run_coroutine(self._resources.close())


async def route_orders(ctx: StepContext, orders: list[tuple[str, int]]) -> None:
    """The route actor's step, its log lines bound to it."""
    with bound_contextvars(**step_context(Step.ROUTE, orders)):
        await route_and_send(ctx, orders)


async def resend_order(ctx: StepContext, order_id: str, attempt: int) -> None:
    """The resend actor's step, its log lines bound to it."""
    with bound_contextvars(**step_context(Step.RESEND, [(order_id, attempt)])):
        await resend_transaction(ctx, order_id, attempt)


def step_context(step: Step, orders: list[tuple[str, int]]) -> dict[str, object]:
    """What every log line of one step carries: the step, and the order and attempt
    (a batch of orders is logged per order by the step itself)."""
    if len(orders) == 1:
        ((order_id, attempt),) = orders
        return {"step": step.value, "order_id": order_id, "attempt": attempt}
    return {"step": step.value, "orders": len(orders)}


def register_actors(broker: dramatiq.Broker, resources: Resources) -> None:
    """Declare the two step actors (and their queues) on `broker`."""

    async def route(
        order_id: str = "", attempt: int = 0, orders: list[tuple[str, int]] | None = None
    ) -> None:
        # One order (a retry, a sweep) or a batch of newly admitted ones.
        await route_orders(resources.current.ctx, orders or [(order_id, attempt)])

    async def resend(order_id: str, attempt: int) -> None:
        await resend_order(resources.current.ctx, order_id, attempt)

    for step, fn in ((Step.ROUTE, route), (Step.RESEND, resend)):
        declare = dramatiq.actor(
            actor_name=step.value, queue_name=step.queue, priority=PRIORITY[step], broker=broker
        )
        declare(fn)
