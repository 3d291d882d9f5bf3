"""The market order's decisions: `decide(state, command)`.

It returns the events a command causes (an empty list when the step already
happened, so redelivered messages are harmless) or raises `InvalidTransition`.
How events change the state is `domain.order_state.evolve`.
"""

from __future__ import annotations

import msgspec

from domain.commands import (
    ConfirmOrder,
    FailAttempt,
    FailOrder,
    MarkSent,
    OrderCommand,
    SelectRoute,
    SignTransaction,
    StartRouting,
    SubmitOrder,
)
from domain.errors import InvalidTransition
from domain.events import (
    AttemptFailed,
    OrderConfirmed,
    OrderEvent,
    OrderFailed,
    OrderSubmitted,
    RouteSelected,
    RoutingStarted,
    TransactionSent,
    TransactionSigned,
)
from domain.order_state import OrderState, min_amount_out
from domain.status import OrderStatus


def decide(state: OrderState | None, command: OrderCommand) -> list[OrderEvent]:
    """The events `command` causes on an order in `state` (None: not created yet)."""
    if isinstance(command, SubmitOrder):
        if state is not None:
            raise InvalidTransition(state.status, "SubmitOrder")
        return [OrderSubmitted(**msgspec.structs.asdict(command))]
    if state is None:
        raise InvalidTransition("unknown", type(command).__name__)
    if isinstance(command, FailOrder):
        return [] if state.is_final else [OrderFailed(reason=command.reason, code=command.code)]
    if _is_stale(state, command):
        return []
    _require_step(state, command)
    return _step_events(state, command)


def _is_stale(state: OrderState, command: OrderCommand) -> bool:
    """True when the step already happened: a redelivered or duplicate message."""
    assert not isinstance(command, SubmitOrder | FailOrder)
    attempt = command.attempt
    if isinstance(command, ConfirmOrder):
        return state.status == OrderStatus.CONFIRMED and state.attempts == attempt
    if state.is_final or state.attempts > attempt:
        return True
    if isinstance(command, StartRouting):
        return state.attempts == attempt
    if state.attempts < attempt:
        return False
    if isinstance(command, SelectRoute):
        return state.status != OrderStatus.ROUTING
    if isinstance(command, SignTransaction):
        return state.signature is not None
    if isinstance(command, MarkSent):
        return state.status in (OrderStatus.SUBMITTED, OrderStatus.RETRYING)
    return state.status == OrderStatus.RETRYING


def _require_step(state: OrderState, command: OrderCommand) -> None:
    if not _is_allowed(state, command):
        raise InvalidTransition(state.status, type(command).__name__)


def _is_allowed(state: OrderState, command: OrderCommand) -> bool:
    status, attempts, signed = state.status, state.attempts, state.signature is not None
    match command:
        case StartRouting(attempt=attempt):
            first = status == OrderStatus.PENDING and attempt == 1
            return first or (status == OrderStatus.RETRYING and attempt == attempts + 1)
        case SelectRoute(attempt=attempt):
            return attempt == attempts and status == OrderStatus.ROUTING
        case SignTransaction(attempt=attempt):
            return attempt == attempts and status == OrderStatus.BUILDING
        case MarkSent(attempt=attempt):
            return attempt == attempts and status == OrderStatus.BUILDING and signed
        case ConfirmOrder(attempt=attempt):
            # The transaction may land before MarkSent was recorded (a crash in between).
            sendable = status in (OrderStatus.BUILDING, OrderStatus.SUBMITTED)
            return attempt == attempts and signed and sendable
        case FailAttempt(attempt=attempt):
            active = (OrderStatus.ROUTING, OrderStatus.BUILDING, OrderStatus.SUBMITTED)
            return attempt == attempts and status in active
    return False


def _step_events(state: OrderState, command: OrderCommand) -> list[OrderEvent]:
    match command:
        case StartRouting(attempt=attempt):
            return [RoutingStarted(attempt=attempt)]
        case SelectRoute():
            expected = sum(leg.amount_out for leg in command.legs)
            return [
                RouteSelected(
                    attempt=command.attempt,
                    quotes=command.quotes,
                    legs=command.legs,
                    expected_amount_out=expected,
                    min_amount_out=min_amount_out(expected, state.slippage_bps),
                    price_impact=command.price_impact,
                    context_slot=command.context_slot,
                )
            ]
        case SignTransaction():
            return [TransactionSigned(**msgspec.structs.asdict(command))]
        case MarkSent(attempt=attempt):
            assert state.signature is not None
            return [TransactionSent(attempt=attempt, signature=state.signature)]
        case ConfirmOrder():
            assert state.signature is not None
            fields = msgspec.structs.asdict(command)
            return [OrderConfirmed(signature=state.signature, **fields)]
        case FailAttempt():
            return _fail_attempt(state, command)
    raise AssertionError(f"unhandled command {command!r}")


def _fail_attempt(state: OrderState, command: FailAttempt) -> list[OrderEvent]:
    will_retry = command.retryable and command.attempt < command.max_attempts
    failed = AttemptFailed(
        attempt=command.attempt,
        signature=state.signature,
        reason=command.reason,
        code=command.code,
        will_retry=will_retry,
        retry_after_ms=command.retry_after_ms if will_retry else 0,
    )
    if will_retry:
        return [failed]
    return [failed, OrderFailed(reason=command.reason, code=command.code)]
