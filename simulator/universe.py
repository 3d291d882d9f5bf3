"""The default universe (SIMULATOR.md §9): four tokens, three pairs, seven pools.

Pool addresses come from the seeded `pools` stream; everything else is fixed, so a
seed always yields the same universe.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from simulator.amm_v4 import AmmV4Pool
from simulator.base58 import b58encode
from simulator.cpmm import CONFIG_025, CONFIG_1, CpmmPool
from simulator.dlmm import DlmmParams, DlmmPool
from simulator.dlmm_liquidity import Layout, active_id_for, seed_bins
from simulator.streams import pubkey, stream
from simulator.swap import Pool, PoolInfo


@dataclass(frozen=True, slots=True)
class Token:
    symbol: str
    decimals: int
    mint: str


SOL = Token("SOL", 9, "So11111111111111111111111111111111111111112")
USDC = Token("USDC", 6, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
MEME = Token("MEME", 6, "HxziKmD9MgKRvsjfDtBjq8sTcr2gBYv41EbhGj7s45dr")
JUP = Token("JUP", 6, "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN")
TOKENS = (SOL, USDC, MEME, JUP)


@dataclass(frozen=True, slots=True)
class Pair:
    """A traded pair; prices are in quote tokens per base token (UI units)."""

    base: Token
    quote: Token
    initial_price: Fraction
    volatility: float  # annual sigma of the reference price
    jumps_per_hour: float  # Poisson jumps of the reference price (memecoins)
    trades_per_slot: float  # noise-trader arrival rate

    @property
    def symbol(self) -> str:
        return f"{self.base.symbol}/{self.quote.symbol}"

    def atomic_price(self, price: Fraction) -> Fraction:
        """Quote atomic units per base atomic unit for a UI price."""
        return price * Fraction(10**self.quote.decimals, 10**self.base.decimals)


SOL_USDC = Pair(SOL, USDC, Fraction(150), 0.8, 0.0, 0.5)
MEME_SOL = Pair(MEME, SOL, Fraction(4, 1_000_000), 5.0, 1.0, 0.3)
JUP_USDC = Pair(JUP, USDC, Fraction(1, 2), 1.2, 0.0, 0.3)
PAIRS = (SOL_USDC, MEME_SOL, JUP_USDC)


@dataclass(slots=True)
class Listing:
    """A pool with the pair it trades, and for DLMM how its LPs lay out liquidity."""

    pair: Pair
    pool: Pool
    layout: Layout | None = None


def _info(rng: random.Random, pair: Pair, kind: str) -> PoolInfo:
    venue, label = {
        "amm_v4": ("raydium", "Raydium AMM v4"),
        "cpmm": ("raydium", "Raydium CPMM"),
        "dlmm": ("meteora", "Meteora DLMM"),
    }[kind]
    return PoolInfo(
        address=b58encode(pubkey(rng)),
        venue=venue,
        label=label,
        kind=kind,
        mint_x=pair.base.mint,
        mint_y=pair.quote.mint,
    )


def _units(token: Token, amount: int) -> int:
    return amount * int(10**token.decimals)


def _dlmm(rng: random.Random, pair: Pair, bin_step: int, layout: Layout, value: int) -> Listing:
    active = active_id_for(pair.atomic_price(pair.initial_price), bin_step)
    bins = seed_bins(
        active, bin_step, layout.bins_each_side, _units(pair.quote, value), layout.shape
    )
    pool = DlmmPool(_info(rng, pair, "dlmm"), DlmmParams(bin_step=bin_step), active, bins)
    return Listing(pair, pool, layout)


def default_listings(seed: int) -> list[Listing]:
    """The §9 pools, in a fixed order, with addresses drawn from `seed`."""
    rng = stream(seed, "pools")
    sol, usdc, meme, jup = SOL, USDC, MEME, JUP
    return [
        Listing(
            SOL_USDC,
            AmmV4Pool(
                _info(rng, SOL_USDC, "amm_v4"),
                _units(sol, 40_000),
                _units(usdc, 6_000_000),
            ),
        ),
        Listing(
            SOL_USDC,
            CpmmPool(
                _info(rng, SOL_USDC, "cpmm"),
                _units(sol, 10_000),
                _units(usdc, 1_500_000),
                CONFIG_025,
            ),
        ),
        _dlmm(rng, SOL_USDC, 4, Layout(69, "spot"), 3_000_000),
        Listing(
            MEME_SOL,
            CpmmPool(
                _info(rng, MEME_SOL, "cpmm"),
                _units(meme, 200_000_000),
                _units(sol, 800),
                CONFIG_1,
            ),
        ),
        _dlmm(rng, MEME_SOL, 100, Layout(34, "curve"), 1_600),
        Listing(
            JUP_USDC,
            CpmmPool(
                _info(rng, JUP_USDC, "cpmm"),
                _units(jup, 2_000_000),
                _units(usdc, 1_000_000),
                CONFIG_025,
            ),
        ),
        _dlmm(rng, JUP_USDC, 20, Layout(50, "spot"), 1_000_000),
    ]
