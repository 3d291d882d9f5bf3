"""The market order's state and how events change it: `evolve` and `fold`.

`OrderState` holds every field of the order's snapshot except timestamps, so read
models and the engine's decisions fold the same events the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from domain.events import (
    AttemptFailed,
    OrderConfirmed,
    OrderEvent,
    OrderFailed,
    OrderSubmitted,
    Quote,
    RouteLeg,
    RouteSelected,
    RoutingStarted,
    TransactionSent,
    TransactionSigned,
)
from domain.status import FINAL_STATUSES, OrderStatus

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
    amount_out: int | None = None
    slot: int | None = None
    failure_reason: str | None = None
    failure_code: str | None = None
    version: int = 0

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


def min_amount_out(expected_amount_out: int, slippage_bps: int) -> int:
    """The least output the swap may return: expected less the slippage, rounded down."""
    return expected_amount_out * (BPS - slippage_bps) // BPS


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
        case RoutingStarted(attempt=attempt):
            return {
                "status": OrderStatus.ROUTING,
                "attempts": attempt,
                "signature": None,
                "blockhash": None,
                "last_valid_block_height": None,
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
            }
        case TransactionSent():
            return {"status": OrderStatus.SUBMITTED}
        case OrderConfirmed():
            return {
                "status": OrderStatus.CONFIRMED,
                "amount_out": event.amount_out,
                "legs": event.legs,
                "slot": event.slot,
            }
        case AttemptFailed():
            return {
                "status": OrderStatus.RETRYING if event.will_retry else state.status,
                "failure_reason": event.reason,
                "failure_code": event.code,
            }
        case OrderFailed():
            return {
                "status": OrderStatus.FAILED,
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
