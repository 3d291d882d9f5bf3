from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from simulator.amm_v4 import swap_base_in
from tests.unit.simulator.factories import amm_v4

reserves = st.integers(min_value=1_000, max_value=10**18)
amounts = st.integers(min_value=1, max_value=10**15)


def test_fee_is_rounded_up_and_output_floored() -> None:
    # fee = ceil(10_000 * 25 / 10_000) = 25; dx = 9_975
    # out = floor(2_000_000 * 9_975 / 1_009_975) = floor(19_752.96...) = 19_752
    assert swap_base_in(10_000, 1_000_000, 2_000_000) == (19_752, 25)
    # fee = ceil(401 * 25 / 10_000) = ceil(1.0025) = 2
    assert swap_base_in(401, 10**9, 10**9)[1] == 2
    assert swap_base_in(400, 10**9, 10**9)[1] == 1
    # One atomic unit is all fee: nothing reaches the curve.
    assert swap_base_in(1, 10**9, 10**9) == (0, 1)


def test_swap_moves_reserves_minus_pnl_share() -> None:
    pool = amm_v4(1_000_000, 2_000_000)
    result = pool.swap(10_000, x_to_y=True, now=0)
    # pnl = floor(25 * 12 / 100) = 3 stays out of the curve reserves.
    assert (pool.reserve_x, pool.reserve_y) == (1_009_997, 1_980_248)
    assert result.amount_out == 19_752
    assert result.protocol_fee == 3
    assert result.spot == Fraction(2)


def test_price_impact_is_dx_over_x_plus_dx() -> None:
    pool = amm_v4(1_000_000, 2_000_000)
    result = pool.quote(10_000, x_to_y=True, now=0)
    exact = Fraction(9_975, 1_009_975)
    # Flooring the output adds at most one unit of output to the impact.
    assert exact <= result.price_impact <= exact + Fraction(1, 9_975 * 2)


@given(reserves, reserves, amounts, st.booleans())
def test_k_never_decreases(x: int, y: int, amount_in: int, x_to_y: bool) -> None:
    pool = amm_v4(x, y)
    pool.swap(amount_in, x_to_y, now=0)
    assert pool.reserve_x * pool.reserve_y >= x * y
    assert pool.reserve_x > 0
    assert pool.reserve_y > 0


@given(reserves, reserves, amounts, amounts)
def test_more_input_never_gives_less_output(x: int, y: int, a: int, b: int) -> None:
    small, large = sorted((a, b))
    pool = amm_v4(x, y)
    assert pool.quote(small, True, 0).amount_out <= pool.quote(large, True, 0).amount_out
