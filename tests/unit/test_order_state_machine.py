"""The market order's lifecycle: decide/evolve, redelivery, retries, final states."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from domain.events import OrderEvent, RouteLeg
from domain.order import decide
from domain.order_state import OrderState, evolve, fold, min_amount_out
from domain.status import OrderStatus

SUBMIT = SubmitOrder(
    order_id="o-1",
    order_type="market",
    token_in="SOL",
    token_out="USDC",
    amount_in=10**9,
    slippage_bps=50,
)
LEGS = (
    RouteLeg(
        pool="p1", venue="raydium", label="Raydium CPMM", amount_in=6 * 10**8, amount_out=90_000_000
    ),
    RouteLeg(
        pool="p2", venue="meteora", label="Meteora DLMM", amount_in=4 * 10**8, amount_out=60_000_000
    ),
)


def happy_path(attempt: int = 1) -> list[OrderCommand]:
    return [
        StartRouting(attempt=attempt),
        SelectRoute(attempt=attempt, quotes=(), legs=LEGS, price_impact="0.001", context_slot=9),
        SignTransaction(
            attempt=attempt, signature=f"sig{attempt}", blockhash="bh", last_valid_block_height=160
        ),
        MarkSent(attempt=attempt),
        ConfirmOrder(
            attempt=attempt, slot=12, amount_out=149_500_000, legs=LEGS, network_fee_lamports=5_000
        ),
    ]


def run(commands: list[OrderCommand]) -> tuple[OrderState, list[OrderEvent]]:
    state: OrderState | None = None
    history: list[OrderEvent] = []
    for command in [SUBMIT, *commands]:
        events = decide(state, command)
        for event in events:
            state = evolve(state, event)
        history.extend(events)
    assert state is not None
    return state, history


def fail(attempt: int, *, retryable: bool = True) -> FailAttempt:
    return FailAttempt(
        attempt=attempt,
        reason="slippage exceeded",
        code="6005",
        retryable=retryable,
        max_attempts=3,
        retry_after_ms=500,
    )


def test_statuses_follow_the_api_lifecycle() -> None:
    state: OrderState | None = None
    statuses = []
    for command in [SUBMIT, *happy_path()]:
        for event in decide(state, command):
            state = evolve(state, event)
        assert state is not None
        statuses.append(state.status)
    assert statuses == ["pending", "routing", "building", "building", "submitted", "confirmed"]
    assert state is not None
    assert (state.version, state.amount_out, state.slot, state.signature) == (
        6,
        149_500_000,
        12,
        "sig1",
    )


def test_route_sets_expected_and_minimum_output_from_slippage() -> None:
    state, _ = run(happy_path()[:2])
    assert state.expected_amount_out == 150_000_000
    assert state.min_amount_out == min_amount_out(150_000_000, 50) == 149_250_000


def test_every_step_redelivered_is_a_no_op() -> None:
    state: OrderState | None = fold(decide(None, SUBMIT))
    for command in happy_path():
        events = decide(state, command)
        assert events
        for event in events:
            state = evolve(state, event)
        assert decide(state, command) == [], f"{type(command).__name__} twice"


def test_a_failed_attempt_retries_then_fails_the_order() -> None:
    commands: list[OrderCommand] = [StartRouting(attempt=1), fail(1)]
    state, _ = run(commands)
    assert state.status == OrderStatus.RETRYING
    commands += [StartRouting(attempt=2), fail(2), StartRouting(attempt=3), fail(3)]
    state, history = run(commands)
    assert state.status == OrderStatus.FAILED
    assert state.failure_reason == "slippage exceeded"
    assert [type(e).__name__ for e in history[-2:]] == ["AttemptFailed", "OrderFailed"]


def test_a_non_retryable_failure_ends_the_order_at_once() -> None:
    state, _ = run([StartRouting(attempt=1), fail(1, retryable=False)])
    assert state.status == OrderStatus.FAILED


def test_a_new_attempt_clears_the_old_signature() -> None:
    commands = [*happy_path()[:4], fail(1), StartRouting(attempt=2)]
    state, _ = run(commands)
    assert state.signature is None
    assert state.attempts == 2


def test_confirmation_may_arrive_before_the_send_was_recorded() -> None:
    commands = [*happy_path()[:3], happy_path()[4]]
    state, _ = run(commands)
    assert state.status == OrderStatus.CONFIRMED


@pytest.mark.parametrize(
    "command",
    [
        SelectRoute(attempt=1, quotes=(), legs=LEGS, price_impact="0", context_slot=1),
        MarkSent(attempt=1),
        StartRouting(attempt=2),
    ],
)
def test_steps_out_of_order_are_refused(command: OrderCommand) -> None:
    state = fold(decide(None, SUBMIT))
    with pytest.raises(InvalidTransition):
        decide(state, command)


def test_an_order_is_submitted_once() -> None:
    with pytest.raises(InvalidTransition):
        decide(fold(decide(None, SUBMIT)), SUBMIT)


def test_final_orders_absorb_everything() -> None:
    state, _ = run([*happy_path(), FailOrder(reason="late", code="x")])
    assert state.status == OrderStatus.CONFIRMED
    assert decide(state, StartRouting(attempt=2)) == []


engine_commands = st.one_of(
    st.builds(StartRouting, attempt=st.integers(1, 4)),
    st.builds(
        SelectRoute,
        attempt=st.integers(1, 4),
        quotes=st.just(()),
        legs=st.just(LEGS),
        price_impact=st.just("0"),
        context_slot=st.integers(0, 10),
    ),
    st.builds(
        SignTransaction,
        attempt=st.integers(1, 4),
        signature=st.text(min_size=1, max_size=4),
        blockhash=st.just("bh"),
        last_valid_block_height=st.integers(0, 300),
    ),
    st.builds(MarkSent, attempt=st.integers(1, 4)),
    st.builds(
        ConfirmOrder,
        attempt=st.integers(1, 4),
        slot=st.integers(0, 99),
        amount_out=st.integers(0, 10**9),
        legs=st.just(LEGS),
        network_fee_lamports=st.just(5000),
    ),
    st.builds(
        FailAttempt,
        attempt=st.integers(1, 4),
        reason=st.just("r"),
        code=st.just("c"),
        retryable=st.booleans(),
        max_attempts=st.just(3),
        retry_after_ms=st.just(10),
    ),
    st.builds(FailOrder, reason=st.just("r"), code=st.just("c")),
)


@settings(max_examples=300)
@given(st.lists(engine_commands, max_size=30))
def test_any_command_sequence_keeps_the_invariants(commands: list[OrderCommand]) -> None:
    state = fold(decide(None, SUBMIT))
    assert state is not None
    history = 1
    for command in commands:
        before = state
        try:
            events = decide(state, command)
        except InvalidTransition:
            continue
        for event in events:
            state = evolve(state, event)
        history += len(events)
        assert state.version == history
        assert state.attempts <= 3, "never more attempts than max_attempts"
        if before.is_final:
            assert events == []
            assert state == before
        if state.status == OrderStatus.CONFIRMED:
            assert state.signature is not None
        if events:
            assert decide(state, command) == [], "a redelivered command must be a no-op"


def test_a_confirmation_after_a_failed_attempt_clears_the_failure() -> None:
    first = happy_path(1)[:4]
    state, _ = run([*first, fail(1), *happy_path(2)])
    assert state.status == OrderStatus.CONFIRMED
    assert (state.failure_reason, state.failure_code) == (None, None)
