"""Running a transaction: every swap instruction in order, atomically, or none.

Legs run on distinct pools, so each is priced against the state the transaction found;
only when every instruction passes (the wallet holds the input, the pool fills it, the
output meets the instruction's minimum) do the pools and balances change. A failure
charges the fee and changes nothing else, as on Solana. `simulate` is the same run
without any change: preflight and `simulateTransaction`.

A CPMM pool of `SIMULATOR_LEDGER=litesvm` prices its leg in the real program, which checks
the minimum itself (a simulation), then executes it there; its errors are the program's.
"""

from __future__ import annotations

from simulator.cpmm_program.executed_pool import ExecutedCpmmPool
from simulator.errors import SwapError, slippage_error
from simulator.ledger import Executed, LegOrder, TokenBalance, Transaction, TxError
from simulator.ledger import instruction_error as ix_error
from simulator.program_layouts import (
    COMPUTE_BUDGET,
    COMPUTE_BUDGET_UNITS,
    INSTRUCTION_NAME,
    MEMO_PROGRAM,
    MEMO_UNITS,
    PROGRAM_OF_KIND,
    TOKEN_PROGRAM,
    UNITS_CONSUMED,
)
from simulator.swap import Swap
from simulator.wallets import Wallets

INSUFFICIENT_FUNDS = 1  # spl-token TokenError::InsufficientFunds


class Failed(Exception):
    def __init__(self, err: TxError, logs: list[str]) -> None:
        super().__init__(str(err))
        self.err = err
        self.logs = logs


def execute(
    tx: Transaction, now: int, wallets: Wallets, force_slippage: bool = False, apply: bool = True
) -> Executed:
    """Run `tx` at unix time `now`; with `apply` False nothing changes (a simulation).
    The caller has checked that the payer can pay the fee."""
    pre = _token_balances(tx, wallets)
    lamports = wallets.lamports(tx.payer)
    fee = tx.fee_lamports()
    budget_instructions = tx.instruction_count - len(tx.legs) - len(tx.memos)
    logs = [_invoke(COMPUTE_BUDGET), f"Program {COMPUTE_BUDGET} success"] * budget_instructions
    units = COMPUTE_BUDGET_UNITS * budget_instructions
    try:
        fills = _price(tx, now, wallets, force_slippage, logs, units)
    except Failed as failure:
        if apply:
            wallets.charge(tx.payer, fee)
        return Executed(
            failure.err, fee, logs + failure.logs, units, lamports, lamports - fee, pre, pre
        )
    units += sum(UNITS_CONSUMED[leg.pool.info.kind] for leg in tx.legs)
    for memo in tx.memos:  # the wallet puts its memo after the swaps
        logs += [
            _invoke(MEMO_PROGRAM),
            f'Program log: Memo (len {len(memo.encode())}): "{memo}"',
            f"Program {MEMO_PROGRAM} consumed {MEMO_UNITS} of"
            f" {tx.compute_unit_limit} compute units",
            f"Program {MEMO_PROGRAM} success",
        ]
        units += MEMO_UNITS
    if not apply:
        return Executed(None, fee, logs, units, lamports, lamports - fee, pre, pre)
    for leg, fill in zip(tx.legs, fills, strict=True):
        applied = _fill(leg, now, apply=True)
        # Distinct pools: nothing between pricing and applying changed this one.
        assert applied == fill
        wallets.move(tx.payer, leg.user_in.mint, -fill.amount_in)
        wallets.move(tx.payer, leg.user_out.mint, fill.amount_out)
    wallets.charge(tx.payer, fee)
    post = _token_balances(tx, wallets)
    return Executed(None, fee, logs, units, lamports, lamports - fee, pre, post)


def _price(
    tx: Transaction,
    now: int,
    wallets: Wallets,
    force_slippage: bool,
    logs: list[str],
    units: int,
) -> list[Swap]:
    if tx.broken is not None:
        raise Failed(tx.broken, ["Program log: Error: invalid account data for instruction"])
    spent: dict[str, int] = {}
    fills: list[Swap] = []
    for leg in tx.legs:
        program = PROGRAM_OF_KIND[leg.pool.info.kind]
        units += UNITS_CONSUMED[leg.pool.info.kind]
        budget = f"{units} of {tx.compute_unit_limit}"
        logs += [
            _invoke(program),
            f"Program log: Instruction: {INSTRUCTION_NAME[leg.pool.info.kind]}",
        ]
        if units > tx.compute_unit_limit:
            logs.append(f"Program {program} consumed {budget} compute units")
            raise Failed(ix_error(leg.instruction_index, "ComputationalBudgetExceeded"), [])
        mint = leg.user_in.mint
        held = wallets.balance(tx.payer, mint) - spent.get(mint, 0)
        if held < leg.amount_in:
            raise Failed(
                ix_error(leg.instruction_index, INSUFFICIENT_FUNDS),
                _token_failure(program, budget),
            )
        spent[mint] = spent.get(mint, 0) + leg.amount_in
        try:
            fill = _fill(leg, now, apply=False)
            if force_slippage and not fills:
                raise slippage_error(leg.pool.info.kind, fill.amount_out, leg.min_amount_out)
        except SwapError as error:
            raise Failed(
                ix_error(leg.instruction_index, error.code or 0),
                _program_failure(leg, error, budget),
            ) from error
        logs += [
            *_transfers(2),
            f"Program {program} consumed {budget} compute units",
            f"Program {program} success",
        ]
        fills.append(fill)
    return fills


def _fill(leg: LegOrder, now: int, apply: bool) -> Swap:
    """The leg's fill now, the pool changed when `apply`; SwapError under its minimum."""
    pool = leg.pool
    if isinstance(pool, ExecutedCpmmPool):
        return pool.fill(leg.amount_in, leg.x_to_y, now, leg.min_amount_out, commit=apply)
    if apply:
        return pool.swap(leg.amount_in, leg.x_to_y, now)
    fill = pool.quote(leg.amount_in, leg.x_to_y, now)
    if fill.amount_out < leg.min_amount_out:
        raise slippage_error(pool.info.kind, fill.amount_out, leg.min_amount_out)
    return fill


def _invoke(program: str, depth: int = 1) -> str:
    return f"Program {program} invoke [{depth}]"


def _transfers(count: int) -> list[str]:
    lines = []
    for _ in range(count):
        lines += [
            _invoke(TOKEN_PROGRAM, 2),
            "Program log: Instruction: Transfer",
            f"Program {TOKEN_PROGRAM} success",
        ]
    return lines


def _token_failure(program: str, budget: str) -> list[str]:
    return [
        _invoke(TOKEN_PROGRAM, 2),
        "Program log: Instruction: Transfer",
        "Program log: Error: insufficient funds",
        f"Program {TOKEN_PROGRAM} failed: custom program error: 0x{INSUFFICIENT_FUNDS:x}",
        f"Program {program} consumed {budget} compute units",
        f"Program {program} failed: custom program error: 0x{INSUFFICIENT_FUNDS:x}",
    ]


def _program_failure(leg: LegOrder, error: SwapError, budget: str) -> list[str]:
    program = PROGRAM_OF_KIND[leg.pool.info.kind]
    code = error.code or 0
    return [
        f"Program log: AnchorError occurred. Error Code: {error.name}. Error Number: {code}."
        f" Error Message: {error.message}.",
        f"Program {program} consumed {budget} compute units",
        f"Program {program} failed: custom program error: 0x{code:x}",
    ]


def _token_balances(tx: Transaction, wallets: Wallets) -> list[TokenBalance]:
    """The balances of every token account the swaps touch: the wallet's and the vaults."""
    balances: dict[str, TokenBalance] = {}
    for leg in tx.legs:
        vaults = leg.pool.vaults
        held_in, held_out = (vaults.x, vaults.y) if leg.x_to_y else (vaults.y, vaults.x)
        for account, amount in (
            (leg.user_in, wallets.balance(leg.user_in.owner, leg.user_in.mint)),
            (leg.user_out, wallets.balance(leg.user_out.owner, leg.user_out.mint)),
            (leg.vault_in, held_in),
            (leg.vault_out, held_out),
        ):
            balances[account.address] = TokenBalance(
                account.address, account.mint, account.owner, amount
            )
    return list(balances.values())
