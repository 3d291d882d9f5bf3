"""The broker messages of the execution pipeline: one per order step.

Message ids are derived from what caused the message (an event id, or a sweep), so
the same cause always sends the same message, whichever process sends it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

import dramatiq

_MESSAGE_NAMESPACE = uuid.UUID("0c5b7f0e-4a61-4f7e-9a3e-5d2f3c1b7a90")


class Step(StrEnum):
    """Each step is an actor of the same name, on a queue of its own, except FOLLOW:
    the confirmation watcher follows those orders without messages."""

    ROUTE = "route_order"
    EXECUTE = "execute_order"
    FOLLOW = "follow_order"

    @property
    def queue(self) -> str:
        return self.value.removesuffix("_order")


# Steps closer to the end run first, so orders already under way finish before new
# ones start (lower is sooner in Dramatiq's work queue).
PRIORITY = {Step.EXECUTE: 10, Step.ROUTE: 20}


# Orders started by one route message: one message's broker costs (enqueue, fetch,
# ack, thread hand-offs) are shared by the batch, while its steps run concurrently.
ROUTE_BATCH = 32


def start_messages(order_ids: list[str], cause: str) -> list[dramatiq.Message[Any]]:
    """Route messages starting attempt 1 of `order_ids`, in batches of `ROUTE_BATCH`."""
    messages: list[dramatiq.Message[Any]] = []
    for start in range(0, len(order_ids), ROUTE_BATCH):
        batch = order_ids[start : start + ROUTE_BATCH]
        message_id = uuid.uuid5(_MESSAGE_NAMESPACE, f"{Step.ROUTE}:{cause}:{','.join(batch)}")
        messages.append(
            dramatiq.Message(
                queue_name=Step.ROUTE.queue,
                actor_name=Step.ROUTE.value,
                args=(),
                kwargs={"orders": [[order_id, 1] for order_id in batch]},
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
