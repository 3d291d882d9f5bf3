"""Routing policy: the best single pool, or the best split across pools (SIMULATOR.md §4).

The route step asks every pool of the pair for a *ladder*: its exact-in output for
`k/N` of the order's amount, k = 1..N. `choose_split` then finds the allocation of
the N steps across pools that maximises the total output (a knapsack over the grid,
exact for any output curve, concave or not). Putting all N steps on one pool is one
of the allocations it weighs, so the split is never worse than the best single pool.
The chosen legs are then re-quoted exactly; the ladder only decides the shape.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

import msgspec

from domain.errors import InvalidField
from domain.events import Quote, RouteLeg

DEFAULT_STEPS = 50  # 2 % steps: fine enough to matter, inside the venue's 64-amount ladder
# A split is looked for only when it could beat the best single pool by more than this.
SPLIT_WORTH_BPS = 1


class NoRoute(InvalidField):
    """No pool (or combination of pools) can fill the amount."""

    def __init__(self, reason: str) -> None:
        super().__init__("amountIn", reason)


class PriceImpactTooHigh(NoRoute):
    """The best route would move the price by more than the engine allows: a fat
    finger, or a pool too shallow for the amount (filling it would drain the pool)."""


def refuse_price_impact(plan: RoutePlan, max_price_impact_bps: int | None) -> None:
    """Raise `PriceImpactTooHigh` when `plan` moves the price past the guard (None: none)."""
    if max_price_impact_bps is None:
        return
    impact_bps = Decimal(plan.price_impact) * 10_000
    if impact_bps > max_price_impact_bps:
        raise PriceImpactTooHigh(
            f"the best route moves the price by {impact_bps / 100:.2f} %, above"
            f" MAX_PRICE_IMPACT_BPS ({max_price_impact_bps / 100:g} %); use a smaller amount"
        )


class VenueUnavailable(Exception):
    """The venue (the simulator's RPC and quote service) cannot be reached in time."""


class PoolLadder(msgspec.Struct, frozen=True):
    """One pool's output for each ladder amount; None where the pool cannot fill it."""

    pool: str
    venue: str
    label: str
    amounts_out: tuple[int | None, ...]


class Allocation(msgspec.Struct, frozen=True):
    """How much input one pool takes, and what the ladder expects it to give."""

    pool: str
    venue: str
    label: str
    amount_in: int
    expected_out: int


class RoutePlan(msgspec.Struct, frozen=True, kw_only=True):
    """The route the engine would take now: every pool's quote, the legs, exactly priced."""

    quotes: tuple[Quote, ...]
    legs: tuple[RouteLeg, ...]
    expected_amount_out: int
    price_impact: str
    context_slot: int

    @property
    def chosen_venue(self) -> str:
        """The venue with the largest share of the input (API.md `chosenVenue`)."""
        return max(self.legs, key=lambda leg: leg.amount_in).venue


def split_may_pay(whole: list[tuple[int | None, str]]) -> bool:
    """Whether any split could beat the best single pool by more than SPLIT_WORTH_BPS.

    `whole` holds each pool's (output, price impact) for the whole amount. Output per
    unit of input only falls as a pool takes more, so no split gives more than the
    best pool's impact-free output `out / (1 - impact)`; when that bound is within a
    basis point of the best actual output, the ladder is not worth asking for.
    """
    filled = [(out, Decimal(impact)) for out, impact in whole if out]
    if not filled:
        return True  # no pool fills it alone; only a split might
    best = max(out for out, _ in filled)
    bound = max(out / (1 - impact) if impact < 1 else Decimal(out) for out, impact in filled)
    return (bound - best) * 10_000 > best * SPLIT_WORTH_BPS


def ladder_amounts(amount_in: int, steps: int = DEFAULT_STEPS) -> list[int]:
    """The input amounts of the ladder: `amount_in * k // n` for k = 1..n, all > 0.

    n shrinks for tiny amounts so that no step is zero; the last is `amount_in`.
    """
    if amount_in <= 0:
        raise NoRoute("amountIn must be greater than 0")
    n = min(steps, amount_in)
    return [amount_in * k // n for k in range(1, n + 1)]


def choose_split(
    amount_in: int, ladders: list[PoolLadder], max_legs: int | None = None
) -> list[Allocation]:
    """The allocation of the ladder's steps that gives the most output in total, over
    at most `max_legs` pools (None: any number; a transaction holds only so many).

    Each ladder holds one output per amount of `ladder_amounts(amount_in)`. Amounts
    of the legs add up to `amount_in` exactly (rounding goes to the largest leg).
    """
    n = len(ladder_amounts(amount_in, _steps_of(ladders)))
    if max_legs is not None and max_legs < 1:
        raise NoRoute("a route needs at least one pool")
    width = len(ladders) if max_legs is None else min(max_legs, len(ladders))
    found: list[tuple[int, list[PoolLadder], list[int]]] = []
    for subset in combinations(ladders, width):  # a pair has a handful of pools
        best, picks = _knapsack(n, list(subset))
        total = best[n]
        if total is not None:
            found.append((total, list(subset), _trace(n, picks)))
    if not found:
        raise NoRoute("no pool, alone or split, has the liquidity for this amount")
    _, chosen, steps = max(found, key=lambda option: option[0])  # ties: the first
    return _allocations(amount_in, n, chosen, steps)


def _steps_of(ladders: list[PoolLadder]) -> int:
    lengths = {len(ladder.amounts_out) for ladder in ladders}
    if len(lengths) != 1:
        raise NoRoute("no pool quotes this pair" if not lengths else "ladders differ in length")
    return lengths.pop()


def _knapsack(n: int, ladders: list[PoolLadder]) -> tuple[list[int | None], list[list[int]]]:
    """best[j]: most output from j steps over the pools seen so far; picks[p][j]: the
    steps pool p takes in that optimum (ties go to fewer steps on later pools)."""
    best: list[int | None] = [0] + [None] * n
    picks: list[list[int]] = []
    for ladder in ladders:
        outs = (0, *ladder.amounts_out)
        new: list[int | None] = [None] * (n + 1)
        chosen = [0] * (n + 1)
        for j in range(n + 1):
            for k in range(j + 1):
                before, gain = best[j - k], outs[k]
                if before is None or gain is None:
                    continue
                current = new[j]
                if current is None or before + gain > current:
                    new[j], chosen[j] = before + gain, k
        best = new
        picks.append(chosen)
    return best, picks


def _trace(n: int, picks: list[list[int]]) -> list[int]:
    steps = [0] * len(picks)
    left = n
    for index in range(len(picks) - 1, -1, -1):
        steps[index] = picks[index][left]
        left -= steps[index]
    return steps


def _allocations(
    amount_in: int, n: int, ladders: list[PoolLadder], steps: list[int]
) -> list[Allocation]:
    legs = [
        Allocation(
            pool=ladder.pool,
            venue=ladder.venue,
            label=ladder.label,
            amount_in=amount_in * k // n,
            expected_out=ladder.amounts_out[k - 1] or 0,
        )
        for ladder, k in zip(ladders, steps, strict=True)
        if k > 0
    ]
    remainder = amount_in - sum(leg.amount_in for leg in legs)
    if remainder:
        largest = max(range(len(legs)), key=lambda index: legs[index].amount_in)
        bigger = legs[largest].amount_in + remainder
        legs[largest] = msgspec.structs.replace(legs[largest], amount_in=bigger)
    return legs


def best_single(ladders: list[PoolLadder]) -> int:
    """The most any one pool gives for the whole amount (0 when none can fill it)."""
    return max((ladder.amounts_out[-1] or 0 for ladder in ladders), default=0)
