"""The broker messages of the execution pipeline: one per order step.

Message ids are derived from what caused the message (an event id, or a sweep), so
the same cause always sends the same message, whichever process sends it.
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Any

import dramatiq

_MESSAGE_NAMESPACE = uuid.UUID("0c5b7f0e-4a61-4f7e-9a3e-5d2f3c1b7a90")


class Step(StrEnum):
    """Each step is an actor of the same name, on a queue of its own."""

    ROUTE = "route_order"
    EXECUTE = "execute_order"
    FOLLOW = "follow_order"

    @property
    def queue(self) -> str:
        return self.value.removesuffix("_order")


# Steps closer to the end run first, so orders already under way finish before new
# ones start (lower is sooner in Dramatiq's work queue).
PRIORITY = {Step.FOLLOW: 0, Step.EXECUTE: 10, Step.ROUTE: 20}


def step_message(
    step: Step, order_id: str, attempt: int, cause: str, signature: str | None = None
) -> dramatiq.Message[Any]:
    """The message asking for `step` of `order_id`'s attempt, because of `cause`."""
    kwargs: dict[str, object] = {"order_id": order_id, "attempt": attempt}
    if step is Step.FOLLOW:
        kwargs["lease_ms"] = now_ms()
        if signature is not None:
            kwargs["signature"] = signature
    message_id = uuid.uuid5(_MESSAGE_NAMESPACE, f"{step}:{order_id}:{attempt}:{cause}")
    return dramatiq.Message(
        queue_name=step.queue,
        actor_name=step.value,
        args=(),
        kwargs=kwargs,
        options={},
        message_id=str(message_id),
    )


def now_ms() -> int:
    """Wall-clock milliseconds: leases are compared across processes."""
    return time.time_ns() // 1_000_000
