"""What the engine can be asked to do to an order (imperative names).

Engine-driven steps carry the `attempt` they belong to, so a redelivered message for
a step that already happened is recognised and decided as a no-op.
"""

from __future__ import annotations

import msgspec

from domain.events import Quote, RouteLeg


class Command(msgspec.Struct, frozen=True, kw_only=True):
    pass


class SubmitOrder(Command, frozen=True):
    order_id: str
    order_type: str
    token_in: str
    token_out: str
    amount_in: int
    slippage_bps: int


class StartRouting(Command, frozen=True):
    attempt: int


class SelectRoute(Command, frozen=True):
    attempt: int
    quotes: tuple[Quote, ...]
    legs: tuple[RouteLeg, ...]
    price_impact: str
    context_slot: int


class SignTransaction(Command, frozen=True):
    attempt: int
    signature: str
    blockhash: str
    last_valid_block_height: int
    compute_unit_price: int = 0


class MarkSent(Command, frozen=True):
    attempt: int


class ConfirmOrder(Command, frozen=True):
    attempt: int
    slot: int
    amount_out: int
    legs: tuple[RouteLeg, ...]
    network_fee_lamports: int


class FailAttempt(Command, frozen=True):
    attempt: int
    reason: str
    code: str
    retryable: bool
    max_attempts: int
    retry_after_ms: int


class FailOrder(Command, frozen=True):
    reason: str
    code: str


OrderCommand = (
    SubmitOrder
    | StartRouting
    | SelectRoute
    | SignTransaction
    | MarkSent
    | ConfirmOrder
    | FailAttempt
    | FailOrder
)
