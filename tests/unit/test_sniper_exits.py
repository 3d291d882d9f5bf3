"""Sniper exits in the domain: the terms, holding after the buy, the rules on a sale
quote, one child per exit arm, the parent's end when the child ends, and the state
machine under any sequence of exit commands (properties)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import (
    CancelOrder,
    ConfirmOrder,
    ExpireOrder,
    FailAttempt,
    FireTrigger,
    MarkSent,
    MatchPool,
    OrderCommand,
    SelectRoute,
    SettleExit,
    SignTransaction,
    StartRouting,
    TriggerExit,
)
from domain.errors import InvalidField, InvalidTransition
from domain.exit_terms import MAX_EXIT_ORDERS, ExitTerms, exit_order_id, exit_reason
from domain.exits import exit_order
from domain.order import decide
from domain.order_state import OrderState, evolve, order_tokens
from domain.status import OrderStatus
from tests.unit.test_sniper_orders import NOW, apply, launch, names, quote, sniper, submitted

COST = 2 * 10**9  # the sniper spends 2 SOL
TOKENS = 10**12  # and buys a million launched tokens (6 decimals)
BUY_SLOT = 1_010


def bought(**exit_terms: object) -> OrderState:
    """A sniper with `exit_terms` whose buy confirmed in `BUY_SLOT`."""
    state = submitted(sniper(exit=exit_terms or {"takeProfitPct": 40}))
    return confirm(state)


def confirm(state: OrderState, *, cancel_first: bool = False) -> OrderState:
    state, _ = apply(state, MatchPool(generation=1, launch=launch(), now=NOW))
    state, _ = apply(state, FireTrigger(generation=1, slot=1_002, quote=quote(TOKENS), now=NOW))
    legs = quote(TOKENS).legs
    for command in (
        StartRouting(attempt=1),
        SelectRoute(attempt=1, quotes=(), legs=legs, price_impact="0", context_slot=1_002),
        SignTransaction(attempt=1, signature="s1", blockhash="b", last_valid_block_height=9),
        MarkSent(attempt=1),
    ):
        state, _ = apply(state, command)
    if cancel_first:
        state, _ = apply(state, CancelOrder())
    confirmed = ConfirmOrder(
        attempt=1, slot=BUY_SLOT, amount_out=TOKENS, legs=legs, network_fee_lamports=5_000
    )
    return apply(state, confirmed)[0]


def settle(generation: int, status: str, out: int | None = None) -> SettleExit:
    return SettleExit(
        generation=generation,
        status=status,
        amount_out=out,
        slot=None if out is None else BUY_SLOT + 20,
        reason=None if out else "slippage",
        code=None if out else "ExceededSlippage",
    )


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({}, "exit"),
        ({"takeProfitPct": 0}, "exit.takeProfitPct"),
        ({"takeProfitPct": 100_001}, "exit.takeProfitPct"),
        ({"takeProfitPct": "40"}, "exit.takeProfitPct"),
        ({"takeProfitPct": True}, "exit.takeProfitPct"),
        ({"stopLossPct": 0}, "exit.stopLossPct"),
        ({"stopLossPct": 100}, "exit.stopLossPct"),
        ({"maxHoldSlots": 0}, "exit.maxHoldSlots"),
        ({"maxHoldSlots": 1_000_001}, "exit.maxHoldSlots"),
        ({"maxHoldSlots": 1.5}, "exit.maxHoldSlots"),
        ({"trailingPct": 5}, "exit.trailingPct"),
    ],
)
def test_each_bad_exit_field_is_named(terms: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        sniper(exit=terms)
    assert refused.value.field == field


def test_exit_terms_are_kept_on_the_order() -> None:
    state = submitted(sniper(exit={"takeProfitPct": 40, "stopLossPct": 20, "maxHoldSlots": 1500}))
    assert state.sniper is not None
    assert state.sniper.exit == ExitTerms(take_profit_pct=40, stop_loss_pct=20, max_hold_slots=1500)


def test_without_exit_terms_the_confirmed_buy_is_final() -> None:
    state = confirm(submitted(sniper()))
    assert state.status == OrderStatus.CONFIRMED
    assert state.entry_slot is None


def test_with_exit_terms_the_buy_opens_a_position_that_is_held() -> None:
    state = bought(takeProfitPct=40)
    assert state.status == OrderStatus.HOLDING
    assert not state.is_final
    assert (state.amount_out, state.entry_cost, state.entry_slot) == (TOKENS, COST, BUY_SLOT)
    assert state.entry_price == "0.000002"  # 2 SOL for 1,000,000 tokens
    assert state.exit_generation == 1
    # The buy's own steps, redelivered, change nothing.
    legs = quote(TOKENS).legs
    again = ConfirmOrder(
        attempt=1, slot=BUY_SLOT, amount_out=TOKENS, legs=legs, network_fee_lamports=5_000
    )
    assert decide(state, again) == []
    failed = FailAttempt(
        attempt=1, reason="x", code="y", retryable=True, max_attempts=3, retry_after_ms=0
    )
    assert decide(state, failed) == []
    assert decide(state, ExpireOrder(now=NOW + timedelta(days=1))) == []


@pytest.mark.parametrize(
    ("value", "slot", "reason"),
    [
        (COST * 140 // 100, BUY_SLOT + 1, "takeProfit"),
        (COST * 140 // 100 - 1, BUY_SLOT + 1, None),
        (COST * 80 // 100, BUY_SLOT + 1, "stopLoss"),
        (COST * 80 // 100 + 1, BUY_SLOT + 1, None),
        (COST, BUY_SLOT + 1_499, None),
        (COST, BUY_SLOT + 1_500, "maxHold"),
    ],
)
def test_each_rule_fires_at_its_bound(value: int, slot: int, reason: str | None) -> None:
    state = bought(takeProfitPct=40, stopLossPct=20, maxHoldSlots=1_500)
    events = decide(state, TriggerExit(generation=1, slot=slot, value=value))
    if reason is None:
        assert events == []
        return
    state, _ = apply(state, TriggerExit(generation=1, slot=slot, value=value))
    assert names(events) == ["ExitTriggered"]
    assert (state.status, state.exit_reason) == (OrderStatus.EXITING, reason)
    assert state.exit_order_id == exit_order_id(state.order_id, 1)
    assert (state.exit_slot, state.exit_value) == (slot, value)


def test_the_child_sells_the_whole_position_of_the_launched_mint() -> None:
    state = bought(takeProfitPct=40)
    state, _ = apply(state, TriggerExit(generation=1, slot=BUY_SLOT + 3, value=3 * 10**9))
    child_order = exit_order(state)
    assert child_order.order_id == state.exit_order_id
    assert child_order.parent_order_id == state.order_id
    assert (child_order.token_in, child_order.token_out) == (launch().base_mint, "SOL")
    assert child_order.amount_in == TOKENS
    assert child_order.order_type == "market"
    child, events = apply(None, child_order)
    assert names(events) == ["OrderSubmitted"]  # a market order: the dispatcher routes it
    token_in, token_out = order_tokens(child)
    assert (token_in.mint, token_in.decimals, token_out.symbol) == (launch().base_mint, 6, "SOL")
    assert child.parent_order_id == state.order_id


def test_the_parent_is_final_when_its_child_confirms() -> None:
    state = bought(takeProfitPct=40)
    state, _ = apply(state, TriggerExit(generation=1, slot=BUY_SLOT + 3, value=3 * 10**9))
    assert decide(state, TriggerExit(generation=1, slot=BUY_SLOT + 4, value=4 * 10**9)) == []
    state, events = apply(state, settle(1, "confirmed", 29 * 10**8))
    assert names(events) == ["PositionClosed"]
    assert (state.status, state.exit_proceeds) == (OrderStatus.CONFIRMED, 29 * 10**8)
    assert state.exit_reason == "takeProfit"
    assert decide(state, settle(1, "confirmed", 29 * 10**8)) == []


def test_a_failed_child_rearms_the_exit_until_the_last_then_the_order_fails() -> None:
    state = bought(maxHoldSlots=10)
    children = []
    for generation in range(1, MAX_EXIT_ORDERS + 1):
        state, _ = apply(state, TriggerExit(generation=generation, slot=BUY_SLOT + 10, value=1))
        assert state.exit_reason == "maxHold"
        children.append(state.exit_order_id)
        state, events = apply(state, settle(generation, "failed"))
        if generation < MAX_EXIT_ORDERS:
            assert names(events) == ["ExitRearmed"]
            assert (state.status, state.exit_generation) == (OrderStatus.HOLDING, generation + 1)
    assert names(events) == ["OrderFailed"]
    assert (state.status, state.failure_code) == (OrderStatus.FAILED, "ExitFailed")
    assert "still held" in (state.failure_reason or "")
    assert len(set(children)) == MAX_EXIT_ORDERS, "each arm its own child"


def test_a_cancel_of_a_held_position_sells_it_now() -> None:
    state = bought(takeProfitPct=40)
    state, events = apply(state, CancelOrder())
    assert names(events) == ["ExitTriggered"]
    assert (state.status, state.exit_reason) == (OrderStatus.EXITING, "cancel")
    assert decide(state, CancelOrder()) == [], "the sale is under way"


def test_a_cancel_too_late_for_the_buy_sells_the_position_at_once() -> None:
    state = confirm(submitted(sniper(exit={"stopLossPct": 30})), cancel_first=True)
    assert (state.status, state.exit_reason) == (OrderStatus.EXITING, "cancel")


@given(
    tp=st.none() | st.integers(1, 1_000),
    sl=st.none() | st.integers(1, 99),
    hold=st.none() | st.integers(1, 5_000),
    value=st.integers(0, 10 * COST),
    slot=st.integers(BUY_SLOT, BUY_SLOT + 10_000),
)
def test_a_rule_fires_exactly_when_its_bound_is_crossed(
    tp: int | None, sl: int | None, hold: int | None, value: int, slot: int
) -> None:
    terms = ExitTerms(take_profit_pct=tp, stop_loss_pct=sl, max_hold_slots=hold)
    profit = tp is not None and value * 100 >= COST * (100 + tp)
    loss = sl is not None and value * 100 <= COST * (100 - sl)
    aged = hold is not None and slot - BUY_SLOT >= hold
    # The first rule that holds, in the order take profit, stop loss, maximum hold.
    wanted = next(
        (
            name
            for name, holds in (("takeProfit", profit), ("stopLoss", loss), ("maxHold", aged))
            if holds
        ),
        None,
    )
    assert exit_reason(terms, COST, value, slot, BUY_SLOT) == wanted
    if tp is not None and sl is not None:
        assert not (profit and loss), "one quote cannot both profit and lose"


_exit_steps = st.lists(
    st.one_of(
        st.builds(
            TriggerExit,
            generation=st.integers(1, MAX_EXIT_ORDERS + 1),
            slot=st.integers(BUY_SLOT, BUY_SLOT + 100),
            value=st.integers(0, 4 * COST),
        ),
        st.builds(
            settle,
            st.integers(1, MAX_EXIT_ORDERS + 1),
            st.sampled_from(["confirmed", "failed", "cancelled"]),
            st.just(COST),
        ),
        st.just(CancelOrder()),
        st.just(ExpireOrder(now=NOW + timedelta(days=2))),
    ),
    max_size=25,
)


@given(steps=_exit_steps)
def test_the_exit_state_machine_holds_its_promises(steps: list[OrderCommand]) -> None:
    state = bought(takeProfitPct=50, stopLossPct=30, maxHoldSlots=50)
    children: dict[int, str] = {}
    for command in steps:
        before = state
        if isinstance(command, CancelOrder) and state.is_final:
            with pytest.raises(InvalidTransition):  # the API answers 409
                decide(state, command)
            continue
        events = decide(state, command)
        for event in events:
            state = evolve(state, event)
        if before.is_final:
            assert events == [], "a final order decides nothing"
        # One child per exit arm, always the same one, derived from the parent.
        if state.exit_order_id is not None:
            known = children.setdefault(state.exit_generation, state.exit_order_id)
            assert (
                known == state.exit_order_id == exit_order_id(state.order_id, state.exit_generation)
            )
        assert state.exit_generation <= MAX_EXIT_ORDERS
        assert state.failed_exits == state.exit_generation - 1
        assert state.status in (OrderStatus.HOLDING, OrderStatus.EXITING) or state.is_final
        if state.status == OrderStatus.EXITING:
            assert state.exit_order_id is not None
            assert state.exit_reason is not None
        if state.status == OrderStatus.CONFIRMED:
            assert state.exit_proceeds is not None
        assert state.status != OrderStatus.EXPIRED, "a held position never expires"
        assert state.amount_out == TOKENS, "the position is never re-bought"
    assert set(children) <= set(range(1, MAX_EXIT_ORDERS + 1))
