"""Raydium CPMM (CP-Swap): constant product with configurable fee tiers.

Source: raydium-io/raydium-cp-swap programs/cp-swap/src/curve/{calculator.rs,
fees.rs, constant_product.rs} and instructions/swap_base_{input,output}.rs.
The trade fee is rounded up; protocol and fund shares of it are floored and leave
the curve reserves; outputs are floored, exact-out inputs are rounded up.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from simulator.errors import not_approved, zero_output, zero_trading_tokens
from simulator.swap import PoolInfo, ReservePair, Swap, ceil_div

FEE_RATE_DENOMINATOR = 1_000_000


@dataclass(frozen=True, slots=True)
class AmmConfig:
    """A CPMM fee tier (`AmmConfig` account); rates are parts per million."""

    index: int
    trade_fee_rate: int
    protocol_fee_rate: int = 120_000  # 12 % of the trade fee
    fund_fee_rate: int = 40_000  # 4 % of the trade fee


CONFIG_025 = AmmConfig(index=0, trade_fee_rate=2_500)
CONFIG_1 = AmmConfig(index=1, trade_fee_rate=10_000)


@dataclass(frozen=True, slots=True)
class CpmmFill:
    amount_in: int
    amount_out: int
    trade_fee: int
    protocol_fee: int
    fund_fee: int


def _fill(amount_in: int, amount_out: int, trade_fee: int, config: AmmConfig) -> CpmmFill:
    protocol = trade_fee * config.protocol_fee_rate // FEE_RATE_DENOMINATOR
    fund = trade_fee * config.fund_fee_rate // FEE_RATE_DENOMINATOR
    return CpmmFill(amount_in, amount_out, trade_fee, protocol, fund)


def swap_base_input(
    amount_in: int, reserve_in: int, reserve_out: int, config: AmmConfig
) -> CpmmFill:
    """Exact input: `out = floor(dx * y / (x + dx))` with `dx = in - ceil(fee)`."""
    trade_fee = ceil_div(amount_in * config.trade_fee_rate, FEE_RATE_DENOMINATOR)
    dx = amount_in - trade_fee
    amount_out = dx * reserve_out // (reserve_in + dx)
    return _fill(amount_in, amount_out, trade_fee, config)


def swap_base_output(
    amount_out: int, reserve_in: int, reserve_out: int, config: AmmConfig
) -> CpmmFill:
    """Exact output: `dx = ceil(x * out / (y - out))`, gross-up rounded up."""
    if not 0 < amount_out < reserve_out:
        raise zero_trading_tokens()
    dx = ceil_div(reserve_in * amount_out, reserve_out - amount_out)
    rate = config.trade_fee_rate
    amount_in = ceil_div(dx * FEE_RATE_DENOMINATOR, FEE_RATE_DENOMINATOR - rate)
    trade_fee = ceil_div(amount_in * rate, FEE_RATE_DENOMINATOR)
    return _fill(amount_in, amount_out, trade_fee, config)


class CpmmPool(ReservePair):
    """Curve reserves (vaults minus accrued fees) of one CPMM pool, X = base."""

    def __init__(
        self,
        info: PoolInfo,
        reserve_x: int,
        reserve_y: int,
        config: AmmConfig,
        open_time: int = 0,
    ) -> None:
        super().__init__(info, reserve_x, reserve_y)
        self.config = config
        self.open_time = open_time

    def _check_open(self, now: int) -> None:
        # swap_base_input.rs refuses `block_timestamp < open_time`: the pool is open from
        # the second of open_time on (the program in LiteSVM agrees, test_cpmm_oracle.py).
        if now < self.open_time:
            raise not_approved(self.open_time)

    def _as_swap(self, fill: CpmmFill, x_to_y: bool) -> Swap:
        return Swap(
            amount_in=fill.amount_in,
            amount_out=fill.amount_out,
            fee_amount=fill.trade_fee,
            protocol_fee=fill.protocol_fee + fill.fund_fee,
            spot=self.spot(x_to_y),
        )

    def _fill_exact_in(self, amount_in: int, x_to_y: bool, now: int) -> CpmmFill:
        self._check_open(now)
        fill = swap_base_input(amount_in, *self._reserves(x_to_y), self.config)
        if fill.amount_out == 0:
            # `require_gt!(amount_received, 0)`, an Anchor error, not ZeroTradingTokens.
            raise zero_output()
        return fill

    def quote(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        return self._as_swap(self._fill_exact_in(amount_in, x_to_y, now), x_to_y)

    def quote_exact_out(self, amount_out: int, x_to_y: bool, now: int) -> Swap:
        """Exact-output fill (`swap_base_output`) without changing the pool."""
        self._check_open(now)
        fill = swap_base_output(amount_out, *self._reserves(x_to_y), self.config)
        return self._as_swap(fill, x_to_y)

    def swap(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        fill = self._fill_exact_in(amount_in, x_to_y, now)
        result = self._as_swap(fill, x_to_y)
        self._apply(fill, x_to_y)
        self.vaults.record(result, x_to_y)
        return result

    def swap_exact_out(self, amount_out: int, x_to_y: bool, now: int) -> Swap:
        self._check_open(now)
        fill = swap_base_output(amount_out, *self._reserves(x_to_y), self.config)
        result = self._as_swap(fill, x_to_y)
        self._apply(fill, x_to_y)
        self.vaults.record(result, x_to_y)
        return result

    def _apply(self, fill: CpmmFill, x_to_y: bool) -> None:
        added = fill.amount_in - fill.protocol_fee - fill.fund_fee
        if x_to_y:
            self.reserve_x += added
            self.reserve_y -= fill.amount_out
        else:
            self.reserve_y += added
            self.reserve_x -= fill.amount_out

    def spot(self, x_to_y: bool) -> Fraction:
        reserve_in, reserve_out = self._reserves(x_to_y)
        if reserve_in == 0:
            return Fraction(0)  # drained (a rug): nothing to trade against, no price
        return Fraction(reserve_out, reserve_in)

    def fee_rate(self, now: int) -> Fraction:
        return Fraction(self.config.trade_fee_rate, FEE_RATE_DENOMINATOR)
