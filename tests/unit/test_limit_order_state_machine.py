"""Limit orders and cancels in the domain: arm, fire, re-arm, expire, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.commands import (
    CancelOrder,
    ConfirmOrder,
    ExpireOrder,
    FailAttempt,
    FireTrigger,
    MarkSent,
    OrderCommand,
    SelectRoute,
    SignTransaction,
    StartRouting,
    SubmitOrder,
)
from domain.errors import InvalidTransition
from domain.events import OrderEvent, RouteLeg, TriggerFired, TriggerQuote
from domain.order import decide
from domain.order_state import OrderState, evolve
from domain.status import OrderStatus

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EXPIRES = T0 + timedelta(days=7)
LIMIT = 152_100_000  # 152.1 USDC for 1 SOL
LIMIT_ORDER = SubmitOrder(
    order_id="o-1",
    order_type="limit",
    token_in="SOL",
    token_out="USDC",
    amount_in=10**9,
    slippage_bps=0,
    limit_amount_out=LIMIT,
    limit_price="152.1",
    expires_at=EXPIRES,
)
MARKET_ORDER = SubmitOrder(
    order_id="o-2",
    order_type="market",
    token_in="SOL",
    token_out="USDC",
    amount_in=10**9,
    slippage_bps=50,
)


def legs(amount_out: int) -> tuple[RouteLeg, ...]:
    return (
        RouteLeg(
            pool="p1", venue="raydium", label="Raydium CPMM", amount_in=10**9, amount_out=amount_out
        ),
    )


def fire(generation: int = 1, out: int = LIMIT + 1, now: datetime = T0) -> FireTrigger:
    quote = TriggerQuote(expected_amount_out=out, price_impact="0.001", legs=legs(out))
    return FireTrigger(generation=generation, slot=42, quote=quote, now=now)


def route(attempt: int, out: int = LIMIT + 1) -> list[OrderCommand]:
    return [
        StartRouting(attempt=attempt),
        SelectRoute(attempt=attempt, quotes=(), legs=legs(out), price_impact="0", context_slot=43),
    ]


def sign_and_send(attempt: int) -> list[OrderCommand]:
    return [
        SignTransaction(
            attempt=attempt, signature=f"sig{attempt}", blockhash="bh", last_valid_block_height=9
        ),
        MarkSent(attempt=attempt),
    ]


def confirm(attempt: int, seen: datetime = T0) -> ConfirmOrder:
    return ConfirmOrder(
        attempt=attempt,
        slot=44,
        amount_out=LIMIT + 1,
        legs=legs(LIMIT + 1),
        network_fee_lamports=5_000,
        observed_at=seen,
    )


def fail(attempt: int) -> FailAttempt:
    return FailAttempt(
        attempt=attempt,
        reason="slippage exceeded",
        code="6005",
        retryable=True,
        max_attempts=3,
        retry_after_ms=500,
    )


def apply(state: OrderState | None, command: OrderCommand) -> tuple[OrderState, list[OrderEvent]]:
    events = decide(state, command)
    for event in events:
        state = evolve(state, event)
    assert state is not None
    return state, events


def run(commands: list[OrderCommand], submit: SubmitOrder = LIMIT_ORDER) -> OrderState:
    state, _ = apply(None, submit)
    for command in commands:
        state, _ = apply(state, command)
    return state


def names(events: list[OrderEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


def test_a_limit_order_is_armed_at_submission_and_never_routes_before_its_trigger() -> None:
    state, events = apply(None, LIMIT_ORDER)
    assert names(events) == ["OrderSubmitted", "OrderArmed"]
    assert (state.status, state.generation) == (OrderStatus.ARMED, 1)
    with pytest.raises(InvalidTransition):
        decide(state, StartRouting(attempt=1))


def test_a_trigger_fires_once_per_arm() -> None:
    state, events = apply(run([]), fire())
    assert names(events) == ["TriggerFired"]
    assert (state.status, state.trigger_slot, state.triggered_at) == ("triggered", 42, T0)
    assert state.trigger_quote is not None
    assert state.trigger_quote.expected_amount_out == LIMIT + 1
    assert decide(state, fire()) == [], "a redelivered or second evaluator's fire"
    assert decide(state, fire(generation=2)) == []


def test_a_quote_below_the_limit_cannot_fire() -> None:
    with pytest.raises(InvalidTransition):
        decide(run([]), fire(out=LIMIT - 1))


def test_a_fire_decided_after_expiry_expires_the_order_instead() -> None:
    state, events = apply(run([]), fire(now=EXPIRES))
    assert names(events) == ["OrderExpired"]
    assert state.status == OrderStatus.EXPIRED


def test_the_swap_minimum_comes_from_the_limit_not_the_quote() -> None:
    slippage = msgspec.structs.replace(LIMIT_ORDER, slippage_bps=100)
    state = run([fire(), *route(1, out=LIMIT + 5_000_000)], submit=slippage)
    assert state.status == OrderStatus.BUILDING
    assert state.min_amount_out == LIMIT * 9_900 // 10_000


def test_a_fired_order_fills_through_the_market_path() -> None:
    state = run([fire(), *route(1), *sign_and_send(1), confirm(1)])
    assert state.status == OrderStatus.CONFIRMED
    assert state.min_amount_out == LIMIT
    assert not state.filled_after_expiry


def test_a_route_below_the_limit_rearms_without_sending() -> None:
    state, events = apply(run([fire(), route(1)[0]]), route(1, out=LIMIT - 1)[1])
    assert names(events) == ["RouteSelected", "AttemptFailed", "OrderRearmed"]
    assert (state.status, state.generation, state.failed_executions) == ("armed", 2, 0)
    assert state.failure_code == "LimitNotMet"
    assert decide(state, sign_and_send(1)[0]) == [], "the route step's sign is now stale"


def test_a_failed_execution_rearms_with_its_reason_then_fails_after_max_attempts() -> None:
    state = run([fire(), *route(1), *sign_and_send(1), fail(1)])
    assert (state.status, state.generation, state.failure_reason) == (
        "armed",
        2,
        "slippage exceeded",
    )
    with pytest.raises(InvalidTransition):
        decide(state, StartRouting(attempt=2))  # no retry message routes it: only a trigger
    history: list[OrderCommand] = []
    for attempt in (1, 2, 3):
        history += [fire(attempt), *route(attempt), *sign_and_send(attempt), fail(attempt)]
    state = run(history)
    assert (state.status, state.failed_executions) == (OrderStatus.FAILED, 3)


def test_a_confirmation_seen_after_expiry_is_marked() -> None:
    state = run([fire(), *route(1), *sign_and_send(1), confirm(1, seen=EXPIRES + timedelta(1))])
    assert state.status == OrderStatus.CONFIRMED
    assert state.filled_after_expiry


def test_expiry_waits_for_an_attempt_in_flight() -> None:
    in_flight = run([fire(), *route(1), *sign_and_send(1)])
    assert decide(in_flight, ExpireOrder(now=EXPIRES)) == []
    state = run([fire(), *route(1), *sign_and_send(1), fail(1), ExpireOrder(now=EXPIRES)])
    assert state.status == OrderStatus.EXPIRED
    assert decide(run([]), ExpireOrder(now=EXPIRES - timedelta(seconds=1))) == []


def test_cancel_with_nothing_in_flight_is_at_once_and_idempotent() -> None:
    befores: list[list[OrderCommand]] = [[], [fire()], [fire(), route(1)[0]]]
    for before in befores:
        state, events = apply(run(before), CancelOrder())
        assert names(events) == ["OrderCancelled"], before
        assert state.status == OrderStatus.CANCELLED
        assert decide(state, CancelOrder()) == []
        assert decide(state, fire(generation=state.generation)) == []


def test_cancel_of_a_final_order_is_refused() -> None:
    for final in (
        run([fire(), *route(1), *sign_and_send(1), confirm(1)]),
        run([ExpireOrder(now=EXPIRES)]),
    ):
        with pytest.raises(InvalidTransition):
            decide(final, CancelOrder())


def test_cancel_in_flight_waits_for_the_attempt_to_end() -> None:
    requested, events = apply(run([fire(), *route(1), *sign_and_send(1)]), CancelOrder())
    assert names(events) == ["CancelRequested"]
    assert requested.status == OrderStatus.SUBMITTED
    assert decide(requested, CancelOrder()) == []
    cancelled, events = apply(requested, fail(1))
    assert names(events) == ["AttemptFailed", "OrderCancelled"]
    assert cancelled.status == OrderStatus.CANCELLED
    too_late, _ = apply(requested, confirm(1))
    assert (too_late.status, too_late.cancel_requested) == (OrderStatus.CONFIRMED, True)


def test_a_market_order_cancels_the_same_way() -> None:
    state, events = apply(run([], submit=MARKET_ORDER), CancelOrder())
    assert names(events) == ["OrderCancelled"]
    in_flight = run([*route(1), *sign_and_send(1)], submit=MARKET_ORDER)
    state, events = apply(in_flight, CancelOrder())
    assert names(events) == ["CancelRequested"]
    state, events = apply(state, fail(1))
    assert names(events) == ["AttemptFailed", "OrderCancelled"]
    assert decide(state, StartRouting(attempt=2)) == [], "the retry message finds it final"


def test_cancel_and_trigger_racing_at_one_version_leave_one_outcome() -> None:
    armed = run([])
    fired = decide(armed, fire())
    cancelled = decide(armed, CancelOrder())
    # Whichever the store appends first wins; the loser, decided again on the new state:
    after_fire = _fold(armed, fired)
    assert names(decide(after_fire, CancelOrder())) == ["OrderCancelled"]  # nothing sent yet
    after_cancel = _fold(armed, cancelled)
    assert decide(after_cancel, fire()) == []


def _fold(state: OrderState, events: list[OrderEvent]) -> OrderState:
    for event in events:
        state = evolve(state, event)
    return state


waiting_commands = st.one_of(
    st.builds(
        FireTrigger,
        generation=st.integers(1, 4),
        slot=st.integers(0, 99),
        quote=st.builds(
            TriggerQuote,
            expected_amount_out=st.integers(LIMIT, LIMIT + 10**6),
            price_impact=st.just("0"),
            legs=st.just(legs(LIMIT)),
        ),
        now=st.sampled_from([T0, EXPIRES]),
    ),
    st.builds(ExpireOrder, now=st.sampled_from([T0, EXPIRES])),
    st.just(CancelOrder()),
    st.integers(1, 4).map(StartRouting),
    st.builds(
        SelectRoute,
        attempt=st.integers(1, 4),
        quotes=st.just(()),
        legs=st.sampled_from([legs(LIMIT - 1), legs(LIMIT + 1)]),
        price_impact=st.just("0"),
        context_slot=st.just(1),
    ),
    st.integers(1, 4).map(lambda a: sign_and_send(a)[0]),
    st.integers(1, 4).map(MarkSent),
    st.integers(1, 4).map(confirm),
    st.integers(1, 4).map(fail),
)


@settings(max_examples=400)
@given(st.lists(waiting_commands, max_size=40))
def test_any_sequence_fires_each_arm_at_most_once_and_nothing_after_the_end(
    commands: list[OrderCommand],
) -> None:
    state = run([])
    fired: list[int] = []
    for command in commands:
        before = state
        try:
            state, events = apply(state, command)
        except InvalidTransition:
            continue
        fired += [event.generation for event in events if isinstance(event, TriggerFired)]
        if before.is_final:
            assert events == [], "a final order absorbs everything"
            assert state == before
        if events:
            assert decide(state, command) == [], "a redelivered command is a no-op"
        assert state.failed_executions <= 3
        if state.status in (OrderStatus.ROUTING, OrderStatus.BUILDING, OrderStatus.SUBMITTED):
            assert state.trigger_slot is not None, "a limit order routes only after a trigger"
    assert len(fired) == len(set(fired)), f"an arm fired twice: {fired}"
