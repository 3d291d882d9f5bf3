import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.cpmm import CONFIG_025, AmmConfig, swap_base_input, swap_base_output
from simulator.errors import SwapError
from tests.unit.simulator.factories import cpmm

NO_FEE = AmmConfig(index=99, trade_fee_rate=0, protocol_fee_rate=0, fund_fee_rate=0)
reserves = st.integers(min_value=1_000, max_value=10**18)
amounts = st.integers(min_value=1, max_value=10**15)
configs = st.sampled_from([CONFIG_025, AmmConfig(index=1, trade_fee_rate=10_000)])

# raydium-cp-swap constant_product.rs `constant_product_swap_rounding`:
# (source amount, source reserve, destination reserve, expected output).
TRUNCATION_CASES = [
    (10, 4_000_000, 70_000_000_000, 174_999),
    (20, 30_000 - 20, 10_000, 6),
    (19, 30_000 - 20, 10_000, 6),
    (18, 30_000 - 20, 10_000, 6),
    (10, 20_000, 30_000, 14),
    (10, 20_000 - 9, 30_000, 14),
    (10, 20_000 - 10, 30_000, 15),
    (100, 60_000, 30_000, 49),
    (99, 60_000, 30_000, 49),
    (98, 60_000, 30_000, 48),
]


@pytest.mark.parametrize(("amount_in", "x", "y", "expected"), TRUNCATION_CASES)
def test_truncation_vectors(amount_in: int, x: int, y: int, expected: int) -> None:
    fill = swap_base_input(amount_in, x, y, NO_FEE)
    assert fill.amount_out == expected
    assert (x + amount_in) * (y - fill.amount_out) >= x * y


def test_trade_fee_rounds_up_and_shares_round_down() -> None:
    assert swap_base_input(1_000_000, 10**12, 10**12, CONFIG_025).trade_fee == 2_500
    fill = swap_base_input(1_000_001, 10**12, 10**12, CONFIG_025)
    # ceil(2500.0025) = 2501; protocol floor(300.12) = 300; fund floor(100.04) = 100
    assert (fill.trade_fee, fill.protocol_fee, fill.fund_fee) == (2_501, 300, 100)


def test_exact_output_rounds_input_up() -> None:
    # dx = ceil(1e6 * 1000 / 1_999_000) = 501; in = ceil(501e6 / 997_500) = 503
    fill = swap_base_output(1_000, 1_000_000, 2_000_000, CONFIG_025)
    assert (fill.amount_in, fill.trade_fee, fill.amount_out) == (503, 2, 1_000)
    assert swap_base_input(503, 1_000_000, 2_000_000, CONFIG_025).amount_out >= 1_000


def test_swap_keeps_protocol_and_fund_fees_out_of_reserves() -> None:
    pool = cpmm(1_000_000_000, 2_000_000_000, CONFIG_025)
    result = pool.swap(1_000_001, x_to_y=True, now=1)
    assert pool.reserve_x == 1_000_000_000 + 1_000_001 - 400
    assert pool.reserve_y == 2_000_000_000 - result.amount_out


def test_pool_not_open_is_not_approved() -> None:
    pool = cpmm(10**9, 10**9, CONFIG_025)
    pool.open_time = 100
    with pytest.raises(SwapError) as caught:
        pool.quote(1_000, True, now=99)
    assert (caught.value.code, caught.value.name) == (6000, "NotApproved")


def test_pool_opens_in_the_second_of_open_time() -> None:
    # The program refuses `block_timestamp < open_time` only: in LiteSVM a swap at
    # exactly open_time fills (test_cpmm_oracle.py). We used to refuse it too.
    pool = cpmm(10**9, 10**9, CONFIG_025)
    pool.open_time = 100
    assert pool.quote(1_000, True, now=100).amount_out > 0


@pytest.mark.parametrize(("amount_in", "config"), [(10, NO_FEE), (1, CONFIG_025), (0, NO_FEE)])
def test_zero_output_is_anchors_require_gt(amount_in: int, config: AmmConfig) -> None:
    # The program's `require_gt!(amount_received, 0)` fails with Anchor's 2505, never with
    # its own ZeroTradingTokens (6006), which the model used to raise.
    with pytest.raises(SwapError) as caught:
        cpmm(70_000_000_000, 4_000_000, config).quote(amount_in, True, now=1)
    assert (caught.value.code, caught.value.name) == (2505, "RequireGtViolated")


@given(reserves, reserves, amounts, st.booleans(), configs)
def test_k_never_decreases(x: int, y: int, amount_in: int, x_to_y: bool, config: AmmConfig) -> None:
    pool = cpmm(x, y, config)
    try:
        pool.swap(amount_in, x_to_y, now=1)
    except SwapError:
        return
    assert pool.reserve_x * pool.reserve_y >= x * y


@given(reserves, reserves, amounts, amounts, configs)
def test_more_input_never_gives_less_output(
    x: int, y: int, a: int, b: int, config: AmmConfig
) -> None:
    small, large = sorted((a, b))
    out_small = swap_base_input(small, x, y, config).amount_out
    assert out_small <= swap_base_input(large, x, y, config).amount_out


@given(reserves, reserves, st.integers(min_value=1, max_value=10**12), configs)
def test_exact_output_input_buys_at_least_that_output(
    x: int, y: int, amount_out: int, config: AmmConfig
) -> None:
    if amount_out >= y:
        return
    fill = swap_base_output(amount_out, x, y, config)
    assert swap_base_input(fill.amount_in, x, y, config).amount_out >= amount_out
