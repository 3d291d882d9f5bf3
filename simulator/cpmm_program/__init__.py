"""The real Raydium CPMM program in LiteSVM: the oracle of `simulator.cpmm`, and the
executor a ledger mode (`SIMULATOR_LEDGER=litesvm`) runs CPMM pools in."""

from simulator.cpmm_program.outcomes import ProgramError, ProgramRefused, SwapFilled
from simulator.cpmm_program.pool import ProgramPool
from simulator.cpmm_program.program import CpmmProgram
from simulator.cpmm_program.vendored import ProgramFileMismatch

__all__ = [
    "CpmmProgram",
    "ProgramError",
    "ProgramFileMismatch",
    "ProgramPool",
    "ProgramRefused",
    "SwapFilled",
]
