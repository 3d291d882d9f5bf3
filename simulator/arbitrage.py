"""How much an arbitrageur trades to pull a pool back to the reference price.

Constant product (SIMULATOR.md §6.3): with `gamma = 1 - fee` and `k = x*y`, if
`gamma*y/x > S` sell X until `x' = sqrt(gamma*k/S)`; if `y/x < gamma*S` sell Y
until `y' = sqrt(gamma*k*S)`. DLMM: drain the bins whose price is outside the fee
band around S. The size is a market heuristic; the trade itself then runs through
the exact swap functions like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import isqrt

from simulator import dlmm_math as m
from simulator.amm_v4 import AmmV4Pool
from simulator.cpmm import CpmmPool
from simulator.dlmm import DlmmPool
from simulator.swap import Pool

MAX_BINS_PER_ARBITRAGE = 200


def arbitrage_order(pool: Pool, target: Fraction, now: int) -> tuple[int, bool] | None:
    """(amount_in, x_to_y) that moves `pool` to `target` (Y atomic per X atomic)."""
    if isinstance(pool, DlmmPool):
        return _bins(pool, target)
    if isinstance(pool, AmmV4Pool | CpmmPool):
        return _constant_product(pool.reserve_x, pool.reserve_y, pool.fee_rate(now), target)
    return None


def _constant_product(x: int, y: int, fee: Fraction, target: Fraction) -> tuple[int, bool] | None:
    gamma = 1 - fee
    k = x * y
    if gamma * y > target * x:
        amount = isqrt(int(gamma * k / target)) - x
        return (amount, True) if amount > 0 else None
    if y < gamma * target * x:
        amount = isqrt(int(gamma * k * target)) - y
        return (amount, False) if amount > 0 else None
    return None


def _bins(pool: DlmmPool, target: Fraction) -> tuple[int, bool] | None:
    rate = pool.fee_rate_at(pool.volatility.accumulator)
    keep = m.FEE_PRECISION - rate
    scaled = target * m.ONE
    # Sell X while a bin pays more than S after the fee: P * (1 - f) > S.
    amount = _drain(pool, rate, True, lambda price: price * keep > scaled * m.FEE_PRECISION)
    if amount:
        return amount, True
    # Sell Y while a bin's X costs less than S with the fee: P / (1 - f) < S.
    amount = _drain(pool, rate, False, lambda price: price * m.FEE_PRECISION < scaled * keep)
    if amount:
        return amount, False
    return None


def _drain(pool: DlmmPool, rate: int, x_to_y: bool, mispriced: Callable[[int], bool]) -> int:
    """Gross input that empties the output side of every mispriced bin in the way."""
    amount = 0
    bin_id = pool.active_id
    for _ in range(MAX_BINS_PER_ARBITRAGE):
        if not pool.min_bin_id <= bin_id <= pool.max_bin_id:
            break
        price = m.price_from_id(bin_id, pool.params.bin_step)
        if not mispriced(price):
            break
        amount_x, amount_y = pool.bins.get(bin_id, (0, 0))
        if amount_y if x_to_y else amount_x:
            need = m.max_amount_in(amount_x, amount_y, price, x_to_y)
            amount += need + m.fee_on_net(need, rate)
        bin_id += -1 if x_to_y else 1
    return amount
