"""Meteora DLMM fixed-point math: Q64.64 bin prices and the fee rates.

Source: MeteoraAg/dlmm-sdk commons/src/math/{u64x64_math.rs, price_math.rs},
extensions/{bin.rs, lb_pair.rs}, constants.rs. The price of a bin is computed with
the program's own square-and-multiply in Q64.64, so its rounding is the chain's.
"""

from __future__ import annotations

from functools import lru_cache

from simulator.swap import ceil_div

SCALE_OFFSET = 64
ONE = 1 << SCALE_OFFSET
U128_MAX = (1 << 128) - 1
BASIS_POINT_MAX = 10_000
FEE_PRECISION = 1_000_000_000
MAX_FEE_RATE = 100_000_000  # 10 %
MAX_EXPONENTIAL = 0x80000


def pow_q64(base: int, exp: int) -> int:
    """`base ** exp` in Q64.64, exactly as `u64x64_math::pow` rounds it."""
    if exp == 0:
        return ONE
    invert = exp < 0
    magnitude = abs(exp)
    if magnitude >= MAX_EXPONENTIAL:
        raise ValueError(f"bin exponent {exp} out of range")
    squared = base
    result = ONE
    # Work with 1/base when base >= 1 so every product keeps its upper bits zero.
    if squared >= result:
        squared = U128_MAX // squared
        invert = not invert
    for bit in range(19):
        if magnitude & (1 << bit):
            result = (result * squared) >> SCALE_OFFSET
        squared = (squared * squared) >> SCALE_OFFSET
    if result == 0:
        raise ValueError(f"bin exponent {exp} underflows")
    return U128_MAX // result if invert else result


@lru_cache(maxsize=1 << 16)
def price_from_id(bin_id: int, bin_step: int) -> int:
    """Q64.64 price (Y atomic per X atomic) of a bin: `(1 + bin_step/10_000)^id`."""
    bps = (bin_step << SCALE_OFFSET) // BASIS_POINT_MAX
    return pow_q64(ONE + bps, bin_id)


def mul_shr(x: int, y: int, round_up: bool) -> int:
    """`x * y >> 64`, rounded as asked (`safe_mul_shr_cast`)."""
    product = x * y
    result = product >> SCALE_OFFSET
    if round_up and product & (ONE - 1):
        result += 1
    return result


def shl_div(x: int, y: int, round_up: bool) -> int:
    """`(x << 64) / y`, rounded as asked (`safe_shl_div_cast`)."""
    numerator = x << SCALE_OFFSET
    return ceil_div(numerator, y) if round_up else numerator // y


def amount_out_of(amount_in: int, price: int, x_to_y: bool) -> int:
    """Output of a net input at one bin's price, rounded down (`get_amount_out`)."""
    if x_to_y:
        return mul_shr(amount_in, price, round_up=False)
    return shl_div(amount_in, price, round_up=False)


def max_amount_in(amount_x: int, amount_y: int, price: int, x_to_y: bool) -> int:
    """Net input that drains the bin's output side, rounded up."""
    if x_to_y:
        return shl_div(amount_y, price, round_up=True)
    return mul_shr(amount_x, price, round_up=True)


def base_fee_rate(base_factor: int, bin_step: int, power_factor: int) -> int:
    return base_factor * bin_step * 10 * int(10**power_factor)


def variable_fee_rate(volatility_accumulator: int, bin_step: int, variable_fee_control: int) -> int:
    """`ceil(vfc * (va * bin_step)^2 / 1e11)`."""
    square = (volatility_accumulator * bin_step) ** 2
    return ceil_div(variable_fee_control * square, 100_000_000_000)


def fee_on_gross(amount_with_fees: int, fee_rate: int) -> int:
    """Fee included in a gross amount (`compute_fee_from_amount`), rounded up."""
    return ceil_div(amount_with_fees * fee_rate, FEE_PRECISION)


def fee_on_net(amount: int, fee_rate: int) -> int:
    """Fee to add on top of a net amount (`compute_fee`), rounded up."""
    return ceil_div(amount * fee_rate, FEE_PRECISION - fee_rate)
