"""An order's decisions: `decide(state, command)`.

It returns the events a command causes (an empty list when the step already
happened, so redelivered messages are harmless) or raises `InvalidTransition`.
The steps every order shares (route, sign, send, confirm, fail) are decided here;
the decisions of orders that wait for a trigger are in `domain.waiting`. How events
change the state is `domain.order_state.evolve`.
"""

from __future__ import annotations

import msgspec

from domain import exits, waiting
from domain.commands import (
    CancelOrder,
    ConfirmOrder,
    ExpireOrder,
    FailAttempt,
    FailOrder,
    FireTrigger,
    MarkSent,
    MatchPool,
    OrderCommand,
    SelectRoute,
    SettleExit,
    SignTransaction,
    StartRouting,
    SubmitOrder,
    TriggerExit,
)
from domain.errors import InvalidTransition
from domain.events import (
    AttemptFailed,
    OrderArmed,
    OrderConfirmed,
    OrderEvent,
    OrderFailed,
    OrderSubmitted,
    RouteSelected,
    RoutingStarted,
    TransactionSent,
    TransactionSigned,
)
from domain.order_state import OrderState, swap_minimum
from domain.status import OrderStatus


def decide(state: OrderState | None, command: OrderCommand) -> list[OrderEvent]:
    """The events `command` causes on an order in `state` (None: not created yet)."""
    if isinstance(command, SubmitOrder):
        if state is not None:
            raise InvalidTransition(state.status, "SubmitOrder")
        submitted = OrderSubmitted(**msgspec.structs.asdict(command))
        if command.limit_amount_out is None and command.sniper is None:
            return [submitted]
        return [submitted, OrderArmed(generation=1)]
    if state is None:
        raise InvalidTransition("unknown", type(command).__name__)
    match command:
        case FailOrder():
            return [] if state.is_final else [OrderFailed(reason=command.reason, code=command.code)]
        case CancelOrder():
            return waiting.cancel(state, command)
        case FireTrigger():
            return waiting.fire(state, command)
        case MatchPool():
            return waiting.match(state, command)
        case ExpireOrder():
            return waiting.expire(state, command)
        case TriggerExit():
            return exits.trigger(state, command)
        case SettleExit():
            return exits.settle(state, command)
    if _is_stale(state, command):
        return []
    _require_step(state, command)
    return _step_events(state, command)


# The commands that belong to one attempt of the market path.
_ATTEMPT_STEPS = (StartRouting, SelectRoute, SignTransaction, MarkSent, ConfirmOrder, FailAttempt)


def _is_stale(state: OrderState, command: OrderCommand) -> bool:
    """True when the step already happened: a redelivered or duplicate message."""
    assert isinstance(command, _ATTEMPT_STEPS)
    attempt = command.attempt
    # A sniper holding (or selling) its position bought: its market path is over.
    bought = state.entry_slot is not None
    if isinstance(command, ConfirmOrder):
        confirmed = state.status == OrderStatus.CONFIRMED or bought
        return confirmed and state.attempts == attempt
    if state.is_final or bought or state.attempts > attempt:
        return True
    if isinstance(command, StartRouting):
        return state.attempts == attempt
    if state.attempts < attempt:
        return False
    if state.status in (OrderStatus.RETRYING, OrderStatus.ARMED):
        return True  # this attempt already ended (failed; a limit order re-armed)
    if isinstance(command, SelectRoute):
        return state.status != OrderStatus.ROUTING
    if isinstance(command, SignTransaction):
        return state.signature is not None
    if isinstance(command, MarkSent):
        return state.status == OrderStatus.SUBMITTED
    return False


def _require_step(state: OrderState, command: OrderCommand) -> None:
    if not _is_allowed(state, command):
        raise InvalidTransition(state.status, type(command).__name__)


def _is_allowed(state: OrderState, command: OrderCommand) -> bool:
    status, attempts, signed = state.status, state.attempts, state.signature is not None
    match command:
        case StartRouting(attempt=attempt):
            if status == OrderStatus.TRIGGERED:  # a limit order fired: its next attempt
                # (a sniper that matched its pool routes only once its buy was fired)
                fired = state.sniper is None or state.fired_generation == state.generation
                return fired and attempt == attempts + 1
            if state.waits_for_trigger:
                return False  # it routes only once its trigger fired
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
            return _select_route(state, command)
        case SignTransaction():
            return [TransactionSigned(**msgspec.structs.asdict(command))]
        case MarkSent(attempt=attempt):
            assert state.signature is not None
            return [TransactionSent(attempt=attempt, signature=state.signature)]
        case ConfirmOrder():
            confirmed = _confirmed(state, command)
            return [confirmed, *exits.opened(state, confirmed)]
        case FailAttempt():
            return _fail_attempt(state, command)
    raise AssertionError(f"unhandled command {command!r}")


def _select_route(state: OrderState, command: SelectRoute) -> list[OrderEvent]:
    expected = sum(leg.amount_out for leg in command.legs)
    minimum = swap_minimum(state, expected)
    selected = RouteSelected(
        attempt=command.attempt,
        quotes=command.quotes,
        legs=command.legs,
        expected_amount_out=expected,
        min_amount_out=minimum,
        price_impact=command.price_impact,
        context_slot=command.context_slot,
    )
    if expected >= minimum:
        return [selected]
    # A limit order whose market moved back between the trigger and the route: sending
    # would only pay a fee to fail on slippage, so the attempt ends here, unsigned.
    not_met = AttemptFailed(
        attempt=command.attempt,
        signature=None,
        reason=f"the route gives {expected}, below the swap minimum {minimum}",
        code="LimitNotMet",
        will_retry=True,
        retry_after_ms=0,
    )
    after_route = msgspec.structs.replace(state, status=OrderStatus.BUILDING)
    return [selected, *waiting.end_of_waiting_attempt(after_route, not_met)]


def _confirmed(state: OrderState, command: ConfirmOrder) -> OrderConfirmed:
    assert state.signature is not None
    seen, expiry = command.observed_at, state.expires_at
    return OrderConfirmed(
        attempt=command.attempt,
        signature=state.signature,
        slot=command.slot,
        amount_out=command.amount_out,
        legs=command.legs,
        network_fee_lamports=command.network_fee_lamports,
        filled_after_expiry=seen is not None and expiry is not None and seen > expiry,
    )


def _fail_attempt(state: OrderState, command: FailAttempt) -> list[OrderEvent]:
    if state.waits_for_trigger:
        # Limit orders count failed executions (a signed transaction), not routes.
        executions = state.failed_executions + (1 if state.signature is not None else 0)
        will_retry = command.retryable and executions < command.max_attempts
    else:
        will_retry = command.retryable and command.attempt < command.max_attempts
    failed = AttemptFailed(
        attempt=command.attempt,
        signature=state.signature,
        reason=command.reason,
        code=command.code,
        will_retry=will_retry,
        retry_after_ms=command.retry_after_ms if will_retry and not state.waits_for_trigger else 0,
    )
    if state.waits_for_trigger or state.cancel_requested:
        return waiting.end_of_waiting_attempt(state, failed)
    if will_retry:
        return [failed]
    return [failed, OrderFailed(reason=command.reason, code=command.code)]
