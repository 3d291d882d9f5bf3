"""Initial DLMM liquidity: where the active bin is, and how bins are filled."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from simulator.dlmm import DlmmPool
from simulator.dlmm_math import ONE, mul_shr, price_from_id, shl_div

Shape = Literal["spot", "curve"]
RECENTER_MARGIN = 3  # bins from the edge of the range


@dataclass(frozen=True, slots=True)
class Layout:
    """How a pool's LPs spread liquidity: bins on each side of the active one."""

    bins_each_side: int
    shape: Shape


def active_id_for(price: Fraction, bin_step: int) -> int:
    """The bin whose price range holds `price` (Y atomic per X atomic).

    A float logarithm only proposes the id; integer comparisons against the
    program's Q64.64 prices decide it, so the answer is the same on every machine.
    """
    target = price * ONE
    guess = round(math.log(price) / math.log1p(bin_step / 10_000))
    while price_from_id(guess, bin_step) > target:
        guess -= 1
    while price_from_id(guess + 1, bin_step) <= target:
        guess += 1
    return guess


def _weights(bins_each_side: int, shape: Shape) -> dict[int, int]:
    span = range(-bins_each_side, bins_each_side + 1)
    if shape == "spot":
        return dict.fromkeys(span, 1)
    # "curve": a parabola peaking on the active bin, in integers.
    edge = (bins_each_side + 1) ** 2
    return {offset: edge - offset * offset for offset in span}


def seed_bins(
    active_id: int,
    bin_step: int,
    bins_each_side: int,
    value_y: int,
    shape: Shape,
) -> dict[int, tuple[int, int]]:
    """Spread `value_y` (in Y atomic units) over the bins around `active_id`.

    Bins below the active one hold Y only, bins above hold X only, and the active
    bin holds half of its value in each.
    """
    weights = _weights(bins_each_side, shape)
    total = sum(weights.values())
    bins: dict[int, tuple[int, int]] = {}
    for offset, weight in weights.items():
        value = value_y * weight // total
        bin_id = active_id + offset
        price = price_from_id(bin_id, bin_step)
        if offset < 0:
            bins[bin_id] = (0, value)
        elif offset > 0:
            bins[bin_id] = (shl_div(value, price, round_up=False), 0)
        else:
            half = value // 2
            bins[bin_id] = (shl_div(value - half, price, round_up=False), half)
    return bins


def value_in_y(pool: DlmmPool) -> int:
    """Everything in the bins, valued in Y at each bin's own price."""
    step = pool.params.bin_step
    return sum(
        y + mul_shr(x, price_from_id(bin_id, step), round_up=False)
        for bin_id, (x, y) in pool.bins.items()
    )


def recenter_if_at_edge(pool: DlmmPool, layout: Layout) -> bool:
    """LPs move their range back around the price once it reaches the edge.

    Without this (an LP event of SIMULATOR.md §6.4) a concentrated pool goes
    one-sided after a few hours of drift and stops quoting one direction.
    """
    active = pool.active_id
    if pool.min_bin_id + RECENTER_MARGIN < active < pool.max_bin_id - RECENTER_MARGIN:
        return False
    bins = seed_bins(
        active, pool.params.bin_step, layout.bins_each_side, value_in_y(pool), layout.shape
    )
    pool.replace_bins(bins)
    return True
