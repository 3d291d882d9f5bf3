"""A `CpmmPool` whose swaps the real program executes: the pools of `SIMULATOR_LEDGER=litesvm`.

Every swap that moves the pool (a transaction's leg, a noise trader's, an arbitrageur's)
runs in the program; quotes stay `CpmmPool`'s math, on the curve reserves and vault
balances read back from the program's accounts after each swap, so what a quote says and
what the swap does are the program's state. The oracle (tests/unit/simulator/
test_cpmm_oracle.py) proves that math equals the program's to the unit; the quote side
asks for hundreds of fills per order (ladders, splits), which the program would run at
about a thousand a second.
"""

from __future__ import annotations

from solders.pubkey import Pubkey

from simulator.cpmm import FEE_RATE_DENOMINATOR, CpmmPool
from simulator.cpmm_program.outcomes import ProgramError
from simulator.cpmm_program.pool import ProgramPool, SwapRun
from simulator.cpmm_program.program import CpmmProgram
from simulator.swap import Swap, ceil_div


class ExecutedCpmmPool(CpmmPool):
    """`CpmmPool`'s interface, its state the program's: raises `SwapError` with the
    program's own error (`ExceededSlippage` 6005, `NotApproved` 6000, ...)."""

    def __init__(self, program_pool: ProgramPool) -> None:
        reserve_x, reserve_y = program_pool.reserves()
        super().__init__(
            program_pool.info, reserve_x, reserve_y, program_pool.config, program_pool.open_time
        )
        self.program_pool = program_pool
        self.vaults.x, self.vaults.y = program_pool.vaults()
        self._accrued = program_pool.accrued()

    @classmethod
    def launch(cls, program: CpmmProgram, pool: CpmmPool) -> ExecutedCpmmPool:
        """`pool` (address, mints, fee tier, reserves) created in the program by
        `initialize`; its mints must exist there. It opens the second after the
        program's clock at the latest, as the program decides."""
        mints = (Pubkey.from_string(pool.info.mint_x), Pubkey.from_string(pool.info.mint_y))
        program_pool = ProgramPool(program, pool.config, mints, pool.info)
        program_pool.initialize(pool.reserve_x, pool.reserve_y, pool.open_time)
        return cls(program_pool)

    def fill(
        self, amount_in: int, x_to_y: bool, now: int, minimum_amount_out: int, commit: bool
    ) -> Swap:
        """`swap_base_input(amount_in, minimum_amount_out)` at unix time `now`: executed
        when `commit`, else simulated (the pool unchanged); the program checks the minimum."""
        return self._run(amount_in, minimum_amount_out, x_to_y, now, commit, exact_out=False)

    def swap(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        return self.fill(amount_in, x_to_y, now, 0, commit=True)

    def swap_exact_out(self, amount_out: int, x_to_y: bool, now: int) -> Swap:
        # The trader can spend what our math says it costs: the program refuses (6005)
        # should it want a unit more, so a disagreement cannot pass unseen.
        most = self.quote_exact_out(amount_out, x_to_y, now).amount_in
        return self._run(amount_out, most, x_to_y, now, commit=True, exact_out=True)

    def _run(
        self, amount: int, limit: int, x_to_y: bool, now: int, commit: bool, exact_out: bool
    ) -> Swap:
        self.program_pool.program.set_unix_time(now)
        spot = self.spot(x_to_y)
        run = self.program_pool.run_swap(amount, limit, x_to_y, commit, exact_out)
        if isinstance(run, ProgramError):
            raise run.as_swap_error()
        accrued = self.program_pool.oriented(run.fees)
        # The program logs no trade fee; fees.rs rounds the config's rate up, as cpmm.py.
        rate = self.config.trade_fee_rate
        trade_fee = ceil_div(run.amount_in * rate, FEE_RATE_DENOMINATOR)
        shares = sum(accrued) - sum(self._accrued)
        if commit:
            self._read_back(run, accrued)
        return Swap(run.amount_in, run.amount_out, trade_fee, shares, spot)

    def _read_back(self, run: SwapRun, accrued: tuple[int, int]) -> None:
        """The curve (vault minus accrued fees) and vaults as the program left them."""
        self._accrued = accrued
        self.vaults.x, self.vaults.y = run.vaults
        self.reserve_x = run.vaults[0] - accrued[0]
        self.reserve_y = run.vaults[1] - accrued[1]
