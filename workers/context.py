"""What every step needs: the event store, the venue and the execution policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from commands.order_steps import load_order
from commands.ports import EventStore
from domain.order_state import OrderState
from domain.routing import DEFAULT_STEPS
from workers.ports import Venue

# The current state of several orders, by order id, in one read (absent: no such order).
OrderLoader = Callable[[list[str]], Awaitable[dict[str, OrderState]]]


@dataclass(frozen=True)
class ExecutionPolicy:
    max_attempts: int = 3
    retry_backoff_ms: int = 500  # before attempt 2; doubles for each later attempt
    poll_interval_ms: int = 200  # between two looks at a pending signature
    # Micro-lamports per compute unit. Without a priority fee a transaction lands in
    # fewer than a third of blocks (SIMULATOR.md §7); at the usual p75 in nearly all.
    compute_unit_price: int = 10_000
    ladder_steps: int = DEFAULT_STEPS

    def retry_after_ms(self, attempt: int) -> int:
        """Exponential back-off after failed attempt number `attempt`."""
        return self.retry_backoff_ms << max(0, attempt - 1)


@dataclass(frozen=True)
class StepContext:
    store: EventStore
    venue: Venue
    policy: ExecutionPolicy
    load_many: OrderLoader | None = None  # else one `load_order` per order

    async def load_orders(self, order_ids: list[str]) -> dict[str, OrderState]:
        """The orders' states: in one read when the store offers it (PostgreSQL)."""
        if self.load_many is not None:
            return await self.load_many(order_ids)
        states = {order_id: await load_order(self.store, order_id) for order_id in order_ids}
        return {order_id: state for order_id, state in states.items() if state is not None}
