"""Meteora DLMM: liquidity in discrete bins, base plus volatility-driven fee.

The exact-in walk follows MeteoraAg/dlmm-sdk commons/src/quote.rs (`quote_exact_in`)
and extensions/bin.rs (`Bin::swap`): per visited bin the volatility accumulator is
updated, the fee is charged on the gross input, and a bin whose output side the
remaining input can drain is emptied at its rounded-up maximum input.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from simulator import dlmm_math as m
from simulator.errors import pair_insufficient_liquidity
from simulator.swap import PoolInfo, Swap, Vaults


@dataclass(frozen=True, slots=True)
class DlmmParams:
    """Static parameters (`StaticParameters`); defaults are the SDK test preset."""

    bin_step: int
    base_factor: int = 10_000
    base_fee_power_factor: int = 0
    filter_period: int = 30
    decay_period: int = 600
    reduction_factor: int = 5_000
    variable_fee_control: int = 40_000
    max_volatility_accumulator: int = 350_000
    protocol_share: int = 500  # bps of the fee


@dataclass(frozen=True, slots=True)
class Volatility:
    """Variable parameters (`VariableParameters`) of a pair."""

    accumulator: int = 0
    reference: int = 0
    index_reference: int = 0
    last_update: int = 0


@dataclass(slots=True)
class _Walk:
    swap: Swap
    active_id: int
    volatility: Volatility
    bins: dict[int, tuple[int, int]] = field(default_factory=dict)


class DlmmPool:
    """Bins `{id: (amount_x, amount_y)}` around `active_id`, X = base token."""

    def __init__(
        self,
        info: PoolInfo,
        params: DlmmParams,
        active_id: int,
        bins: dict[int, tuple[int, int]],
    ) -> None:
        self._info = info
        self.params = params
        self.active_id = active_id
        self.bins = bins
        self.volatility = Volatility(index_reference=active_id)
        self.min_bin_id = min(bins)
        self.max_bin_id = max(bins)
        self.vaults = Vaults(*_totals(bins))

    @property
    def info(self) -> PoolInfo:
        return self._info

    def replace_bins(self, bins: dict[int, tuple[int, int]]) -> None:
        """Swap in a new liquidity layout (LPs withdrawing and re-depositing)."""
        (old_x, old_y), (new_x, new_y) = _totals(self.bins), _totals(bins)
        self.vaults.x += new_x - old_x
        self.vaults.y += new_y - old_y
        self.bins = bins
        self.min_bin_id = min(bins)
        self.max_bin_id = max(bins)

    def fee_rate_at(self, volatility_accumulator: int) -> int:
        """Total fee rate in units of 1e-9, capped at 10 %."""
        p = self.params
        base = m.base_fee_rate(p.base_factor, p.bin_step, p.base_fee_power_factor)
        variable = m.variable_fee_rate(volatility_accumulator, p.bin_step, p.variable_fee_control)
        return min(base + variable, m.MAX_FEE_RATE)

    def fee_rate(self, now: int) -> Fraction:
        return Fraction(self.fee_rate_at(self.volatility.accumulator), m.FEE_PRECISION)

    def spot(self, x_to_y: bool) -> Fraction:
        price = m.price_from_id(self.active_id, self.params.bin_step)
        return Fraction(price, m.ONE) if x_to_y else Fraction(m.ONE, price)

    def references_at(self, now: int) -> Volatility:
        """`update_references`: decay the accumulator by the time since last swap."""
        p, v = self.params, self.volatility
        elapsed = now - v.last_update
        if elapsed < p.filter_period:
            return v
        reference = 0
        if elapsed < p.decay_period:
            reference = v.accumulator * p.reduction_factor // m.BASIS_POINT_MAX
        return replace(v, reference=reference, index_reference=self.active_id)

    def quote(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        return self._walk(amount_in, x_to_y, now).swap

    def swap(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        walk = self._walk(amount_in, x_to_y, now)
        self.bins.update(walk.bins)
        self.active_id = walk.active_id
        self.volatility = walk.volatility
        self.vaults.record(walk.swap, x_to_y)
        return walk.swap

    def _walk(self, amount_in: int, x_to_y: bool, now: int) -> _Walk:
        p = self.params
        volatility = self.references_at(now)
        spot = self.spot(x_to_y)
        active, left, total_out, total_fee = self.active_id, amount_in, 0, 0
        changed: dict[int, tuple[int, int]] = {}
        accumulator = volatility.accumulator
        while left > 0:
            if not self.min_bin_id <= active <= self.max_bin_id:
                raise pair_insufficient_liquidity()
            distance = abs(volatility.index_reference - active) * m.BASIS_POINT_MAX
            accumulator = min(volatility.reference + distance, p.max_volatility_accumulator)
            amounts = changed.get(active, self.bins.get(active, (0, 0)))
            amount_x, amount_y = amounts
            if (amount_y if x_to_y else amount_x) > 0:
                price = m.price_from_id(active, p.bin_step)
                rate = self.fee_rate_at(accumulator)
                used, out, fee = _fill_bin(left, amounts, price, x_to_y, rate)
                net = used - fee
                if x_to_y:
                    changed[active] = (amount_x + net, amount_y - out)
                else:
                    changed[active] = (amount_x - out, amount_y + net)
                left -= used
                total_out += out
                total_fee += fee
            if left > 0:
                active += -1 if x_to_y else 1
        swap = Swap(
            amount_in=amount_in,
            amount_out=total_out,
            fee_amount=total_fee,
            protocol_fee=total_fee * p.protocol_share // m.BASIS_POINT_MAX,
            spot=spot,
        )
        after = replace(volatility, accumulator=accumulator, last_update=now)
        return _Walk(swap, active, after, changed)


def _fill_bin(
    left: int, amounts: tuple[int, int], price: int, x_to_y: bool, rate: int
) -> tuple[int, int, int]:
    """(gross input used, output, fee) in one bin, as `Bin::swap` computes them."""
    amount_x, amount_y = amounts
    max_out = amount_y if x_to_y else amount_x
    max_in = m.max_amount_in(amount_x, amount_y, price, x_to_y)
    max_fee = m.fee_on_net(max_in, rate)
    if left > max_in + max_fee:
        return max_in + max_fee, max_out, max_fee
    fee = m.fee_on_gross(left, rate)
    amount_out = m.amount_out_of(left - fee, price, x_to_y)
    return left, min(amount_out, max_out), fee


def _totals(bins: dict[int, tuple[int, int]]) -> tuple[int, int]:
    return sum(x for x, _ in bins.values()), sum(y for _, y in bins.values())
