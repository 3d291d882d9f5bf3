"""Reading a `getTransaction` answer as a client of a real RPC node does.

The fill of each swap instruction is in its pool's vault balances (`preTokenBalances` /
`postTokenBalances`): what went into the input vault is the leg's input, what left the
output vault its output; what the wallet received is its output account's change. A
failure is `meta.err`, named by the failing program's custom error in the logs
("Program X failed: custom program error: 0x1775").
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from solders.pubkey import Pubkey

from commands.chain_types import ExecutedLeg, LandedTransaction, ProgramFailure
from workers.solana.programs import ERROR_NAMES, POOL_SLOTS, token_account


class _Amount(msgspec.Struct, frozen=True):
    amount: str


class _TokenBalance(msgspec.Struct, rename="camel"):
    account_index: int
    mint: str
    owner: str | None = None
    ui_token_amount: _Amount = _Amount("0")


class _Meta(msgspec.Struct, rename="camel"):
    err: Any = None
    fee: int = 0
    log_messages: list[str] | None = None
    pre_token_balances: list[_TokenBalance] = []
    post_token_balances: list[_TokenBalance] = []


class _Instruction(msgspec.Struct, rename="camel"):
    program_id_index: int
    accounts: list[int]


class _Message(msgspec.Struct, rename="camel"):
    account_keys: list[str]
    instructions: list[_Instruction]


class _Transaction(msgspec.Struct):
    message: _Message


class TransactionResult(msgspec.Struct):
    """`getTransaction`'s result with `encoding: "json"`."""

    slot: int
    meta: _Meta
    transaction: _Transaction


_FAILED = re.compile(r"^Program (\w+) failed: custom program error: 0x([0-9a-fA-F]+)$")


def landed(result: TransactionResult, wallet: Pubkey, output_mint: str | None) -> LandedTransaction:
    """The outcome of one landed swap transaction, for `wallet`'s `output_mint` (None:
    the output account is found from the swaps' output vaults' mint)."""
    meta, message = result.meta, result.transaction.message
    keys = message.account_keys
    changes = _changes(meta, keys)
    legs: list[ExecutedLeg] = []
    mints: list[str] = []
    for instruction in message.instructions:
        slots = POOL_SLOTS.get(keys[instruction.program_id_index])
        if slots is None or len(instruction.accounts) <= max(slots):
            continue
        pool, vault_a, vault_b = (keys[instruction.accounts[slot]] for slot in slots)
        (delta_a, mint_a), (delta_b, mint_b) = (
            changes.get(vault_a, (0, "")),
            changes.get(vault_b, (0, "")),
        )
        into, out = (delta_a, -delta_b) if delta_a >= 0 else (delta_b, -delta_a)
        mints.append(mint_b if delta_a >= 0 else mint_a)
        legs.append(ExecutedLeg(pool=pool, amount_in=into, amount_out=out))
    failure = None if meta.err is None else _failure(meta.err, meta.log_messages or [])
    mint = output_mint or (mints[0] if mints else "")
    received = changes.get(str(token_account(wallet, mint)), (0, mint))[0] if mint else 0
    return LandedTransaction(
        slot=result.slot,
        fee_lamports=meta.fee,
        failure=failure,
        amount_out=0 if failure else received,
        legs=() if failure else tuple(legs),
    )


def _changes(meta: _Meta, keys: list[str]) -> dict[str, tuple[int, str]]:
    """(balance change, mint) of every token account the transaction shows, by address."""
    before = {b.account_index: int(b.ui_token_amount.amount) for b in meta.pre_token_balances}
    changes: dict[str, tuple[int, str]] = {}
    for balance in meta.post_token_balances:
        after = int(balance.ui_token_amount.amount)
        change = after - before.get(balance.account_index, 0)
        changes[keys[balance.account_index]] = (change, balance.mint)
    return changes


def _failure(err: Any, logs: list[str]) -> ProgramFailure:
    if isinstance(err, dict) and "InstructionError" in err:
        index, detail = err["InstructionError"]
        for line in logs:
            match = _FAILED.match(line)
            if match:
                program, code = match.group(1), int(match.group(2), 16)
                name = ERROR_NAMES.get(program, {}).get(code, f"Custom({code})")
                return ProgramFailure(
                    name=name, code=code, instruction_index=index, program=program
                )
        if isinstance(detail, dict) and "Custom" in detail:
            code = int(detail["Custom"])
            return ProgramFailure(
                name=f"Custom({code})", code=code, instruction_index=index, program=None
            )
        return ProgramFailure(name=str(detail), code=None, instruction_index=index, program=None)
    name = err if isinstance(err, str) else next(iter(err), "TransactionError")
    return ProgramFailure(name=str(name), code=None, instruction_index=None, program=None)
