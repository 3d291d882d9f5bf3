"""An order's state and how events change it: `evolve` and `fold`.

`OrderState` holds every field of the order's snapshot except timestamps, so read
models and the engine's decisions fold the same events the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import msgspec

from domain.events import (
    AttemptFailed,
    CancelRequested,
    ExitRearmed,
    ExitTriggered,
    OrderArmed,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderExpired,
    OrderFailed,
    OrderRearmed,
    OrderSubmitted,
    PoolMatched,
    PoolSkipped,
    PositionClosed,
    PositionOpened,
    Quote,
    RouteLeg,
    RouteSelected,
    RoutingStarted,
    TransactionSent,
    TransactionSigned,
    TriggerFired,
    TriggerQuote,
)
from domain.sniper_terms import FilterVerdict, SniperTerms, max_price_minimum
from domain.status import FINAL_STATUSES, OrderStatus
from domain.tokens import Token, order_token, token_by_symbol

BPS = 10_000


class OrderState(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    order_type: str
    status: OrderStatus
    token_in: str
    token_out: str
    amount_in: int
    slippage_bps: int
    attempts: int = 0
    quotes: tuple[Quote, ...] = ()
    legs: tuple[RouteLeg, ...] = ()
    expected_amount_out: int | None = None
    min_amount_out: int | None = None
    price_impact: str | None = None
    signature: str | None = None
    blockhash: str | None = None
    last_valid_block_height: int | None = None
    compute_unit_price: int = 0
    transaction: str | None = None  # the signed wire bytes, base64
    amount_out: int | None = None
    slot: int | None = None
    failure_reason: str | None = None
    failure_code: str | None = None
    # Orders that wait (limit): the limit, its expiry, the arm and what fired it.
    limit_amount_out: int | None = None
    limit_price: str | None = None
    expires_at: datetime | None = None
    generation: int = 0
    trigger_slot: int | None = None
    triggered_at: datetime | None = None
    trigger_quote: TriggerQuote | None = None
    failed_executions: int = 0  # attempts whose transaction was signed, then failed
    filled_after_expiry: bool = False
    cancel_requested: bool = False
    # Sniper orders: their terms, the pools their filters refused, the pool they matched
    # (its launched token is then `token_out`) and the arm whose buy was fired.
    sniper: SniperTerms | None = None
    pools_skipped: int = 0
    last_skipped_pool: str | None = None
    last_skipped_filter: str | None = None
    matched_pool: str | None = None
    matched_venue: str | None = None
    match_slot: int | None = None
    match_verdicts: tuple[FilterVerdict, ...] = ()
    token_out_decimals: int = 0
    pool_open_time: int | None = None
    fired_generation: int = 0
    # Sniper exits: the position bought (its tokens are `amount_out`), the exit arm that
    # watches it, the child order that sells it and why, and what the sale gave.
    entry_cost: int | None = None
    entry_price: str | None = None
    entry_slot: int | None = None
    exit_generation: int = 0
    exit_order_id: str | None = None
    exit_reason: str | None = None
    exit_slot: int | None = None  # the slot of the quote that fired the rule
    exit_value: int | None = None  # that quote: the position's sale value, atomic tokenIn
    exit_proceeds: int | None = None  # what the sale gave, atomic tokenIn
    closed_slot: int | None = None
    failed_exits: int = 0
    # An exit's child order: the sniper it sells for; `token_in` is then a launched mint.
    parent_order_id: str | None = None
    token_in_decimals: int | None = None
    version: int = 0

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def waits_for_trigger(self) -> bool:
        """A limit or sniper order: it is armed before it routes, and re-armed after a
        failure."""
        return self.limit_amount_out is not None or self.sniper is not None

    @property
    def awaits_buy(self) -> bool:
        """A sniper matched its pool and waits for the slot (and price) of its buy."""
        waiting = self.status in (OrderStatus.TRIGGERED, OrderStatus.ARMED)
        return waiting and self.matched_pool is not None and self.fired_generation < self.generation

    @property
    def in_flight(self) -> bool:
        """A signed transaction of the current attempt may still land."""
        sendable = self.status in (OrderStatus.BUILDING, OrderStatus.SUBMITTED)
        return sendable and self.signature is not None


def min_amount_out(expected_amount_out: int, slippage_bps: int) -> int:
    """The least output the swap may return: expected less the slippage, rounded down."""
    return expected_amount_out * (BPS - slippage_bps) // BPS


def order_tokens(state: OrderState) -> tuple[Token, Token]:
    """The tokens the order spends and buys (a sniper's launched token once matched)."""
    token_in = order_token(state.token_in, state.token_in_decimals or 0)
    return token_in, order_token(state.token_out, state.token_out_decimals)


def sniper_minimum(state: OrderState) -> int:
    """The least a matched sniper accepts for its whole amount: `maxPrice`'s (0: none)."""
    assert state.sniper is not None
    token_in = token_by_symbol(state.token_in)
    return max_price_minimum(state.sniper, state.amount_in, token_in, state.token_out_decimals)


def swap_minimum(state: OrderState, expected_amount_out: int) -> int:
    """The on-chain minimum of the order's swap: from the quote for a market order; from
    the limit for a limit order (API.md: `minAmountOut * (1 - slippageBps / 10^4)`); for
    a sniper the quote's, tightened by `maxPrice`."""
    if state.sniper is not None:
        return max(min_amount_out(expected_amount_out, state.slippage_bps), sniper_minimum(state))
    base = state.limit_amount_out if state.limit_amount_out is not None else expected_amount_out
    return min_amount_out(base, state.slippage_bps)


def leg_minimums(expected_outs: Sequence[int], minimum: int) -> list[int]:
    """Each leg's own on-chain minimum, so that the legs together never return less than
    the swap's `minimum`: it is shared in proportion to the legs' expected outputs,
    rounded up (a leg's minimum never exceeds its expected output while the whole does
    not)."""
    total = sum(expected_outs)
    if total <= 0:
        return [minimum for _ in expected_outs]
    return [-(-minimum * out // total) for out in expected_outs]


def evolve(state: OrderState | None, event: OrderEvent) -> OrderState:
    """The order after `event`; `version` counts the events folded in."""
    if isinstance(event, OrderSubmitted):
        fields = msgspec.structs.asdict(event)
        return OrderState(status=OrderStatus.PENDING, version=1, **fields)
    assert state is not None, f"{type(event).__name__} before OrderSubmitted"
    changes = _changes(state, event)
    return msgspec.structs.replace(state, version=state.version + 1, **changes)


def _changes(state: OrderState, event: OrderEvent) -> dict[str, object]:
    match event:
        case OrderArmed(generation=generation):
            return {"status": OrderStatus.ARMED, "generation": generation}
        case PoolSkipped():
            return {
                "pools_skipped": state.pools_skipped + 1,
                "last_skipped_pool": event.pool,
                "last_skipped_filter": event.filter,
            }
        case PoolMatched():
            return {
                "status": OrderStatus.TRIGGERED,
                "matched_pool": event.pool,
                "matched_venue": event.venue,
                "match_slot": event.slot,
                "match_verdicts": event.verdicts,
                "token_out": event.token_out,
                "token_out_decimals": event.token_out_decimals,
                "pool_open_time": event.open_time,
            }
        case TriggerFired():
            return {
                "fired_generation": event.generation,
                "status": OrderStatus.TRIGGERED,
                "trigger_slot": event.slot,
                "triggered_at": event.fired_at,
                "trigger_quote": event.quote,
            }
        case OrderRearmed():
            return {
                "status": OrderStatus.ARMED,
                "generation": event.generation,
                "failure_reason": event.reason,
                "failure_code": event.code,
            }
        case OrderExpired():
            return {
                "status": OrderStatus.EXPIRED,
                "failure_reason": event.reason,
                "failure_code": "OrderExpired",
            }
        case CancelRequested():
            return {"cancel_requested": True}
        case OrderCancelled():
            return {"status": OrderStatus.CANCELLED, "failure_reason": event.reason}
        case RoutingStarted(attempt=attempt):
            return {
                "status": OrderStatus.ROUTING,
                "attempts": attempt,
                "signature": None,
                "blockhash": None,
                "last_valid_block_height": None,
                "transaction": None,
            }
        case RouteSelected():
            return {
                "status": OrderStatus.BUILDING,
                "quotes": event.quotes,
                "legs": event.legs,
                "expected_amount_out": event.expected_amount_out,
                "min_amount_out": event.min_amount_out,
                "price_impact": event.price_impact,
            }
        case TransactionSigned():
            return {
                "signature": event.signature,
                "blockhash": event.blockhash,
                "last_valid_block_height": event.last_valid_block_height,
                "compute_unit_price": event.compute_unit_price,
                "transaction": event.transaction or None,
            }
        case TransactionSent():
            return {"status": OrderStatus.SUBMITTED}
        case OrderConfirmed():
            return {
                "status": OrderStatus.CONFIRMED,
                "amount_out": event.amount_out,
                "legs": event.legs,
                "slot": event.slot,
                "filled_after_expiry": event.filled_after_expiry,
                # An earlier attempt's failure is history (in the events), not the outcome.
                "failure_reason": None,
                "failure_code": None,
            }
        case AttemptFailed():
            signed = 1 if event.signature is not None else 0
            return {
                "status": OrderStatus.RETRYING if event.will_retry else state.status,
                "failure_reason": event.reason,
                "failure_code": event.code,
                "failed_executions": state.failed_executions + signed,
            }
        case OrderFailed():
            return {
                "status": OrderStatus.FAILED,
                "failure_reason": event.reason,
                "failure_code": event.code,
            }
        case PositionOpened():
            return {
                "status": OrderStatus.HOLDING,
                "entry_cost": event.cost,
                "entry_price": event.entry_price,
                "entry_slot": event.slot,
                "exit_generation": 1,
            }
        case ExitTriggered():
            return {
                "status": OrderStatus.EXITING,
                "exit_order_id": event.exit_order_id,
                "exit_reason": event.reason,
                "exit_slot": event.slot,
                "exit_value": event.value,
            }
        case PositionClosed():
            return {
                "status": OrderStatus.CONFIRMED,
                "exit_proceeds": event.proceeds,
                "closed_slot": event.slot,
                "failure_reason": None,
                "failure_code": None,
            }
        case ExitRearmed():
            return {
                "status": OrderStatus.HOLDING,
                "exit_generation": event.generation,
                "exit_order_id": None,
                "exit_reason": None,
                "exit_slot": None,
                "exit_value": None,
                "failed_exits": state.failed_exits + 1,
                "failure_reason": event.reason,
                "failure_code": event.code,
            }
    raise AssertionError(f"unhandled event {event!r}")


def fold(events: Iterable[OrderEvent]) -> OrderState | None:
    """The state after all `events`, oldest first (None for no events)."""
    state: OrderState | None = None
    for event in events:
        state = evolve(state, event)
    return state
