"""CPMM swaps per second through the real program in LiteSVM, beside our Python math
(`simulator/cpmm.py`) on the same swaps in the same run: what a ledger mode that executes
CPMM pools in the program would cost.

    .venv/bin/python -m bench.cpmm_program --swaps 5000 --rounds 5

Each round makes a fresh pool (10,000 SOL / 1,500,000 USDC at 0.25 %) and runs the same
seeded swaps on it: alternating directions, 0.001 %-1 % of the input reserve. Three ways:
`swap_base_input` (the executor: build, sign, send, read the output), `ProgramPool.swap`
(the `CpmmPool.swap` mirror, which also reads the reserves and fees around each swap), and
`CpmmPool.swap`. Each prints the median of the rounds' rates.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import msgspec

from bench.command import run_benchmark
from bench.measures import Distribution, Figure, Throughput, ratio
from simulator.cpmm import CONFIG_025, CpmmPool
from simulator.cpmm_program import CpmmProgram, ProgramError, ProgramPool
from simulator.swap import PoolInfo

RESERVE_X, RESERVE_Y = 10_000 * 10**9, 1_500_000 * 10**6  # SOL lamports, USDC micro-units
INFO = PoolInfo(address="bench", venue="raydium", label="Raydium CPMM", kind="cpmm",
                mint_x="SOL", mint_y="USDC")  # fmt: skip


def _swaps(count: int, seed: int) -> list[tuple[int, bool]]:
    draw = random.Random(f"{seed}:cpmm-bench")
    swaps = []
    for index in range(count):
        x_to_y = index % 2 == 0
        reserve_in = RESERVE_X if x_to_y else RESERVE_Y
        swaps.append((reserve_in * draw.randint(10, 10_000) // 1_000_000, x_to_y))
    return swaps


def _program_pool(program: CpmmProgram) -> ProgramPool:
    pool = ProgramPool.create(program, CONFIG_025, RESERVE_X, RESERVE_Y)
    program.set_unix_time(pool.open_time)
    return pool


COMPUTE_UNITS: list[int] = []


def _executor(program: CpmmProgram, swaps: list[tuple[int, bool]]) -> float:
    pool = _program_pool(program)
    started = time.perf_counter()
    for amount_in, x_to_y in swaps:
        filled = pool.swap_base_input(amount_in, 0, x_to_y)
        if isinstance(filled, ProgramError):
            raise SystemExit(f"the program refused a benchmark swap of {amount_in}: {filled}")
        COMPUTE_UNITS.append(filled.compute_units)
    return len(swaps) / (time.perf_counter() - started)


def _mirror(program: CpmmProgram, swaps: list[tuple[int, bool]]) -> float:
    pool = _program_pool(program)
    now = pool.open_time
    started = time.perf_counter()
    for amount_in, x_to_y in swaps:
        pool.swap(amount_in, x_to_y, now)
    return len(swaps) / (time.perf_counter() - started)


def _math(_: CpmmProgram, swaps: list[tuple[int, bool]]) -> float:
    pool = CpmmPool(INFO, RESERVE_X, RESERVE_Y, CONFIG_025)
    started = time.perf_counter()
    for amount_in, x_to_y in swaps:
        pool.swap(amount_in, x_to_y, 1)
    return len(swaps) / (time.perf_counter() - started)


WORKLOAD = (
    "{swaps:,} swaps per round, {rounds} rounds, one fresh 10,000 SOL / 1,500,000 USDC pool"
    " at 0.25 % per round, alternating directions, 0.001-1 % of the input reserve"
)
WAYS: list[tuple[str, Callable[[CpmmProgram, list[tuple[int, bool]]], float]]] = [
    ("program, swap_base_input (executor)", _executor),
    ("program, ProgramPool.swap (CpmmPool mirror)", _mirror),
    ("python math, CpmmPool.swap", _math),
]
MATH = WAYS[-1][0]


class Way(msgspec.Struct, frozen=True):
    name: str
    rounds: list[float]  # swaps/s of each round

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)


class CpmmProgramResult(msgspec.Struct, frozen=True):
    swaps: int
    rounds: int
    ways: list[Way]
    compute_units_median: float

    @property
    def workload(self) -> str:
        return WORKLOAD.format(swaps=self.swaps, rounds=self.rounds)

    def figures(self) -> list[Figure]:
        math = next(way for way in self.ways if way.name == MATH).median
        base = f"our Python math (CpmmPool.swap): {math:,.0f} swaps/s"
        return [
            Figure("cpmm_program", f"{way.name} swaps/s", f"{way.median:,.0f}", self.workload,
                   base, ratio(way.median, math))
            for way in self.ways
            if way.name != MATH
        ]  # fmt: skip

    def latencies(self) -> dict[str, Distribution]:
        return {}

    def throughput(self) -> list[Throughput]:
        return []


def run(args: argparse.Namespace) -> CpmmProgramResult:
    swaps = _swaps(args.swaps, args.seed)
    program = CpmmProgram()
    ways = [Way(name, [way(program, swaps) for _ in range(args.rounds)]) for name, way in WAYS]
    return CpmmProgramResult(args.swaps, args.rounds, ways, statistics.median(COMPUTE_UNITS))


def show(result: CpmmProgramResult) -> None:
    print(f"workload: {result.workload}; one LiteSVM, one process")
    for way in result.ways:
        spread = f"{min(way.rounds):,.0f}-{max(way.rounds):,.0f}"
        print(f"{way.name}: {way.median:,.0f} swaps/s (median of {result.rounds}; {spread})")
    math = next(way for way in result.ways if way.name == MATH).median
    executor = result.ways[0].median
    print(f"program executor / python math: {100 * executor / math:.1f} %")
    print(f"compute units per swap_base_input: median {result.compute_units_median:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swaps", type=int, default=5_000, help="swaps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
