"""Prices that move (SIMULATOR.md §6): reference prices, noise traders, arbitrage.

Per slot the reference price of each pair takes a GBM step (plus Poisson jumps for
memecoins). In a produced block, noise traders arrive at Poisson rates with
log-normal dollar sizes, and arbitrageurs pull each pool toward the reference.
Every trade goes through the pools' own swap functions. Floats appear only in the
reference price and the sizes derived from it; swap math stays in integers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from simulator.arbitrage import arbitrage_order
from simulator.config import SimulatorConfig
from simulator.dlmm import DlmmPool
from simulator.dlmm_liquidity import recenter_if_at_edge
from simulator.errors import SwapError
from simulator.streams import stream
from simulator.swap import Pool
from simulator.universe import Listing, Pair, Token

SECONDS_PER_YEAR = 31_536_000
NOISE_MEDIAN_USD = 200.0
NOISE_SIGMA = 1.5
JUMP_SIGMA = 0.15


@dataclass(frozen=True, slots=True)
class NoiseTrade:
    pool: Pool
    amount_in: int
    x_to_y: bool


class Market:
    """Reference prices per pair and the traders who act on them."""

    def __init__(self, listings: list[Listing], config: SimulatorConfig) -> None:
        self._config = config
        self._listings = listings
        self.pairs: list[Pair] = list(dict.fromkeys(listing.pair for listing in listings))
        self.prices: dict[str, float] = {p.symbol: float(p.initial_price) for p in self.pairs}
        self._reference = stream(config.seed, "reference")
        self._noise = stream(config.seed, "noise")
        self._arbitrage = stream(config.seed, "arbitrage")
        seconds = config.slot_ms / 1000
        self._dt = seconds / SECONDS_PER_YEAR
        self._hours = seconds / 3600

    def move_reference(self) -> None:
        """One slot of GBM: `S <- S * exp(-sigma^2/2 dt + sigma sqrt(dt) Z)`."""
        for pair in self.pairs:
            sigma = pair.volatility
            step = -0.5 * sigma * sigma * self._dt
            step += sigma * math.sqrt(self._dt) * self._reference.gauss(0.0, 1.0)
            if pair.jumps_per_hour and self._reference.random() < pair.jumps_per_hour * self._hours:
                step += self._reference.gauss(0.0, JUMP_SIGMA)
            self.prices[pair.symbol] *= math.exp(step)

    def target(self, pair: Pair) -> Fraction:
        """The reference price in quote atomic units per base atomic unit."""
        return pair.atomic_price(Fraction(self.prices[pair.symbol]))

    def usd_price(self, token: Token) -> float:
        for pair in self.pairs:
            if pair.base == token:
                return self.prices[pair.symbol] * self.usd_price(pair.quote)
        return 1.0  # a quote token that is never a base: the dollar stablecoin

    def noise_trades(self) -> list[NoiseTrade]:
        """This block's noise trades, in arrival order."""
        if not self._config.market_activity:
            return []
        trades: list[NoiseTrade] = []
        rng = self._noise
        for pair in self.pairs:
            pools = [listing.pool for listing in self._listings if listing.pair == pair]
            for _ in range(poisson(rng.random, pair.trades_per_slot)):
                pool = rng.choice(pools)
                x_to_y = rng.random() < 0.5
                usd = NOISE_MEDIAN_USD * math.exp(NOISE_SIGMA * rng.gauss(0.0, 1.0))
                token = pair.base if x_to_y else pair.quote
                amount = int(usd / self.usd_price(token) * 10**token.decimals)
                if amount > 0:
                    trades.append(NoiseTrade(pool, amount, x_to_y))
        return trades

    def arbitrage(self, now: int) -> None:
        """Each pool, with probability p_arb, is traded back toward its reference."""
        if not self._config.market_activity:
            return
        for listing in self._listings:
            if self._arbitrage.random() >= self._config.p_arb:
                continue
            order = arbitrage_order(listing.pool, self.target(listing.pair), now)
            if order is None:
                continue
            try:
                listing.pool.swap(order[0], order[1], now)
            except SwapError:
                continue  # the pool ran out of range; an arbitrageur would skip it

    def move_liquidity(self) -> None:
        """DLMM LPs re-center a range the price has reached the edge of."""
        for listing in self._listings:
            if listing.layout is not None and isinstance(listing.pool, DlmmPool):
                recenter_if_at_edge(listing.pool, listing.layout)


def poisson(uniform: Callable[[], float], rate: float) -> int:
    """Knuth's Poisson draw; fine for the small per-slot rates used here."""
    limit = math.exp(-rate)
    count, product = 0, uniform()
    while product > limit:
        count += 1
        product *= uniform()
    return count
