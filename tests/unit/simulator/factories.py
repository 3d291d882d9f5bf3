"""Small pools for the swap-math tests, built by hand."""

from __future__ import annotations

from simulator.amm_v4 import AmmV4Pool
from simulator.cpmm import AmmConfig, CpmmPool
from simulator.dlmm import DlmmParams, DlmmPool
from simulator.swap import PoolInfo

MINT_X = "So11111111111111111111111111111111111111112"
MINT_Y = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


def info(kind: str) -> PoolInfo:
    venue = "meteora" if kind == "dlmm" else "raydium"
    return PoolInfo(
        address=f"pool-{kind}",
        venue=venue,
        label=kind,
        kind=kind,
        mint_x=MINT_X,
        mint_y=MINT_Y,
    )


def amm_v4(reserve_x: int, reserve_y: int) -> AmmV4Pool:
    return AmmV4Pool(info("amm_v4"), reserve_x, reserve_y)


def cpmm(reserve_x: int, reserve_y: int, config: AmmConfig) -> CpmmPool:
    return CpmmPool(info("cpmm"), reserve_x, reserve_y, config)


def dlmm(bins: dict[int, tuple[int, int]], active_id: int = 0, bin_step: int = 100) -> DlmmPool:
    return DlmmPool(info("dlmm"), DlmmParams(bin_step=bin_step), active_id, bins)
