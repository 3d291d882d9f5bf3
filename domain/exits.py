"""Decisions of a sniper's exit (API.md, "Sniper orders", Exit): hold, trigger, settle.

A sniper with exit terms is not final when its buy confirms: `PositionOpened` makes it
`holding` (exit arm 1). The exit watcher's sale quote of the whole position, decided
here (`trigger`), fires at most one `ExitTriggered` per arm (`exiting`), naming the
child market order that sells: its id derives from the parent's and the arm
(`exit_order_id`), so every writer names the same child. When the child ends, `settle`
closes the position (`PositionClosed`: the parent is `confirmed`), or re-arms the exit
(`ExitRearmed`, a new arm and so a new child) until `MAX_EXIT_ORDERS` children failed,
and then the order fails (`ExitFailed`), the position still held and said so.

A cancel of a held position sells it now (`ExitTriggered`, reason `cancel`); of an
exiting one it changes nothing (the sale is under way).
"""

from __future__ import annotations

from decimal import Context, Decimal

from domain.commands import SettleExit, SubmitOrder, TriggerExit
from domain.events import (
    ExitRearmed,
    ExitTriggered,
    OrderConfirmed,
    OrderEvent,
    OrderFailed,
    PositionClosed,
    PositionOpened,
)
from domain.exit_terms import MAX_EXIT_ORDERS, ExitReason, exit_order_id, exit_reason
from domain.order_state import OrderState, order_tokens
from domain.status import OrderStatus

_PRICE = Context(prec=18)


def opened(state: OrderState, confirmed: OrderConfirmed) -> list[OrderEvent]:
    """What follows a sniper's confirmed buy: nothing without exit terms (it is final);
    with them, the position it now holds (and, when a cancel came too late for the buy,
    its exit at once)."""
    if state.sniper is None or state.sniper.exit is None:
        return []
    token_in, token_out = order_tokens(state)
    price = _PRICE.divide(
        Decimal(state.amount_in).scaleb(-token_in.decimals),
        Decimal(confirmed.amount_out).scaleb(-token_out.decimals),
    )
    position = PositionOpened(
        tokens=confirmed.amount_out,
        cost=state.amount_in,
        entry_price=format(price.normalize(), "f"),
        slot=confirmed.slot,
    )
    if not state.cancel_requested:
        return [position]
    return [position, _triggered(state.order_id, 1, ExitReason.CANCEL, None, None)]


def trigger(state: OrderState, command: TriggerExit) -> list[OrderEvent]:
    """`ExitTriggered` when a rule fires on the quote for the held arm; else nothing
    (no rule, or the arm is not held any more: a stale look)."""
    held = state.status == OrderStatus.HOLDING and command.generation == state.exit_generation
    if not held:
        return []
    assert state.sniper is not None
    assert state.sniper.exit is not None
    assert state.entry_cost is not None
    assert state.entry_slot is not None
    reason = exit_reason(
        state.sniper.exit, state.entry_cost, command.value, command.slot, state.entry_slot
    )
    if reason is None:
        return []
    return [_triggered(state.order_id, command.generation, reason, command.slot, command.value)]


def cancel(state: OrderState) -> list[OrderEvent]:
    """A client's cancel of a held position: sell it now."""
    if state.status != OrderStatus.HOLDING:
        return []  # exiting: the sale is under way
    return [_triggered(state.order_id, state.exit_generation, ExitReason.CANCEL, None, None)]


def settle(state: OrderState, command: SettleExit) -> list[OrderEvent]:
    """The parent's event once arm `generation`'s child order ended."""
    exiting = state.status == OrderStatus.EXITING and command.generation == state.exit_generation
    if not exiting:
        return []  # settled already (a second watcher, a look after a crash)
    assert state.exit_order_id is not None
    if command.status == OrderStatus.CONFIRMED:
        assert command.amount_out is not None
        assert command.slot is not None
        return [
            PositionClosed(
                exit_order_id=state.exit_order_id, proceeds=command.amount_out, slot=command.slot
            )
        ]
    reason = command.reason or f"the exit order ended {command.status}"
    code = command.code or "ExitOrderEnded"
    failures = state.failed_exits + 1
    if failures >= MAX_EXIT_ORDERS:
        return [
            OrderFailed(
                reason=f"{failures} exit orders failed (the last: {code}, {reason});"
                f" the position of {state.amount_out} atomic units is still held",
                code="ExitFailed",
            )
        ]
    return [
        ExitRearmed(
            generation=command.generation + 1,
            exit_order_id=state.exit_order_id,
            reason=reason,
            code=code,
        )
    ]


def exit_order(state: OrderState) -> SubmitOrder:
    """The child market order that sells the whole position of an exiting sniper."""
    assert state.status == OrderStatus.EXITING
    assert state.exit_order_id is not None
    assert state.amount_out is not None
    return SubmitOrder(
        order_id=state.exit_order_id,
        order_type="market",
        token_in=state.token_out,
        token_out=state.token_in,
        amount_in=state.amount_out,
        slippage_bps=state.slippage_bps,
        parent_order_id=state.order_id,
        token_in_decimals=state.token_out_decimals,
    )


def _triggered(
    order_id: str, generation: int, reason: ExitReason, slot: int | None, value: int | None
) -> ExitTriggered:
    return ExitTriggered(
        generation=generation,
        exit_order_id=exit_order_id(order_id, generation),
        reason=str(reason),
        slot=slot,
        value=value,
    )
