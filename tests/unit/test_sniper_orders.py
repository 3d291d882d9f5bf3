"""Sniper orders in the domain: terms, filters, match, skip, fire at the open, re-arm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import (
    CancelOrder,
    ExpireOrder,
    FailAttempt,
    FireTrigger,
    MarkSent,
    MatchPool,
    OrderCommand,
    SelectRoute,
    SignTransaction,
    StartRouting,
    SubmitOrder,
)
from domain.errors import InvalidField, InvalidTransition
from domain.events import OrderEvent, RouteLeg, TriggerQuote
from domain.launches import PoolLaunched
from domain.order import decide
from domain.order_state import OrderState, evolve, order_tokens, swap_minimum
from domain.sniper_terms import SniperFields, judge
from domain.status import OrderStatus
from domain.submission import LimitFields, parse_submission
from domain.tokens import SOL

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CREATOR = "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU"
MINT = "4k3Dyjzvzp8eMZWUXbBCjEvwSkkk59S5iCNLY3QrkX6R"


def sniper(**fields: object) -> SubmitOrder:
    kept: dict[str, object] = {"target": None, "filters": None, "max_price": None}
    kept.update(fields)
    return parse_submission(
        order_id="0f9c0000-0000-4000-8000-000000000000",
        order_type="sniper",
        token_in="SOL",
        token_out="",
        amount_in="2",
        slippage_bps=None,
        limit=LimitFields(expires_at=NOW + timedelta(hours=1)),
        sniper=SniperFields(**kept),  # type: ignore[arg-type]
        now=NOW,
    )


def launch(**fields: object) -> PoolLaunched:
    values: dict[str, object] = {
        "pool": "Pool1111111111111111111111111111111111111111",
        "venue": "raydium",
        "kind": "cpmm",
        "base_mint": MINT,
        "quote_mint": SOL.mint,
        "creator": CREATOR,
        "base_reserve": 800_000_000 * 10**6,
        "quote_reserve": 100 * 10**9,
        "base_decimals": 6,
        "open_time": 1_800_000_000,
        "slot": 1_000,
        "signature": "sig",
        "mint_authority": None,
        "freeze_authority": None,
        "lp_burned_pct": 100,
        "top_holder_pct": 12,
        "seen_slot": 1_000,
    }
    values.update(fields)
    return PoolLaunched(**values)  # type: ignore[arg-type]


def apply(state: OrderState | None, command: OrderCommand) -> tuple[OrderState, list[OrderEvent]]:
    events = decide(state, command)
    for event in events:
        state = evolve(state, event)
    assert state is not None
    return state, events


def submitted(order: SubmitOrder) -> OrderState:
    return apply(None, order)[0]


def names(events: list[OrderEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


def quote(out: int) -> TriggerQuote:
    leg = RouteLeg(
        pool="p", venue="raydium", label="Raydium CPMM", amount_in=2 * 10**9, amount_out=out
    )
    return TriggerQuote(expected_amount_out=out, price_impact="0.01", legs=(leg,))


def test_a_sniper_order_is_armed_and_carries_its_terms() -> None:
    order = sniper(
        target={"creator": CREATOR},
        filters={"minLiquidity": "50", "maxTopHolderPct": 50, "requireMintRenounced": True},
        max_price="0.000004",
        delay_slots=3,
        priority_fee=200_000,
    )
    state, events = apply(None, order)
    assert names(events) == ["OrderSubmitted", "OrderArmed"]
    assert state.status == OrderStatus.ARMED
    assert state.waits_for_trigger
    assert state.slippage_bps == 1_500
    assert state.token_out == ""
    terms = state.sniper
    assert terms is not None
    assert (terms.target_creator, terms.min_liquidity, terms.max_top_holder_pct) == (
        CREATOR,
        50 * 10**9,
        50,
    )
    assert (terms.delay_slots, terms.priority_fee, terms.max_price) == (3, 200_000, "0.000004")
    assert terms.require_not_freezable, "requireNotFreezable defaults to true"
    with pytest.raises(InvalidTransition):
        decide(state, StartRouting(attempt=1))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"target": {"creator": "not-base58-0OIl"}}, "target.creator"),
        ({"target": {"owner": CREATOR}}, "target"),
        ({"filters": {"minLpBurnedPct": 101}}, "filters.minLpBurnedPct"),
        ({"filters": {"maxTopHolderPct": -1}}, "filters.maxTopHolderPct"),
        ({"filters": {"minLiquidity": "10", "maxLiquidity": "5"}}, "filters.maxLiquidity"),
        ({"filters": {"lpBurned": 1}}, "filters.lpBurned"),
        ({"filters": {"requireNotFreezable": "yes"}}, "filters.requireNotFreezable"),
        ({"max_price": "0"}, "maxPrice"),
        ({"delay_slots": 151}, "delaySlots"),
        ({"priority_fee": -1}, "priorityFee"),
        ({"exit": {"takeProfitPct": 0}}, "exit.takeProfitPct"),
    ],
)
def test_each_bad_sniper_field_is_named(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        sniper(**fields)
    assert refused.value.field == field


def test_a_sniper_needs_an_expiry_and_a_quote_token() -> None:
    with pytest.raises(InvalidField) as refused:
        parse_submission(
            order_id="o",
            order_type="sniper",
            token_in="MEME",
            token_out="",
            amount_in="1",
            slippage_bps=None,
            limit=LimitFields(expires_at=NOW + timedelta(hours=1)),
            now=NOW,
        )
    assert refused.value.field == "tokenIn"
    with pytest.raises(InvalidField) as refused:
        parse_submission(
            order_id="o",
            order_type="sniper",
            token_in="SOL",
            token_out="",
            amount_in="1",
            slippage_bps=None,
            now=NOW,
        )
    assert refused.value.field == "expiresAt"


def test_market_orders_refuse_sniper_fields() -> None:
    with pytest.raises(InvalidField) as refused:
        parse_submission(
            order_id="o",
            order_type="market",
            token_in="SOL",
            token_out="USDC",
            amount_in="1",
            slippage_bps=None,
            sniper=SniperFields(delay_slots=1),
        )
    assert refused.value.field == "delaySlots"


@pytest.mark.parametrize(
    ("pool", "refused_by"),
    [
        ({"quote_reserve": 10 * 10**9}, "minLiquidity"),
        ({"quote_reserve": 9_000 * 10**9}, "maxLiquidity"),
        ({"mint_authority": CREATOR}, "requireMintRenounced"),
        ({"freeze_authority": CREATOR}, "requireNotFreezable"),
        ({"lp_burned_pct": 89}, "minLpBurnedPct"),
        ({"top_holder_pct": 51}, "maxTopHolderPct"),
    ],
)
def test_a_pool_refused_by_a_filter_is_recorded_and_the_order_stays_armed(
    pool: dict[str, object], refused_by: str
) -> None:
    filters = {
        "minLiquidity": "50",
        "maxLiquidity": "5000",
        "requireMintRenounced": True,
        "minLpBurnedPct": 90,
        "maxTopHolderPct": 50,
    }
    state = submitted(sniper(filters=filters))
    state, events = apply(state, MatchPool(generation=1, launch=launch(**pool), now=NOW))
    assert names(events) == ["PoolSkipped"]
    assert state.status == OrderStatus.ARMED
    assert (state.last_skipped_filter, state.pools_skipped) == (refused_by, 1)
    state, events = apply(state, MatchPool(generation=1, launch=launch(), now=NOW))
    assert names(events) == ["PoolMatched"]
    assert state.status == OrderStatus.TRIGGERED
    assert all(verdict.passed for verdict in state.match_verdicts)
    assert len(state.match_verdicts) == 6


def test_pools_outside_the_target_are_not_considered() -> None:
    state = submitted(sniper(target={"creator": CREATOR}))
    other = launch(creator="9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")
    assert decide(state, MatchPool(generation=1, launch=other, now=NOW)) == []
    usdc = launch(quote_mint="EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
    assert decide(state, MatchPool(generation=1, launch=usdc, now=NOW)) == []
    by_mint = submitted(sniper(target={"mint": MINT}))
    assert names(decide(by_mint, MatchPool(generation=1, launch=launch(), now=NOW))) == [
        "PoolMatched"
    ]


def test_the_first_match_wins_and_the_launched_token_becomes_token_out() -> None:
    state = submitted(sniper())
    state, _ = apply(state, MatchPool(generation=1, launch=launch(), now=NOW))
    second = launch(pool="Pool2222222222222222222222222222222222222222")
    assert decide(state, MatchPool(generation=1, launch=second, now=NOW)) == []
    assert (state.token_out, state.matched_pool) == (MINT, launch().pool)
    token_in, token_out = order_tokens(state)
    assert (token_in, token_out.mint, token_out.decimals) == (SOL, MINT, 6)
    assert decide(state, MatchPool(generation=1, launch=launch(), now=NOW)) == []


def test_no_match_after_expiry() -> None:
    state = submitted(sniper())
    late = NOW + timedelta(hours=2)
    assert decide(state, MatchPool(generation=1, launch=launch(), now=late)) == []
    assert names(decide(state, ExpireOrder(now=late))) == ["OrderExpired"]


def test_max_price_bounds_the_fire_and_the_swap_minimum() -> None:
    # 2 SOL at most 0.000004 SOL per token: at least 500,000 tokens (6 decimals).
    least = 500_000 * 10**6
    state = submitted(sniper(max_price="0.000004"))
    state, _ = apply(state, MatchPool(generation=1, launch=launch(), now=NOW))
    with pytest.raises(InvalidTransition):
        decide(state, FireTrigger(generation=1, slot=1_003, quote=quote(least - 1), now=NOW))
    assert swap_minimum(state, least * 2) == least * 2 * 85 // 100
    assert swap_minimum(state, least + 1) == least, "maxPrice tightens the minimum"
    state, events = apply(state, FireTrigger(generation=1, slot=1_003, quote=quote(least), now=NOW))
    assert names(events) == ["TriggerFired"]
    assert decide(state, FireTrigger(generation=1, slot=1_004, quote=quote(least), now=NOW)) == []


def test_a_matched_sniper_routes_only_after_its_buy_fired() -> None:
    state = submitted(sniper())
    state, _ = apply(state, MatchPool(generation=1, launch=launch(), now=NOW))
    with pytest.raises(InvalidTransition):
        decide(state, StartRouting(attempt=1))
    state, _ = apply(state, FireTrigger(generation=1, slot=1_002, quote=quote(10**12), now=NOW))
    state, events = apply(state, StartRouting(attempt=1))
    assert names(events) == ["RoutingStarted"]


def test_a_failed_buy_rearms_on_the_same_pool_and_fires_again() -> None:
    state = submitted(sniper())
    state, _ = apply(state, MatchPool(generation=1, launch=launch(), now=NOW))
    state, _ = apply(state, FireTrigger(generation=1, slot=1_002, quote=quote(10**12), now=NOW))
    leg = quote(10**12).legs
    for command in (
        StartRouting(attempt=1),
        SelectRoute(attempt=1, quotes=(), legs=leg, price_impact="0", context_slot=1_002),
        SignTransaction(attempt=1, signature="s1", blockhash="b", last_valid_block_height=9),
        MarkSent(attempt=1),
        FailAttempt(
            attempt=1,
            reason="slippage",
            code="6005",
            retryable=True,
            max_attempts=3,
            retry_after_ms=0,
        ),
    ):
        state, events = apply(state, command)
    assert names(events) == ["AttemptFailed", "OrderRearmed"]
    assert (state.status, state.generation, state.matched_pool) == ("armed", 2, launch().pool)
    assert state.awaits_buy
    assert decide(state, MatchPool(generation=2, launch=launch(pool="P2"), now=NOW)) == []
    state, events = apply(
        state, FireTrigger(generation=2, slot=1_005, quote=quote(10**12), now=NOW)
    )
    assert names(events) == ["TriggerFired"]


def test_a_matched_sniper_waiting_for_its_slot_cancels_at_once() -> None:
    state = submitted(sniper())
    state, _ = apply(state, MatchPool(generation=1, launch=launch(), now=NOW))
    state, events = apply(state, CancelOrder())
    assert names(events) == ["OrderCancelled"]
    assert decide(state, FireTrigger(generation=1, slot=1_002, quote=quote(10**12), now=NOW)) == []


@given(
    liquidity=st.integers(1, 10**13),
    burned=st.integers(0, 100),
    top=st.integers(0, 100),
    renounced=st.booleans(),
    freezable=st.booleans(),
)
def test_a_pool_matches_exactly_when_every_filter_passes(
    liquidity: int, burned: int, top: int, renounced: bool, freezable: bool
) -> None:
    order = sniper(
        filters={
            "minLiquidity": "50",
            "maxLiquidity": "5000",
            "requireMintRenounced": True,
            "minLpBurnedPct": 90,
            "maxTopHolderPct": 50,
        }
    )
    pool = launch(
        quote_reserve=liquidity,
        lp_burned_pct=burned,
        top_holder_pct=top,
        mint_authority=None if renounced else CREATOR,
        freeze_authority=CREATOR if freezable else None,
    )
    good = (
        50 * 10**9 <= liquidity <= 5000 * 10**9
        and burned >= 90
        and top <= 50
        and renounced
        and not freezable
    )
    state = submitted(order)
    assert order.sniper is not None
    assert all(v.passed for v in judge(order.sniper, pool)) == good
    events = decide(state, MatchPool(generation=1, launch=pool, now=NOW))
    assert names(events) == (["PoolMatched"] if good else ["PoolSkipped"])
    assert msgspec.json.decode(msgspec.json.encode(events[0]), type=type(events[0])) == events[0]
