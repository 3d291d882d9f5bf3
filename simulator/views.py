"""Read-only views of the universe for `GET /tokens`."""

from __future__ import annotations

from simulator.amm_v4 import AmmV4Pool
from simulator.catalog import Catalog
from simulator.cpmm import CpmmPool
from simulator.dlmm import DlmmPool
from simulator.market import Market
from simulator.quote_shapes import PairView, PoolView, TokenView, UniverseView
from simulator.swap import format_fraction
from simulator.universe import Listing


def pool_view(listing: Listing, now: int) -> PoolView:
    pool = listing.pool
    view = PoolView(
        address=pool.info.address,
        venue=pool.info.venue,
        label=pool.info.label,
        kind=pool.info.kind,
        pair=listing.pair.symbol,
        base_mint=pool.info.mint_x,
        quote_mint=pool.info.mint_y,
        fee_rate=format_fraction(pool.fee_rate(now)),
        spot_price=format_fraction(pool.spot(True), places=18),
    )
    if isinstance(pool, AmmV4Pool | CpmmPool):
        view.reserve_base = str(pool.reserve_x)
        view.reserve_quote = str(pool.reserve_y)
    if isinstance(pool, DlmmPool):
        view.bin_step = pool.params.bin_step
        view.active_id = pool.active_id
    return view


def universe_view(catalog: Catalog, market: Market, slot: int, now: int) -> UniverseView:
    """Tokens, pairs (with reference prices) and pools with their live state."""
    pairs = [
        PairView(
            symbol=pair.symbol,
            base_mint=pair.base.mint,
            quote_mint=pair.quote.mint,
            reference_price=f"{market.prices[pair.symbol]:.12g}",
            pools=[listing.pool.info.address for listing in catalog.pools_of(pair)],
        )
        for pair in market.pairs
    ]
    return UniverseView(
        tokens=[
            TokenView(symbol=t.symbol, mint=t.mint, decimals=t.decimals) for t in catalog.tokens
        ],
        pairs=pairs,
        pools=[pool_view(listing, now) for listing in catalog.listings],
        context_slot=slot,
    )
