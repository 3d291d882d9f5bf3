"""A CPMM pool that lives in the program: `CpmmPool`'s interface, executed by the program.

X is the pair's base token and Y its quote, as in `CpmmPool`; the program orders the mints
by their bytes (`token_0_mint < token_1_mint`), so X is token 0 or token 1 per pool.
`quote` simulates a swap, `swap` executes it, and both raise `SwapError` with the program's
own error; the oracle test holds them against `CpmmPool`. The ledger mode
(`SIMULATOR_LEDGER=litesvm`) runs its pools through `run_swap` (simulator.cpmm_program.
executed_pool), which also returns the pool's accounts after the swap.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address
from solders.token.state import TokenAccount

from simulator import cpmm
from simulator.cpmm_program import instructions
from simulator.cpmm_program.layout import (
    PoolAddresses,
    PoolFees,
    decode_pool_fees,
    pool_addresses,
)
from simulator.cpmm_program.outcomes import ProgramError, ProgramRefused, SwapFilled
from simulator.cpmm_program.program import CpmmProgram
from simulator.swap import PoolInfo, Swap, ceil_div


@dataclass(frozen=True, slots=True)
class SwapRun:
    """A swap the program executed (or simulated), and the pool's accounts after it."""

    amount_in: int  # what left the trader's input account
    amount_out: int
    compute_units: int
    vaults: tuple[int, int]  # (X, Y) the vaults hold afterwards, accrued fees included
    fees: PoolFees


class ProgramPool:
    """One pool's addresses, its orientation, and the operator's accounts for it."""

    def __init__(
        self,
        program: CpmmProgram,
        config: cpmm.AmmConfig,
        mints: tuple[Pubkey, Pubkey],
        info: PoolInfo | None = None,
    ) -> None:
        self.program = program
        self.config = config
        mint_x, mint_y = mints
        self.x_is_token_0 = bytes(mint_x) < bytes(mint_y)
        mint_0, mint_1 = (mint_x, mint_y) if self.x_is_token_0 else (mint_y, mint_x)
        self.addresses: PoolAddresses = pool_addresses(
            program.write_amm_config(config), mint_0, mint_1
        )
        operator = program.operator.pubkey()
        self.trader = instructions.TraderAccounts(
            operator,
            program.create_token_account(mint_0, operator),
            program.create_token_account(mint_1, operator),
        )
        self._info = info or PoolInfo(
            address=str(self.addresses.pool_state),
            venue="raydium",
            label="Raydium CPMM",
            kind="cpmm",
            mint_x=str(mint_x),
            mint_y=str(mint_y),
        )

    @classmethod
    def create(
        cls,
        program: CpmmProgram,
        config: cpmm.AmmConfig,
        reserve_x: int,
        reserve_y: int,
        open_time: int = 0,
        info: PoolInfo | None = None,
    ) -> ProgramPool:
        """Two new mints and `initialize` at the program's clock; raises `ProgramRefused`."""
        mints = (program.create_mint(), program.create_mint())
        pool = cls(program, config, mints, info)
        pool.initialize(reserve_x, reserve_y, open_time)
        return pool

    def initialize(self, reserve_x: int, reserve_y: int, open_time: int) -> None:
        """`initialize` this pool with its first reserves; raises `ProgramRefused`. The
        program opens it no sooner than the second after its clock."""
        amounts = (reserve_x, reserve_y) if self.x_is_token_0 else (reserve_y, reserve_x)
        self._fund(amounts)
        operator = self.trader.payer
        creator = instructions.CreatorAccounts(
            operator,
            self.trader.token_0,
            self.trader.token_1,
            get_associated_token_address(operator, self.addresses.lp_mint),
        )
        result = self.program.send(
            [instructions.initialize(self.addresses, creator, amounts, open_time)]
        )
        if isinstance(result, ProgramError):
            raise ProgramRefused(result)
        pool = self.addresses
        made = (pool.pool_state, pool.lp_mint, pool.vault_0, pool.vault_1, pool.observation)
        self.program.keep(*made, creator.lp_token)

    @property
    def info(self) -> PoolInfo:
        return self._info

    def _fund(self, amounts: tuple[int, int]) -> None:
        # The operator holds exactly what the next transaction spends, so its output
        # balance afterwards is what it received (and can never overflow a u64).
        operator = self.trader.payer
        for account, mint, amount in zip(
            (self.trader.token_0, self.trader.token_1),
            (self.addresses.mint_0, self.addresses.mint_1),
            amounts,
            strict=True,
        ):
            self.program.set_token_balance(account, mint, operator, amount)

    def swap_base_input(
        self, amount_in: int, minimum_amount_out: int, x_to_y: bool
    ) -> SwapFilled | ProgramError:
        """Execute `swap_base_input` at the program's clock: its output, or its error."""
        run = self.run_swap(amount_in, minimum_amount_out, x_to_y, commit=True)
        if isinstance(run, ProgramError):
            return run
        return SwapFilled(run.amount_out, run.compute_units)

    def run_swap(
        self, amount: int, limit: int, x_to_y: bool, commit: bool, exact_out: bool = False
    ) -> SwapRun | ProgramError:
        """`swap_base_input(amount, limit)`, or with `exact_out` `swap_base_output(limit,
        amount)`, at the program's clock: executed when `commit`, else simulated (nothing
        changes). The trader is funded with exactly the most it may spend."""
        zero_for_one = x_to_y == self.x_is_token_0
        funded = limit if exact_out else amount
        self._fund((funded, 0) if zero_for_one else (0, funded))
        build = instructions.swap_base_output if exact_out else instructions.swap_base_input
        arguments = (limit, amount) if exact_out else (amount, limit)
        instruction = build(self.addresses, self.trader, zero_for_one, *arguments)
        users = (self.trader.token_0, self.trader.token_1)
        payer_in, receiver = users if zero_for_one else users[::-1]
        pool = self.addresses
        watched = (payer_in, receiver, pool.vault_0, pool.vault_1, pool.pool_state)
        if commit:
            sent = self.program.send([instruction])
            if isinstance(sent, ProgramError):
                return sent
            data = [self.program.account_data(address) for address in watched]
            units = sent.compute_units
        else:
            simulated = self.program.simulate([instruction])
            if isinstance(simulated, ProgramError):
                return simulated
            after = dict(simulated.post_accounts())
            data = [bytes(after[address].data) for address in watched]
            units = simulated.meta().compute_units_consumed()
        left, received, vault_0, vault_1 = (TokenAccount.from_bytes(d).amount for d in data[:4])
        vaults = (vault_0, vault_1) if self.x_is_token_0 else (vault_1, vault_0)
        return SwapRun(funded - left, received, units, vaults, decode_pool_fees(data[4]))

    def fees(self) -> PoolFees:
        """The pool state's accrued protocol and fund fees (token 0 / token 1) and open_time."""
        return self.program.pool_fees(self.addresses.pool_state)

    def vaults(self) -> tuple[int, int]:
        """(vault of X, vault of Y): the curve's reserves plus accrued fees."""
        vault_0 = self.program.token_balance(self.addresses.vault_0)
        vault_1 = self.program.token_balance(self.addresses.vault_1)
        return (vault_0, vault_1) if self.x_is_token_0 else (vault_1, vault_0)

    def accrued(self) -> tuple[int, int]:
        """(X, Y) the vaults hold as protocol and fund fees, outside the curve."""
        return self.oriented(self.fees())

    def reserves(self) -> tuple[int, int]:
        """(X, Y) of the curve: vault minus accrued fees, as `vault_amount_without_fee`."""
        vaults, accrued = self.vaults(), self.accrued()
        return vaults[0] - accrued[0], vaults[1] - accrued[1]

    @property
    def open_time(self) -> int:
        return self.fees().open_time

    def oriented(self, fees: PoolFees) -> tuple[int, int]:
        """(X, Y) of a pool state's accrued protocol and fund fees."""
        pair = (fees.accrued_token_0, fees.accrued_token_1)
        return pair if self.x_is_token_0 else (pair[1], pair[0])

    def _fill(self, amount_in: int, x_to_y: bool, now: int, commit: bool) -> Swap:
        self.program.set_unix_time(now)
        spot = self.spot(x_to_y)
        accrued_before = sum(self.accrued())
        run = self.run_swap(amount_in, 0, x_to_y, commit)
        if isinstance(run, ProgramError):
            raise run.as_swap_error()
        # The program logs no trade fee; fees.rs rounds the config's rate up, as cpmm.py.
        trade_fee = ceil_div(amount_in * self.config.trade_fee_rate, cpmm.FEE_RATE_DENOMINATOR)
        shares = sum(self.oriented(run.fees)) - accrued_before
        return Swap(amount_in, run.amount_out, trade_fee, shares, spot)

    def quote(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        """`CpmmPool.quote`: the program's fill at `now`, simulated, the pool unchanged."""
        return self._fill(amount_in, x_to_y, now, commit=False)

    def swap(self, amount_in: int, x_to_y: bool, now: int) -> Swap:
        """`CpmmPool.swap`: the program's fill at `now`, executed; raises `SwapError`."""
        return self._fill(amount_in, x_to_y, now, commit=True)

    def spot(self, x_to_y: bool) -> Fraction:
        reserve_x, reserve_y = self.reserves()
        return Fraction(reserve_y, reserve_x) if x_to_y else Fraction(reserve_x, reserve_y)

    def fee_rate(self, now: int) -> Fraction:
        return Fraction(self.config.trade_fee_rate, cpmm.FEE_RATE_DENOMINATOR)
