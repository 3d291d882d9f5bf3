"""Decisions of orders that wait (limit and sniper orders): match, fire, expire, cancel,
re-arm.

A trigger or an expiry is decided for one arm (`generation`) and appended at the
order's expected version, so two evaluators, a redelivery, or a cancel racing the
trigger end with exactly one of them recorded (DESIGN.md, "Orders that wait").
"""

from __future__ import annotations

from domain import exits
from domain.commands import CancelOrder, ExpireOrder, FireTrigger, MatchPool
from domain.errors import InvalidTransition
from domain.events import (
    AttemptFailed,
    CancelRequested,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFailed,
    OrderRearmed,
    PoolMatched,
    PoolSkipped,
    TriggerFired,
)
from domain.order_state import OrderState, sniper_minimum
from domain.sniper_terms import is_target, judge
from domain.status import OrderStatus
from domain.tokens import token_by_symbol

CANCELLED_BY_CLIENT = "cancelled by the client"
# Before a trigger, or between attempts, nothing of the order can land.
_NOTHING_IN_FLIGHT = (
    OrderStatus.PENDING,
    OrderStatus.ARMED,
    OrderStatus.TRIGGERED,
    OrderStatus.ROUTING,
    OrderStatus.RETRYING,
)
_HOLDING = (OrderStatus.HOLDING, OrderStatus.EXITING)


def match(state: OrderState, command: MatchPool) -> list[OrderEvent]:
    """Judge a new pool for a sniper's arm `command.generation`: not its target, nothing;
    refused by a filter, `PoolSkipped` (it stays armed); else `PoolMatched`, once."""
    armed = state.status == OrderStatus.ARMED and command.generation == state.generation
    if not armed or state.sniper is None or state.matched_pool is not None:
        return []  # matched, cancelled, expired meanwhile, or no sniper: a stale decision
    launch = command.launch
    token_in = token_by_symbol(state.token_in)
    if _expired(state, command) or not is_target(state.sniper, token_in.mint, launch):
        return []
    verdicts = tuple(judge(state.sniper, launch))
    refused = [verdict.filter for verdict in verdicts if not verdict.passed]
    if refused:
        return [
            PoolSkipped(pool=launch.pool, slot=launch.slot, filter=refused[0], verdicts=verdicts)
        ]
    return [
        PoolMatched(
            generation=command.generation,
            pool=launch.pool,
            venue=launch.venue,
            slot=launch.slot,
            token_out=launch.base_mint,
            token_out_decimals=launch.base_decimals,
            open_time=launch.open_time,
            verdicts=verdicts,
        )
    ]


def fire(state: OrderState, command: FireTrigger) -> list[OrderEvent]:
    """Fire the arm `command.generation` if it is still the armed one and unexpired."""
    waiting = state.awaits_buy if state.sniper is not None else state.status == OrderStatus.ARMED
    if not waiting or command.generation != state.generation:
        return []  # fired, cancelled, expired or re-armed meanwhile: a stale decision
    if _expired(state, command):
        return [OrderExpired(reason=_expiry_reason(state))]
    least = sniper_minimum(state) if state.sniper is not None else state.limit_amount_out
    assert least is not None
    if command.quote.expected_amount_out < least:
        raise InvalidTransition(state.status, "FireTrigger with a quote below the limit")
    return [
        TriggerFired(
            generation=command.generation,
            slot=command.slot,
            quote=command.quote,
            fired_at=command.now,
        )
    ]


def expire(state: OrderState, command: ExpireOrder) -> list[OrderEvent]:
    """Expire the order if nothing of it can land any more; else let the attempt end
    (its failure re-arms the order, and the next look expires it)."""
    if state.is_final or not _expired(state, command) or state.in_flight:
        return []
    if state.status in _HOLDING:
        return []  # bought: expiresAt is about the buy, the exit rules govern the sale
    return [OrderExpired(reason=_expiry_reason(state))]


def cancel(state: OrderState, command: CancelOrder) -> list[OrderEvent]:
    """Cancelled at once with nothing in flight; else requested until the sent
    transaction provably cannot land (API.md, "Cancel")."""
    if state.status == OrderStatus.CANCELLED:
        return []
    if state.status in _HOLDING:
        return exits.cancel(state)  # bought: a cancel sells the position now
    if state.is_final:
        raise InvalidTransition(state.status, "CancelOrder")
    if state.status in _NOTHING_IN_FLIGHT or not state.in_flight:
        return [OrderCancelled(reason=CANCELLED_BY_CLIENT)]
    return [] if state.cancel_requested else [CancelRequested()]


def end_of_waiting_attempt(state: OrderState, failed: AttemptFailed) -> list[OrderEvent]:
    """What follows a failed attempt of an order that was cancelled or waits for a
    trigger: the cancel takes effect, or the order re-arms (or fails for good)."""
    if state.cancel_requested:
        return [_final(failed), OrderCancelled(reason=CANCELLED_BY_CLIENT)]
    if not failed.will_retry:
        return [failed, OrderFailed(reason=failed.reason, code=failed.code)]
    rearm = OrderRearmed(generation=state.generation + 1, reason=failed.reason, code=failed.code)
    return [failed, rearm]


def _final(failed: AttemptFailed) -> AttemptFailed:
    return AttemptFailed(
        attempt=failed.attempt,
        signature=failed.signature,
        reason=failed.reason,
        code=failed.code,
        will_retry=False,
        retry_after_ms=0,
    )


def _expiry_reason(state: OrderState) -> str:
    if state.sniper is None:
        return "expiresAt passed before the limit was met"
    if state.matched_pool is None:
        return "expiresAt passed before a new pool passed the filters"
    return "expiresAt passed before the buy at maxPrice or better"


def _expired(state: OrderState, command: FireTrigger | ExpireOrder | MatchPool) -> bool:
    return state.expires_at is not None and command.now >= state.expires_at
