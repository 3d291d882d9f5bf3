"""The oracle: random swaps through the real Raydium CPMM program (LiteSVM) and through
`simulator/cpmm.py` must agree to the unit: outputs, curve reserves, accrued protocol and
fund fees, and failures (zero output, slippage, not yet open)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cpmm import AmmConfig, CpmmPool, swap_base_input
from simulator.cpmm_program import CpmmProgram, ProgramError, ProgramPool, SwapFilled
from simulator.errors import SwapError
from tests.unit.simulator.factories import info

U64 = 2**64 - 1
PPM = 1_000_000
# 0.01 %, 0.25 %, 1 %, 2 %, 4 %, with the default 12 % protocol and 4 % fund shares.
TIERS = [AmmConfig(index, rate) for index, rate in enumerate((100, 2_500, 10_000, 20_000, 40_000))]
ORACLE = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
Check = Literal["mirror", "exact_minimum", "one_unit_more"]


@pytest.fixture(scope="module")
def program() -> CpmmProgram:
    # One LiteSVM for the module: every example makes its own mints, so its own pool.
    return CpmmProgram(seed="oracle")


_indexes: dict[tuple[int, int, int], int] = {}


def _config(trade: int, protocol: int, fund: int) -> AmmConfig:
    # One config index per distinct set of rates; the named tiers keep 0-4.
    index = _indexes.setdefault((trade, protocol, fund), 100 + len(_indexes))
    return AmmConfig(index, trade, protocol, fund)


@st.composite
def configs(draw: st.DrawFn) -> AmmConfig:
    if draw(st.booleans()):
        return draw(st.sampled_from(TIERS))
    trade = draw(
        st.one_of(st.sampled_from([0, 1, PPM - 1]), st.integers(0, 50_000), st.integers(0, PPM - 1))
    )
    protocol = draw(st.one_of(st.sampled_from([0, PPM]), st.integers(0, PPM)))
    fund = draw(st.one_of(st.just(PPM - protocol), st.integers(0, PPM - protocol)))
    return _config(trade, protocol, fund)


# Tiny, mid-sized and large reserves, drawn independently so that pools are also lopsided.
reserves = st.one_of(
    st.integers(1, 1_000),
    st.integers(1_000, 10**9),
    st.integers(10**9, 10**18),
    st.integers(10**9, 10**18),
)


@st.composite
def pool_sizes(draw: st.DrawFn) -> tuple[int, int]:
    x, y = draw(reserves), draw(reserves)
    # initialize locks 100 LP units of isqrt(x * y): below that the program refuses.
    return x, max(y, -(-10_000 // x))


def amounts(
    reserve_in: int, reserve_out: int, headroom: int, draining: bool
) -> st.SearchStrategy[int]:
    """Inputs from nothing to (when `draining`) emptying the output side; `headroom`
    keeps the input vault within a u64."""
    unit_price = reserve_in // reserve_out + 1  # about what one unit of output costs
    moderate = [
        st.integers(0, 1_000),  # hypothesis favours the ends: 0, 1 and 2 come up often
        st.integers(1, 1_000).map(lambda units: units * unit_price),
        st.integers(1, PPM // 10).map(lambda ppm: max(1, reserve_in * ppm // PPM)),
    ]
    extreme = [
        st.integers(1, 12).map(lambda digits: reserve_in * 10**digits),
        st.integers(1, max(1, headroom)),
    ]
    raw = st.one_of(*moderate, *extreme) if draining else st.one_of(*moderate)
    return raw.map(lambda amount: min(amount, headroom))


@dataclass
class Mirror:
    """Our model of one pool, with the fees the program accrues outside the curve."""

    pool: CpmmPool
    protocol: list[int]  # [X, Y]
    fund: list[int]

    def expect(self, amount_in: int, x_to_y: bool) -> int | SwapError:
        try:
            return self.pool.quote(amount_in, x_to_y, now=self.pool.open_time).amount_out
        except SwapError as error:
            return error

    def reserves(self, x_to_y: bool) -> tuple[int, int]:
        """(reserve in, reserve out) of the curve for a swap in this direction."""
        x, y = self.pool.reserve_x, self.pool.reserve_y
        return (x, y) if x_to_y else (y, x)

    def apply(self, amount_in: int, x_to_y: bool) -> None:
        reserve_in, reserve_out = self.reserves(x_to_y)
        fill = swap_base_input(amount_in, reserve_in, reserve_out, self.pool.config)
        side = 0 if x_to_y else 1
        self.protocol[side] += fill.protocol_fee
        self.fund[side] += fill.fund_fee
        self.pool.swap(amount_in, x_to_y, now=self.pool.open_time)


def _open_pool(
    program: CpmmProgram, config: AmmConfig, x: int, y: int
) -> tuple[ProgramPool, Mirror]:
    real = ProgramPool.create(program, config, x, y)
    program.set_unix_time(real.open_time)
    model = CpmmPool(info("cpmm"), x, y, config, open_time=real.open_time)
    return real, Mirror(model, [0, 0], [0, 0])


def _step(real: ProgramPool, model: Mirror, amount_in: int, x_to_y: bool, check: Check) -> None:
    expected = model.expect(amount_in, x_to_y)
    if check == "mirror":  # ProgramPool.swap against CpmmPool.swap, whole results
        try:
            got: object = real.swap(amount_in, x_to_y, now=model.pool.open_time)
        except SwapError as error:
            got = (error.name, error.code)
        if isinstance(expected, SwapError):
            assert got == (expected.name, expected.code)
        else:
            assert got == model.pool.quote(amount_in, x_to_y, now=model.pool.open_time)
            model.apply(amount_in, x_to_y)
        return
    out = 0 if isinstance(expected, SwapError) else expected
    minimum = out if check == "exact_minimum" else out + 1
    outcome = real.swap_base_input(amount_in, minimum, x_to_y)
    if isinstance(expected, SwapError):  # zero output fails before the slippage check
        assert outcome == ProgramError(expected.name, expected.code, 0)
    elif check == "one_unit_more":
        assert outcome == ProgramError("ExceededSlippage", 6005, 0)
    else:
        assert isinstance(outcome, SwapFilled)
        assert outcome.amount_out == expected
        model.apply(amount_in, x_to_y)


def _assert_same_state(real: ProgramPool, model: Mirror) -> None:
    assert real.reserves() == (model.pool.reserve_x, model.pool.reserve_y)
    fees = real.fees()
    by_token = [
        (fees.protocol_fees_token_0, fees.fund_fees_token_0),
        (fees.protocol_fees_token_1, fees.fund_fees_token_1),
    ]
    x_side, y_side = by_token if real.x_is_token_0 else by_token[::-1]
    assert (x_side, y_side) == (
        (model.protocol[0], model.fund[0]),
        (model.protocol[1], model.fund[1]),
    )


def _run_swaps(
    program: CpmmProgram,
    data: st.DataObject,
    config: AmmConfig,
    size: tuple[int, int],
    steps: int,
    draining: bool,
) -> None:
    real, model = _open_pool(program, config, *size)
    kinds: list[Check] = ["mirror", "mirror", "exact_minimum", "one_unit_more"]
    checks = st.sampled_from(kinds)
    for _ in range(steps):
        x_to_y = data.draw(st.booleans())
        vault_in = real.vaults()[0 if x_to_y else 1]
        amount_in = data.draw(amounts(*model.reserves(x_to_y), U64 - vault_in, draining))
        _step(real, model, amount_in, x_to_y, data.draw(checks))
        _assert_same_state(real, model)


@settings(ORACLE, max_examples=300)
@given(config=configs(), size=pool_sizes(), steps=st.integers(1, 12), data=st.data())
def test_random_pools_and_swaps_agree(
    program: CpmmProgram, config: AmmConfig, size: tuple[int, int], steps: int, data: st.DataObject
) -> None:
    _run_swaps(program, data, config, size, steps, draining=True)


@settings(ORACLE, max_examples=15)
@given(config=configs(), size=pool_sizes(), data=st.data())
def test_long_sequences_build_up_accrued_fees(
    program: CpmmProgram, config: AmmConfig, size: tuple[int, int], data: st.DataObject
) -> None:
    # Moderate amounts, so that the pool lives on and its accrued fees grow.
    _run_swaps(program, data, config, size, steps=120, draining=False)


@settings(ORACLE, max_examples=60)
@given(config=st.sampled_from(TIERS), delay=st.integers(1, 3_600), offset=st.integers(-5, 5))
def test_not_approved_before_open_time(
    program: CpmmProgram, config: AmmConfig, delay: int, offset: int
) -> None:
    real = ProgramPool.create(program, config, 10**12, 10**12, open_time=program.unix_time + delay)
    model = CpmmPool(info("cpmm"), 10**12, 10**12, config, open_time=real.open_time)
    now = real.open_time + offset
    try:
        expected: object = model.swap(10**6, True, now)
    except SwapError as error:
        expected = (error.name, error.code)
    try:
        got: object = real.swap(10**6, True, now)
    except SwapError as error:
        got = (error.name, error.code)
    assert got == expected
    assert (got == ("NotApproved", 6000)) == (offset < 0)
