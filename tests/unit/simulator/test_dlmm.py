from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import dlmm_math as m
from simulator.dlmm import DlmmPool
from simulator.dlmm_liquidity import Layout, recenter_if_at_edge, seed_bins, value_in_y
from simulator.errors import SwapError
from simulator.swap import Swap
from tests.unit.simulator.factories import dlmm


def test_bin_price_matches_program_pow() -> None:
    assert m.price_from_id(0, 10) == m.ONE
    # pow inverts 1/base twice, which lands exactly on ONE + floor(2^64 * 10 / 1e4).
    assert m.price_from_id(1, 10) == m.ONE + (10 << 64) // 10_000
    # A negative id is U128_MAX // base, the program's 1/1.01 rounded down.
    assert m.price_from_id(-1, 100) == m.U128_MAX // (m.ONE + (100 << 64) // 10_000)
    ratio = Fraction(m.price_from_id(100, 100), m.ONE)
    assert abs(ratio - Fraction(101, 100) ** 100) < Fraction(1, 10**12)


def test_fee_rates_from_spec_examples() -> None:
    # s=10, B=10_000: 1e6 / 1e9 = 0.10 %; n=10 bins of volatility: 4_000 * n^2.
    assert m.base_fee_rate(10_000, 10, 0) == 1_000_000
    assert m.variable_fee_rate(100_000, 10, 40_000) == 400_000
    assert m.variable_fee_rate(350_000, 10, 40_000) == 4_900_000


def test_partial_fill_in_active_bin() -> None:
    # Bin 0 has price exactly 1; B=10_000, s=100 gives a 1 % base fee, va = 0.
    pool = dlmm({0: (1_000, 1_000)})
    result = pool.swap(101, x_to_y=True, now=0)
    # fee = ceil(101 * 1 %) = 2, net 99, out = floor(99 * 1) = 99
    assert (result.amount_out, result.fee_amount) == (99, 2)
    assert pool.bins[0] == (1_099, 901)
    assert pool.active_id == 0


def test_walk_drains_a_bin_then_pays_the_variable_fee_in_the_next() -> None:
    pool = dlmm({0: (0, 1_000), -1: (0, 1_000)})
    result = pool.swap(2_000, x_to_y=True, now=0)
    # Bin 0: max_in 1000, max_fee ceil(1000 * 1e7 / 9.9e8) = 11 -> used 1011.
    # Bin -1: va = 10_000 -> variable ceil(4e4 * (1e6)^2 / 1e11) = 400_000, so
    # rate = 10_400_000; fee = ceil(989 * 1.04 %) = 11; out = floor(978 / 1.01) = 968.
    assert (result.amount_out, result.fee_amount) == (1_000 + 968, 11 + 11)
    assert pool.bins == {0: (1_000, 0), -1: (978, 32)}
    assert pool.active_id == -1
    assert pool.volatility.accumulator == 10_000


def test_buying_x_walks_up() -> None:
    pool = dlmm({0: (500, 0), 1: (500, 0)})
    result = pool.swap(600, x_to_y=False, now=0)
    # Bin 0 drains: 500 net in at price 1 plus fee ceil(500 * 1e7 / 9.9e8) = 6,
    # which stays out of the bin. Bin 1 (price 1.01, rate 1.04 %): 94 left, fee 1,
    # out = floor(93 / 1.01) = 92.
    assert (result.amount_out, result.fee_amount) == (592, 7)
    assert pool.bins == {0: (0, 500), 1: (408, 93)}
    assert pool.active_id == 1


def test_edge_of_liquidity_is_an_error_and_leaves_state() -> None:
    pool = dlmm({0: (0, 1_000)})
    with pytest.raises(SwapError) as caught:
        pool.swap(5_000, x_to_y=True, now=0)
    assert (caught.value.code, caught.value.name) == (6012, "PairInsufficientLiquidity")
    assert pool.bins == {0: (0, 1_000)}


def test_volatility_decays_after_filter_period() -> None:
    pool = dlmm(dict.fromkeys(range(-5, 1), (0, 10**6)))
    pool.swap(3 * 10**6, x_to_y=True, now=0)
    crossed = pool.volatility.accumulator
    assert crossed >= 20_000
    assert pool.references_at(10).reference == 0  # inside the filter period
    decayed = pool.references_at(100)  # filter <= elapsed < decay
    assert decayed.reference == crossed * 5_000 // 10_000
    assert pool.references_at(1_000).reference == 0  # past the decay period


def _sample_pool(seed_bins: list[int]) -> tuple[dict[int, tuple[int, int]], int]:
    bins: dict[int, tuple[int, int]] = {}
    for offset, amount in enumerate(seed_bins):
        bin_id = offset - len(seed_bins) // 2
        bins[bin_id] = (amount, 0) if bin_id > 0 else (0, amount)
    bins[0] = (seed_bins[0], seed_bins[-1])
    return bins, 0


bin_amounts = st.lists(st.integers(min_value=0, max_value=10**12), min_size=3, max_size=12)
trades = st.lists(st.tuples(st.integers(min_value=1, max_value=10**12), st.booleans()), max_size=8)


@settings(max_examples=60)
@given(bin_amounts, trades)
def test_bins_never_go_negative_and_tokens_are_conserved(
    amounts: list[int], swaps: list[tuple[int, bool]]
) -> None:
    bins, active = _sample_pool(amounts)
    pool = dlmm(dict(bins), active, bin_step=20)
    for now, (amount_in, x_to_y) in enumerate(swaps):
        before_x = sum(x for x, _ in pool.bins.values())
        before_y = sum(y for _, y in pool.bins.values())
        quoted = _quote_or_none(pool, amount_in, x_to_y, now * 7)
        if quoted is None:
            continue
        assert pool.swap(amount_in, x_to_y, now * 7) == quoted
        assert all(x >= 0 and y >= 0 for x, y in pool.bins.values())
        net_in = quoted.amount_in - quoted.fee_amount
        after_x = sum(x for x, _ in pool.bins.values())
        after_y = sum(y for _, y in pool.bins.values())
        if x_to_y:
            assert (after_x, after_y) == (before_x + net_in, before_y - quoted.amount_out)
        else:
            assert (after_x, after_y) == (before_x - quoted.amount_out, before_y + net_in)


@settings(max_examples=60)
@given(bin_amounts, st.integers(1, 10**12), st.integers(1, 10**12), st.booleans())
def test_more_input_never_gives_less_output(
    amounts: list[int], a: int, b: int, x_to_y: bool
) -> None:
    bins, active = _sample_pool(amounts)
    pool = dlmm(bins, active, bin_step=20)
    small, large = sorted((a, b))
    out_large = _quote_or_none(pool, large, x_to_y, 0)
    out_small = _quote_or_none(pool, small, x_to_y, 0)
    if out_large is not None:
        assert out_small is not None
        assert out_small.amount_out <= out_large.amount_out


def _quote_or_none(pool: DlmmPool, amount_in: int, x_to_y: bool, now: int) -> Swap | None:
    try:
        return pool.quote(amount_in, x_to_y, now)
    except SwapError:
        return None


def test_lps_recenter_a_range_the_price_has_left() -> None:
    bins = seed_bins(0, 20, 10, 10**12, "spot")
    pool = dlmm(bins, active_id=0, bin_step=20)
    layout = Layout(10, "spot")
    assert not recenter_if_at_edge(pool, layout)
    value = value_in_y(pool)
    pool.swap(45 * 10**10, x_to_y=True, now=0)  # sell X down to the bottom bins
    assert pool.active_id <= pool.min_bin_id + 3
    assert recenter_if_at_edge(pool, layout)
    assert (pool.min_bin_id, pool.max_bin_id) == (pool.active_id - 10, pool.active_id + 10)
    assert all(x >= 0 and y >= 0 for x, y in pool.bins.values())
    # Value moves only by fees kept outside the bins and by rounding.
    assert abs(value_in_y(pool) - value) < value // 100
