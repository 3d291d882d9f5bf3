"""What a venue's swap returns, and the interface every pool offers.

All amounts are integers of atomic units. `Fraction` is used only where the result
is a ratio (spot price, price impact); nothing here touches a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import msgspec


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer division rounded up, for non-negative operands."""
    return -(-numerator // denominator)


class PoolInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Identity of a pool: X is the pair's base token, Y its quote token."""

    address: str
    venue: str  # "raydium" | "meteora"
    label: str  # "Raydium AMM v4" | "Raydium CPMM" | "Meteora DLMM"
    kind: str  # "amm_v4" | "cpmm" | "dlmm"
    mint_x: str
    mint_y: str


@dataclass(frozen=True, slots=True)
class Swap:
    """One exact-in (or exact-out) fill against a pool state."""

    amount_in: int
    amount_out: int
    fee_amount: int  # in input-token units, included in amount_in
    protocol_fee: int
    spot: Fraction  # output per unit of input, before the trade and ex fee

    @property
    def price_impact(self) -> Fraction:
        """`1 - out / (in_after_fee * spot)` (SIMULATOR.md §3), never negative."""
        ideal = (self.amount_in - self.fee_amount) * self.spot
        if ideal <= 0:
            return Fraction(0)
        return max(Fraction(0), 1 - self.amount_out / ideal)


class Pool(Protocol):
    """What quoting, execution and the market need from any venue."""

    @property
    def info(self) -> PoolInfo: ...

    @property
    def vaults(self) -> Vaults: ...

    def quote(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        """Exact-in fill at the current state, without changing it."""
        ...

    def swap(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        """Exact-in fill that mutates the pool; raises SwapError like `quote`."""
        ...

    def spot(self, x_to_y: bool) -> Fraction:
        """Marginal output per unit input, ex fee."""
        ...

    def fee_rate(self, now: int) -> Fraction:
        """The fraction of the input taken as fee by a small swap now."""
        ...


def format_fraction(value: Fraction, places: int = 12) -> str:
    """Decimal string rounded half-up to `places`, trailing zeros dropped."""
    # In integers: Fraction arithmetic normalises (a gcd) after every operation, and
    # quotes format a price impact per pool and rung.
    numerator, denominator = value.numerator, value.denominator
    sign = "-" if numerator < 0 else ""
    scaled = (abs(numerator) * 10**places * 2 + denominator) // (2 * denominator)
    whole, frac = divmod(scaled, 10**places)
    digits = str(frac).rjust(places, "0").rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


class Vaults:
    """A pool's two token vaults: what it holds, fees not yet withdrawn included.

    Every token a swap pays goes into the input vault and its output leaves the output
    vault, so a transaction's vault balance changes are its fills, as a client reads
    them from `preTokenBalances` and `postTokenBalances`.
    """

    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y

    def record(self, fill: Swap, x_to_y: bool) -> None:
        if x_to_y:
            self.x += fill.amount_in
            self.y -= fill.amount_out
        else:
            self.y += fill.amount_in
            self.x -= fill.amount_out


class ReservePair:
    """The two curve reserves of a constant-product pool: X = base, Y = quote."""

    def __init__(self, info: PoolInfo, reserve_x: int, reserve_y: int) -> None:
        self._info = info
        self.reserve_x = reserve_x
        self.reserve_y = reserve_y
        self.vaults = Vaults(reserve_x, reserve_y)

    @property
    def info(self) -> PoolInfo:
        return self._info

    def _reserves(self, x_to_y: bool) -> tuple[int, int]:
        """(reserve in, reserve out) for a swap in this direction."""
        if x_to_y:
            return self.reserve_x, self.reserve_y
        return self.reserve_y, self.reserve_x
