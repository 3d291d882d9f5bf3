"""The broker messages of the execution pipeline: one per order step.

Message ids are derived from what caused the message (an event id, or a sweep), so
the same cause always sends the same message, whichever process sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any

import dramatiq

# (message, delay in ms or None) pairs, sent in one go by a `Publisher`.
Outgoing = list[tuple["dramatiq.Message[Any]", int | None]]
Publisher = Callable[[Outgoing], Awaitable[None]]

_MESSAGE_NAMESPACE = uuid.UUID("0c5b7f0e-4a61-4f7e-9a3e-5d2f3c1b7a90")


class Step(StrEnum):
    """Each step is an actor of the same name (a `commands` handler), on a queue of
    its own, except SETTLE: the confirmation watcher settles those orders without
    messages."""

    ROUTE = "route_and_send"
    RESEND = "resend_transaction"
    SETTLE = "settle_attempt"

    @property
    def queue(self) -> str:
        return _QUEUES[self]


_QUEUES = {Step.ROUTE: "route", Step.RESEND: "resend", Step.SETTLE: "settle"}

# Steps closer to the end run first, so orders already under way finish before new
# ones start (lower is sooner in Dramatiq's work queue).
PRIORITY = {Step.RESEND: 10, Step.ROUTE: 20}


# Orders started by one route message: one message's broker costs (enqueue, fetch,
# ack, thread hand-offs) are shared by the batch, while its steps run concurrently.
ROUTE_BATCH = 32


def start_messages(orders: Sequence[tuple[str, int]], cause: str) -> list[dramatiq.Message[Any]]:
    """Route messages starting each (order id, attempt) of `orders`, in batches of
    `ROUTE_BATCH`."""
    messages: list[dramatiq.Message[Any]] = []
    for start in range(0, len(orders), ROUTE_BATCH):
        batch = orders[start : start + ROUTE_BATCH]
        named = ",".join(f"{order_id}:{attempt}" for order_id, attempt in batch)
        message_id = uuid.uuid5(_MESSAGE_NAMESPACE, f"{Step.ROUTE}:{cause}:{named}")
        messages.append(
            dramatiq.Message(
                queue_name=Step.ROUTE.queue,
                actor_name=Step.ROUTE.value,
                args=(),
                kwargs={"orders": [[order_id, attempt] for order_id, attempt in batch]},
                options={},
                message_id=str(message_id),
            )
        )
    return messages


def step_message(step: Step, order_id: str, attempt: int, cause: str) -> dramatiq.Message[Any]:
    """The message asking for `step` of `order_id`'s attempt, because of `cause`."""
    kwargs: dict[str, object] = {"order_id": order_id, "attempt": attempt}
    message_id = uuid.uuid5(_MESSAGE_NAMESPACE, f"{step}:{order_id}:{attempt}:{cause}")
    return dramatiq.Message(
        queue_name=step.queue,
        actor_name=step.value,
        args=(),
        kwargs=kwargs,
        options={},
        message_id=str(message_id),
    )
