"""The Dramatiq actors: thin adapters from a message to one step.

Each actor is `async def`, so it runs on the worker process's one event loop (the
AsyncIO middleware); each step is short and never sleeps. A signature still pending
is followed by the dispatcher's confirmation watcher, not by any actor. Each step's
log lines carry its step, order and attempt (bound here, in the step's own task).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware
from structlog.contextvars import bound_contextvars

from commands.resend_transaction import resend_transaction
from commands.route_and_send import route_and_send
from commands.step_context import StepContext
from workers.messages import PRIORITY, Step

log = logging.getLogger("workers.actors")


@dataclass
class WorkerResources:
    ctx: StepContext
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
