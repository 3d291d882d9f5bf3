"""What the engine can be asked to do to an order (imperative names).

Engine-driven steps carry the `attempt` they belong to, so a redelivered message for
a step that already happened is recognised and decided as a no-op.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.events import Quote, RouteLeg, TriggerQuote
from domain.launches import PoolLaunched
from domain.sniper_terms import SniperTerms


class Command(msgspec.Struct, frozen=True, kw_only=True):
    pass


class SubmitOrder(Command, frozen=True):
    order_id: str
    order_type: str
    token_in: str
    token_out: str
    amount_in: int
    slippage_bps: int
    limit_amount_out: int | None = None  # limit orders (domain.submission fills these)
    limit_price: str | None = None
    expires_at: datetime | None = None
    sniper: SniperTerms | None = None  # sniper orders (token_out is "" until a match)
    parent_order_id: str | None = None  # an exit's child order (domain.exits.exit_order)
    token_in_decimals: int | None = None


class MatchPool(Command, frozen=True):
    """A new pool the watcher recorded, for arm `generation` of a sniper order to judge."""

    generation: int
    launch: PoolLaunched
    now: datetime


class FireTrigger(Command, frozen=True):
    """The trigger evaluator saw `quote` meet the limit at `slot` (wall clock `now`)."""

    generation: int
    slot: int
    quote: TriggerQuote
    now: datetime


class ExpireOrder(Command, frozen=True):
    """The evaluator's clock passed the order's `expiresAt` (`now` is that clock)."""

    now: datetime


class TriggerExit(Command, frozen=True):
    """The exit watcher's sale quote of the whole position, `value` (atomic tokenIn) at
    `slot`, for exit arm `generation`: the domain says whether a rule fires."""

    generation: int
    slot: int
    value: int


class SettleExit(Command, frozen=True):
    """Exit arm `generation`'s child order ended: `confirmed` with `amount_out` in
    `slot`, or not (its status, reason and code)."""

    generation: int
    status: str
    amount_out: int | None
    slot: int | None
    reason: str | None
    code: str | None


class CancelOrder(Command, frozen=True):
    """A client's cancel (API.md "Cancel")."""


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
    transaction: str = ""


class MarkSent(Command, frozen=True):
    attempt: int


class ConfirmOrder(Command, frozen=True):
    attempt: int
    slot: int
    amount_out: int
    legs: tuple[RouteLeg, ...]
    network_fee_lamports: int
    observed_at: datetime | None = None  # when the confirmation was seen (limit expiry)


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
    | MatchPool
    | FireTrigger
    | ExpireOrder
    | CancelOrder
    | TriggerExit
    | SettleExit
    | StartRouting
    | SelectRoute
    | SignTransaction
    | MarkSent
    | ConfirmOrder
    | FailAttempt
    | FailOrder
)
