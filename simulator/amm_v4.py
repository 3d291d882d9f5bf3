"""Raydium AMM v4 (legacy constant product), `swap_base_in` with exact rounding.

Source: raydium-io/raydium-amm program/src/{processor.rs, math.rs, state.rs}.
The swap fee is 25/10_000 of the input, rounded up; the output is floored.
"""

from __future__ import annotations

from fractions import Fraction

from simulator.swap import ReservePair, Swap, ceil_div

SWAP_FEE_NUMERATOR = 25
SWAP_FEE_DENOMINATOR = 10_000
PNL_NUMERATOR = 12
PNL_DENOMINATOR = 100


def swap_base_in(amount_in: int, reserve_in: int, reserve_out: int) -> tuple[int, int]:
    """Return (amount_out, fee) for an exact input, as `process_swap_base_in` does."""
    fee = ceil_div(amount_in * SWAP_FEE_NUMERATOR, SWAP_FEE_DENOMINATOR)
    amount_in_after_fee = amount_in - fee
    amount_out = reserve_out * amount_in_after_fee // (reserve_in + amount_in_after_fee)
    return amount_out, fee


def pnl_share(fee: int) -> int:
    """The protocol's 12 % of the fee.

    On chain it is taken lazily from k-growth (`calc_take_pnl`); excluding it from
    the curve reserves at swap time is the approximation SIMULATOR.md §2.1 allows.
    """
    return fee * PNL_NUMERATOR // PNL_DENOMINATOR


class AmmV4Pool(ReservePair):
    """Curve reserves of one AMM v4 pool: X = coin (base), Y = pc (quote)."""

    def quote(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        reserve_in, reserve_out = self._reserves(x_to_y)
        amount_out, fee = swap_base_in(amount_in, reserve_in, reserve_out)
        return Swap(
            amount_in=amount_in,
            amount_out=amount_out,
            fee_amount=fee,
            protocol_fee=pnl_share(fee),
            spot=Fraction(reserve_out, reserve_in),
        )

    def swap(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        result = self.quote(amount_in, x_to_y, now)
        added = amount_in - result.protocol_fee
        if x_to_y:
            self.reserve_x += added
            self.reserve_y -= result.amount_out
        else:
            self.reserve_y += added
            self.reserve_x -= result.amount_out
        self.vaults.record(result, x_to_y)
        return result

    def spot(self, x_to_y: bool) -> Fraction:
        reserve_in, reserve_out = self._reserves(x_to_y)
        return Fraction(reserve_out, reserve_in)

    def fee_rate(self, now: int) -> Fraction:
        return Fraction(SWAP_FEE_NUMERATOR, SWAP_FEE_DENOMINATOR)
