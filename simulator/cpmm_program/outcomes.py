"""What a transaction through the program came to, as typed values rather than solders'."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from solders.signature import Signature
from solders.transaction_status import (
    InstructionErrorCustom,
    TransactionErrorInstructionError,
    TransactionErrorType,
)

from simulator.errors import SwapError

# raydium-cp-swap `error.rs` of this build; Anchor numbers custom errors from 6000.
ERROR_NAMES: dict[int, str] = {
    6000: "NotApproved",
    6001: "InvalidOwner",
    6002: "EmptySupply",
    6003: "InvalidInput",
    6004: "IncorrectLpMint",
    6005: "ExceededSlippage",
    6006: "ZeroTradingTokens",
    6007: "NotSupportMint",
    6008: "InvalidVault",
    6009: "InitLpAmountTooLess",
}
# Anchor logs every error it raises, its own (`require_gt!` is 2505) as well as the program's.
_ANCHOR_LOG = re.compile(r"Error Code: (\w+)\. Error Number: (\d+)\. Error Message: (.*)\.$")


@dataclass(frozen=True, slots=True)
class ProgramError:
    """A failed transaction: `code` is n of `Custom(n)`, None for a runtime error."""

    name: str
    code: int | None
    instruction_index: int | None
    logs: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def as_swap_error(self) -> SwapError:
        """The same failure as the simulator's own venues raise it, with the program's
        own message ("Exceeds desired slippage limit") when it logged one."""
        logged = _logged(self.code, list(self.logs))
        if logged is not None:
            return SwapError(self.name, self.code, logged[1])
        where = (
            "" if self.instruction_index is None else f" in instruction {self.instruction_index}"
        )
        return SwapError(self.name, self.code, f"the CPMM program refused the swap{where}")


class ProgramRefused(Exception):
    """A setup transaction (such as `initialize`) failed; `error` says how."""

    def __init__(self, error: ProgramError) -> None:
        super().__init__(f"{error.name} ({error.code}); logs: {error.logs[-3:]}")
        self.error = error


@dataclass(frozen=True, slots=True)
class Executed:
    """A transaction that ran to the end and was committed."""

    signature: Signature
    compute_units: int


@dataclass(frozen=True, slots=True)
class SwapFilled:
    """A `swap_base_input` the program executed: what the trader received."""

    amount_out: int
    compute_units: int


def _fieldless_name(value: object) -> str:
    # solders prints fieldless variants as "TransactionErrorFieldless.AlreadyProcessed".
    return str(value).rsplit(".", 1)[-1]


def _logged(code: int | None, logs: list[str]) -> tuple[str, str] | None:
    """(name, message) of the Anchor error `code` the program logged, if it did."""
    for line in reversed(logs):
        found = _ANCHOR_LOG.search(line)
        if found and int(found.group(2)) == code:
            return found.group(1), found.group(3)
    return None


def program_error(error: TransactionErrorType, logs: list[str]) -> ProgramError:
    """The typed form of a LiteSVM failure, program errors by their names in `error.rs`."""
    if not isinstance(error, TransactionErrorInstructionError):
        return ProgramError(_fieldless_name(error), None, None, tuple(logs))
    inner = error.err
    if isinstance(inner, InstructionErrorCustom):
        logged = _logged(inner.code, logs)
        name = logged[0] if logged else ERROR_NAMES.get(inner.code, f"Custom({inner.code})")
        return ProgramError(name, inner.code, error.index, tuple(logs))
    return ProgramError(_fieldless_name(inner), None, error.index, tuple(logs))
