"""What every step needs: the event store, the chain, the quotes, the wallet, the policy."""

from __future__ import annotations

from dataclasses import dataclass

from commands.ports import EventStore, QuoteService, RpcNode, TransactionBuilder
from domain.routing import DEFAULT_STEPS


@dataclass(frozen=True)
class ExecutionPolicy:
    max_attempts: int = 3
    retry_backoff_ms: int = 500  # before attempt 2; doubles for each later attempt
    poll_interval_ms: int = 200  # between two looks at a pending signature
    # Micro-lamports per compute unit. Without a priority fee a transaction lands in
    # fewer than a third of blocks (SIMULATOR.md §7); at the usual p75 in nearly all.
    compute_unit_price: int = 10_000
    ladder_steps: int = DEFAULT_STEPS
    # Pools one route may split over. Without address lookup tables (not built yet) a
    # swap over all three SOL/USDC pools names too many accounts for one 1,232-byte
    # transaction (1.4 kB measured); two fit. The route step still re-plans over fewer
    # should a transaction not fit (`TransactionTooLarge`).
    max_route_legs: int = 2
    # Blocks past its lastValidBlockHeight before a signature the RPC shows as `null` is
    # called expired: a node a few slots behind, or whose status index lags, shows a
    # landed signature as `null` for a while (issue 9).
    expiry_margin_blocks: int = 32
    # The most a route may move the price (basis points); past it the attempt fails
    # unsigned (`PriceImpactTooHigh`): a fat finger must not drain the pools.
    max_price_impact_bps: int = 500

    def retry_after_ms(self, attempt: int) -> int:
        """Exponential back-off after failed attempt number `attempt`."""
        return self.retry_backoff_ms << max(0, attempt - 1)


@dataclass(frozen=True)
class StepContext:
    store: EventStore
    rpc: RpcNode
    quotes: QuoteService
    wallet: TransactionBuilder
    policy: ExecutionPolicy
