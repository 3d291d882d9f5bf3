"""Every transaction the chain has seen, keyed by signature, and its status.

A signature is recorded once; sending it again finds the existing record and never
executes anything a second time. The map keeps every signature for the chain's whole
life (unlike LiteSVM's 32 or a validator's status cache), so a re-send of a landed
transaction, however late, is recognised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.config import BASE_FEE_LAMPORTS, FINALIZE_SLOTS
from simulator.swap import Pool, ceil_div
from simulator.wallets import TokenAccount

# A transaction error as Solana's JSON-RPC shows it: "BlockhashNotFound", or
# {"InstructionError": [index, {"Custom": 6005}]}, or [index, "InvalidAccountData"].
TxError = str | dict[str, object]


def instruction_error(index: int, error: int | str) -> TxError:
    detail: object = {"Custom": error} if isinstance(error, int) else error
    return {"InstructionError": [index, detail]}


@dataclass(frozen=True, slots=True)
class LegOrder:
    """One swap instruction of a transaction."""

    pool: Pool
    x_to_y: bool
    amount_in: int
    min_amount_out: int
    instruction_index: int
    user_in: TokenAccount
    user_out: TokenAccount
    vault_in: TokenAccount  # owned by the pool's authority
    vault_out: TokenAccount


@dataclass(frozen=True, slots=True)
class Transaction:
    """A verified, decoded transaction: its swaps, its budget and where it came from."""

    signature: str
    payer: str
    wire: bytes  # the signed transaction as sent
    blockhash: str
    last_valid_block_height: int
    legs: tuple[LegOrder, ...]
    compute_unit_price: int
    compute_unit_limit: int
    instruction_count: int
    broken: TxError | None = None  # an instruction whose accounts its program refuses
    memos: tuple[str, ...] = ()  # SPL Memo instructions' text, in order

    def fee_lamports(self) -> int:
        """Base fee plus `ceil(cu_price * cu_limit / 1e6)` priority fee."""
        priority = ceil_div(self.compute_unit_price * self.compute_unit_limit, 10**6)
        return BASE_FEE_LAMPORTS + priority


@dataclass(frozen=True, slots=True)
class TokenBalance:
    """One token account's balance, as `preTokenBalances`/`postTokenBalances` show it."""

    account: str
    mint: str
    owner: str
    amount: int


@dataclass(slots=True)
class Executed:
    """What running a transaction did (or, for a simulation, would do)."""

    err: TxError | None
    fee: int
    logs: list[str]
    units_consumed: int
    pre_lamports: int = 0
    post_lamports: int = 0
    pre_tokens: list[TokenBalance] = field(default_factory=list)
    post_tokens: list[TokenBalance] = field(default_factory=list)
    block_time: int = 0


@dataclass(slots=True)
class TxRecord:
    tx: Transaction
    submitted_slot: int
    seen_slot: int  # the last slot whose status the sender has been shown
    landed_slot: int | None = None
    confirm_slot: int | None = None
    dropped_at: int | None = None  # set while the landing block is on a dead fork
    expired: bool = False  # will never land: past its blockhash, or its fee unpaid
    executed: Executed | None = None

    def is_settling(self, slot: int) -> bool:
        """True while its sender may be waiting on it: not finalized. An expired one
        counts: on Solana's wire it shows null, as one not landed yet, so its sender
        waits for the block height to pass, which takes slots."""
        return self.landed_slot is None or slot < self.landed_slot + FINALIZE_SLOTS

    def commitment(self, slot: int) -> str | None:
        """processed | confirmed | finalized at `slot`; None while not in a block."""
        if self.landed_slot is None or self.confirm_slot is None:
            return None
        if slot >= self.landed_slot + FINALIZE_SLOTS:
            return "finalized"
        if slot >= self.confirm_slot and self.dropped_at is None:
            return "confirmed"
        return "processed"


class Ledger:
    """Records by signature, plus the ones still waiting for a block (or again, after
    their block was dropped)."""

    def __init__(self) -> None:
        self.records: dict[str, TxRecord] = {}
        self.pending: dict[str, TxRecord] = {}
        self.forked: dict[str, TxRecord] = {}

    def get(self, signature: str) -> TxRecord | None:
        return self.records.get(signature)

    def add(self, record: TxRecord) -> None:
        self.records[record.tx.signature] = record
        if not record.expired:
            self.pending[record.tx.signature] = record

    def restore_forked(self, slot: int) -> None:
        """Txs whose landing block was dropped by a fork wait for a block again."""
        for signature, record in list(self.forked.items()):
            if record.dropped_at is not None and slot >= record.dropped_at:
                record.landed_slot = record.confirm_slot = record.dropped_at = None
                del self.forked[signature]
                self.pending[signature] = record

    def fate(self, signature: str) -> str:
        """What became of `signature`, which Solana's JSON-RPC cannot say (it shows null
        both for "may still land" and "never will"): unknown | waiting | executed |
        failed | expired. For test witnesses (`simulator_signatureFates`)."""
        record = self.records.get(signature)
        if record is None:
            return "unknown"
        if signature in self.pending or signature in self.forked:
            return "waiting"
        if record.executed is not None:
            return "executed" if record.executed.err is None else "failed"
        return "expired"
