"""Every transaction the chain has seen, keyed by signature, and its status.

A signature is recorded once; sending it again finds the existing record and never
executes anything a second time. The map keeps every signature for the chain's whole
life (unlike LiteSVM's 32 or a validator's status cache), so a re-send of a landed
transaction, however late, is recognised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simulator.config import BASE_FEE_LAMPORTS, FINALIZE_SLOTS
from simulator.swap import Pool, ceil_div
from simulator.wallets import TokenAccount

if TYPE_CHECKING:
    from simulator.archive import Archive

# Blocks past its lastValidBlockHeight during which a transaction in no block still
# counts as settling: its sender, seeing null, waits for the height to pass by a margin
# (the engine's is 32 blocks, against a node that lags), so slots must keep coming.
SETTLING_MARGIN = 64
# Slots between two moves of settled records to the archive: the records in memory stay
# about one blockhash window's worth (150 blocks) plus this.
ARCHIVE_EVERY = 32

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

    def is_settling(self, slot: int, block_height: int) -> bool:
        """True while its sender may be waiting on it: landed and not finalized, or in
        no block. An expired one counts for `SETTLING_MARGIN` blocks past its last
        valid one: on Solana's wire it shows null, as one not landed yet, so its sender
        waits for the height to pass, which takes slots."""
        if self.landed_slot is None:
            return block_height <= self.tx.last_valid_block_height + SETTLING_MARGIN
        return slot < self.landed_slot + FINALIZE_SLOTS

    def is_done(self, slot: int, block_height: int) -> bool:
        """True once nothing about it can change, a sender's polls included: no longer
        settling, past its blockhash's window (a re-send is refused for its blockhash
        anyway), and not waiting for a block (the ledger knows that)."""
        if block_height <= self.tx.last_valid_block_height or self.dropped_at is not None:
            return False
        return not self.is_settling(slot, block_height)

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
    their block was dropped). With an archive (a journaled chain), `records` holds the
    ones the chain may still change and the archive the settled rest."""

    def __init__(self) -> None:
        self.records: dict[str, TxRecord] = {}
        self.pending: dict[str, TxRecord] = {}
        self.forked: dict[str, TxRecord] = {}
        self.archive: Archive | None = None
        self.archived = 0  # records moved to the archive, for a restore's check

    def __getstate__(self) -> dict[str, object]:
        # A snapshot holds the records in memory; the archive is its own file.
        return {**self.__dict__, "archive": None}

    def __setstate__(self, state: dict[str, object]) -> None:
        # A snapshot from before the archive existed holds none.
        self.__dict__.update({"archive": None, "archived": 0, **state})

    def get(self, signature: str) -> TxRecord | None:
        record = self.records.get(signature)
        if record is None and self.archive is not None:
            return self.archive.get(signature)
        return record

    def archive_settled(self, slot: int, block_height: int) -> None:
        """Every `ARCHIVE_EVERY` slots, move the records nothing can change any more
        to the archive, as of `slot`."""
        if self.archive is None or slot % ARCHIVE_EVERY:
            return
        done = [
            record
            for signature, record in self.records.items()
            if signature not in self.pending
            and signature not in self.forked
            and record.is_done(slot, block_height)
        ]
        if not done:
            return
        self.archive.put(done, slot)
        for record in done:
            del self.records[record.tx.signature]
        self.archived += len(done)

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
        record = self.get(signature)
        if record is None:
            return "unknown"
        if signature in self.pending or signature in self.forked:
            return "waiting"
        if record.executed is not None:
            return "executed" if record.executed.err is None else "failed"
        return "expired"
