"""What every step needs: the event store, the venue and the execution policy."""

from __future__ import annotations

from dataclasses import dataclass

from commands.ports import EventStore
from domain.routing import DEFAULT_STEPS
from workers.ports import Venue


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
