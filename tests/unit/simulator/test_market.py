from fractions import Fraction

import msgspec

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.quote_api import QuoteApi


def test_prices_move_and_venues_stay_within_their_fee_band() -> None:
    sim = Simulator(SimulatorConfig(seed=3))
    start = QuoteApi(sim).tokens()
    sim.advance_slots(1_500)
    view = QuoteApi(sim).tokens()
    references = {pair.symbol: Fraction(pair.reference_price) for pair in view.pairs}
    assert references != {pair.symbol: Fraction(pair.reference_price) for pair in start.pairs}
    decimals = {token.mint: token.decimals for token in view.tokens}
    moved = False
    for pool, before in zip(view.pools, start.pools, strict=True):
        moved = moved or pool.spot_price != before.spot_price
        scale = Fraction(10 ** decimals[pool.quote_mint], 10 ** decimals[pool.base_mint])
        reference = references[pool.pair] * scale
        gap = abs(Fraction(pool.spot_price) / reference - 1)
        band = Fraction(pool.fee_rate) + Fraction(pool.bin_step or 0, 10_000)
        # Arbitrage keeps each venue about one fee band (plus a bin) from the
        # reference; noise since the last arbitrage adds a little.
        assert gap < 2 * band + Fraction(1, 200), (pool.label, pool.pair, float(gap))
    assert moved


def test_quiet_market_leaves_pools_alone() -> None:
    sim = Simulator(SimulatorConfig(seed=3, market_activity=False))
    pools = msgspec.json.encode(QuoteApi(sim).tokens().pools)
    sim.advance_slots(300)
    assert msgspec.json.encode(QuoteApi(sim).tokens().pools) == pools
