"""Routing policy: the split is never worse than the best pool and always adds up."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.routing import (
    NoRoute,
    PoolLadder,
    best_single,
    choose_split,
    ladder_amounts,
    split_may_pay,
)


def cp_ladder(name: str, x: int, y: int, fee_ppm: int, amounts: list[int]) -> PoolLadder:
    """A constant-product pool's exact-in outputs, fee on input (Raydium CPMM style)."""
    outs = []
    for amount in amounts:
        fee = -(-amount * fee_ppm // 1_000_000)
        dx = amount - fee
        outs.append(dx * y // (x + dx))
    return PoolLadder(pool=name, venue=name, label=name, amounts_out=tuple(outs))


def test_the_ladder_ends_at_the_amount_and_never_has_a_zero_step() -> None:
    assert ladder_amounts(1_000, 50)[-1] == 1_000
    assert ladder_amounts(3, 50) == [1, 2, 3]
    with pytest.raises(NoRoute):
        ladder_amounts(0)


def test_a_big_order_splits_across_two_pools_near_the_closed_form() -> None:
    # SIMULATOR.md §4 notes: A = 10k SOL / 1.5M USDC @0.25 %, B = 4k / 600k @0.1 %;
    # for 1,000 SOL the optimum sends 71.23 % to A.
    amount = 1_000 * 10**9
    amounts = ladder_amounts(amount, 100)
    a = cp_ladder("A", 10_000 * 10**9, 1_500_000 * 10**6, 2_500, amounts)
    b = cp_ladder("B", 4_000 * 10**9, 600_000 * 10**6, 1_000, amounts)
    legs = choose_split(amount, [a, b])
    share_a = Fraction(next(leg.amount_in for leg in legs if leg.pool == "A"), amount)
    assert abs(share_a - Fraction(7123, 10_000)) <= Fraction(1, 100)
    assert sum(leg.expected_out for leg in legs) > best_single([a, b])


def test_a_pool_takes_no_more_than_it_can_fill() -> None:
    assert ladder_amounts(100, 4) == [25, 50, 75, 100]
    shallow = PoolLadder("shallow", "meteora", "shallow", (30, None, None, None))
    deep = PoolLadder("deep", "raydium", "deep", (24, 48, 72, 95))
    legs = choose_split(100, [shallow, deep])
    assert [(leg.pool, leg.amount_in) for leg in legs] == [("shallow", 25), ("deep", 75)]
    assert sum(leg.expected_out for leg in legs) == 102


def test_no_pool_that_fills_is_no_route() -> None:
    dry = PoolLadder("dry", "meteora", "dry", (None, None))
    with pytest.raises(NoRoute):
        choose_split(2, [dry])


pools = st.lists(
    st.tuples(
        st.integers(10**6, 10**15),  # reserve in
        st.integers(10**6, 10**15),  # reserve out
        st.sampled_from([100, 400, 2_500, 10_000]),  # fee, parts per million
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(amount=st.integers(1, 10**13), reserves=pools, steps=st.sampled_from([10, 20, 50]))
def test_the_split_is_never_worse_than_the_best_single_pool_and_adds_up(
    amount: int, reserves: list[tuple[int, int, int]], steps: int
) -> None:
    amounts = ladder_amounts(amount, steps)
    ladders = [cp_ladder(f"p{i}", x, y, fee, amounts) for i, (x, y, fee) in enumerate(reserves)]
    legs = choose_split(amount, ladders)
    assert sum(leg.amount_in for leg in legs) == amount
    assert all(leg.amount_in > 0 for leg in legs)
    assert sum(leg.expected_out for leg in legs) >= best_single(ladders)


def test_a_split_is_looked_for_only_when_it_could_pay() -> None:
    assert not split_may_pay([(1_000_000, "0.00001"), (990_000, "0.000001")])
    assert split_may_pay([(1_000_000, "0.01"), (990_000, "0.000001")])
    assert split_may_pay([(None, "1")]), "nothing fills it alone: only a split might"


@settings(max_examples=100, deadline=None)
@given(amount=st.integers(1, 10**13), reserves=pools)
def test_when_no_split_could_pay_the_best_pool_is_within_a_basis_point_of_the_best_split(
    amount: int, reserves: list[tuple[int, int, int]]
) -> None:
    amounts = ladder_amounts(amount, 50)
    ladders = [cp_ladder(f"p{i}", x, y, fee, amounts) for i, (x, y, fee) in enumerate(reserves)]
    whole: list[tuple[int | None, str]] = []
    for x, y, fee in reserves:
        out = cp_ladder("w", x, y, fee, [amount]).amounts_out[0] or 0
        after_fee = amount - (-(-amount * fee // 1_000_000))
        ideal = Fraction(after_fee * y, x)
        whole.append((out, str(float(1 - out / ideal)) if ideal else "1"))
    if not split_may_pay(whole):
        best = best_single(ladders)
        split = sum(leg.expected_out for leg in choose_split(amount, ladders))
        assert (split - best) * 10_000 <= best * 1 + 10_000
