"""New pools on the chain (SIMULATOR.md §8, §12): what a launch is, when one happens,
and what happens to a pool after it opens.

A launch is a new Raydium CPMM pool pairing a new token with SOL or USDC, opening a few
slots after its creation (`open_time`: before it the program refuses every swap with
`NotApproved`). Its properties are the ones real sniper bots filter on: whether the mint
authority is renounced, whether the token is freezable, how much of the LP is burned,
the largest holder's share. Launches come from `simulator_launchPool` or, at
`launches_per_hour`, from the seeded `launches` stream, with seeded properties; a seeded
crowd of competing snipers (Poisson 3-10 buys over the first 1-3 slots after the open,
ordered by priority fee) buys each one, and some are rugged a few slots after opening
(their liquidity removed). Keys come from their own stream (`launch_keys`), the crowd
from `crowd`, so a launch asked for by a test never shifts the schedule's draws.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import msgspec

from simulator.config import FEE_P75, SimulatorConfig
from simulator.cpmm import CpmmPool
from simulator.errors import SwapError
from simulator.market import poisson
from simulator.streams import stream

SLOTS_PER_HOUR_AT_400_MS = 9_000
MAX_OPEN_IN_SLOTS = 1_000
CROWD_RATE = (3.0, 10.0)  # the crowd's Poisson rate is drawn from this range
CROWD_SLOTS = (1, 3)  # the crowd buys over this many slots from the open
CROWD_BUY_SHARE = 0.015  # median crowd buy, as a share of the pool's quote reserve
P_RUG = 0.1


class LaunchSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to launch, amounts in atomic units (the journal keeps launches in this form)."""

    quote_mint: str
    quote_reserve: int
    base_reserve: int
    base_decimals: int = 6
    open_in_slots: int = 2
    creator: str | None = None
    mint_renounced: bool = True
    freezable: bool = False
    lp_burned_pct: int = 100
    top_holder_pct: int = 12
    rug_after_slots: int | None = None  # slots after the open at which LPs pull out
    crowd: bool = True


class Launch(msgspec.Struct, frozen=True, kw_only=True):
    """A launched pool, as `simulator_launchPool` answers and the creation log tells."""

    pool: str
    base_mint: str
    quote_mint: str
    creator: str
    slot: int
    open_slot: int  # the first slot whose clock reads >= open_time
    open_time: int
    signature: str
    spec: LaunchSpec


@dataclass(frozen=True, slots=True)
class CrowdBuy:
    """One competing sniper's buy: `amount_in` of the quote token in `slot`'s block."""

    slot: int
    compute_unit_price: int
    pool: CpmmPool
    amount_in: int


class Crowd:
    """The competing snipers' buys still to come, and the rugs still to happen."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._rng = stream(config.seed, "crowd")
        self.buys: list[CrowdBuy] = []
        self.rugs: list[tuple[int, CpmmPool]] = []

    def arrive(self, pool: CpmmPool, spec: LaunchSpec, open_slot: int) -> None:
        """Draw the crowd of a pool opening at `open_slot`, and its rug if it has one."""
        if spec.rug_after_slots is not None:
            self.rugs.append((open_slot + spec.rug_after_slots, pool))
        if not spec.crowd:
            return
        rng = self._rng
        count = poisson(rng.random, rng.uniform(*CROWD_RATE))
        depth = rng.randint(*CROWD_SLOTS)
        p75 = FEE_P75[self._config.congestion]
        for _ in range(count):
            share = min(0.1, CROWD_BUY_SHARE * math.exp(0.7 * rng.gauss(0.0, 1.0)))
            self.buys.append(
                CrowdBuy(
                    slot=open_slot + rng.randrange(depth),
                    compute_unit_price=int(p75 * math.exp(rng.gauss(0.0, 1.0))),
                    pool=pool,
                    amount_in=max(1, int(pool.reserve_y * share)),
                )
            )

    def due(self, slot: int) -> list[CrowdBuy]:
        """This block's crowd buys, highest fee first; a buy whose slot was skipped
        lands in the next block."""
        due = [buy for buy in self.buys if buy.slot <= slot]
        self.buys = [buy for buy in self.buys if buy.slot > slot]
        return sorted(due, key=lambda buy: -buy.compute_unit_price)

    def pull_liquidity(self, slot: int) -> None:
        """Rugs due by `slot`: LPs withdraw everything, so every later swap finds nothing."""
        for rug_slot, pool in [rug for rug in self.rugs if rug[0] <= slot]:
            pool.reserve_x = pool.reserve_y = 0
            pool.vaults.x = pool.vaults.y = 0
            self.rugs.remove((rug_slot, pool))


def buy(crowd_buy: CrowdBuy, now: int) -> None:
    """A crowd sniper's buy; one the pool refuses (not open, rugged) does not happen."""
    try:
        crowd_buy.pool.swap(crowd_buy.amount_in, False, now)
    except SwapError:
        return


class Schedule:
    """Launches on their own: a seeded Bernoulli draw per produced block."""

    def __init__(self, config: SimulatorConfig, quote_mints: tuple[str, str]) -> None:
        self._rng = stream(config.seed, "launches")
        self._chance = config.launches_per_hour * config.slot_ms / 3_600_000
        self._quote_mints = quote_mints  # (SOL, USDC)

    def draw(self) -> LaunchSpec | None:
        """This block's launch, if any, with its seeded properties."""
        if self._chance <= 0 or self._rng.random() >= self._chance:
            return None
        return seeded_spec(self._rng, self._quote_mints)


def seeded_spec(rng: random.Random, quote_mints: tuple[str, str]) -> LaunchSpec:
    """A launch as they come: mostly SOL pools of tens of SOL, a fifth in USDC; most
    renounce the mint, some stay freezable, some keep their LP, a tenth rug."""
    in_sol = rng.random() < 0.8
    value_sol = 60 * math.exp(0.8 * rng.gauss(0.0, 1.0))
    quote_reserve = int(value_sol * 10**9) if in_sol else int(value_sol * 150 * 10**6)
    rugged = rng.random() < P_RUG
    rug_after = rng.randint(3, 30)
    lp_burned = 100 if rng.random() < 0.7 else rng.randint(0, 90)
    return LaunchSpec(
        quote_mint=quote_mints[0] if in_sol else quote_mints[1],
        quote_reserve=max(1, quote_reserve),
        base_reserve=rng.randint(200, 1_000) * 10**6 * 10**6,
        base_decimals=6,
        open_in_slots=rng.randint(0, 5),
        mint_renounced=rng.random() < 0.8,
        freezable=rng.random() < 0.15,
        lp_burned_pct=lp_burned,
        top_holder_pct=rng.randint(3, 60),
        rug_after_slots=rug_after if rugged else None,
    )
