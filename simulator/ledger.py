"""Every transaction the chain has seen, keyed by signature, and its status.

A signature is recorded once; sending it again returns the existing record and
never executes anything a second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.config import BASE_FEE_LAMPORTS, FINALIZE_SLOTS
from simulator.responses import SignatureStatus, TxError, TxResult
from simulator.swap import Pool, ceil_div

EXPIRED = TxError(
    name="BlockhashNotFound",
    code=-1005,  # Jupiter Ultra "expired"; web3.js "block height exceeded"
    message="transaction expired: block height exceeded lastValidBlockHeight",
)


@dataclass(frozen=True, slots=True)
class LegOrder:
    pool: Pool
    amount_in: int
    min_amount_out: int | None


@dataclass(frozen=True, slots=True)
class Transaction:
    """A validated swap transaction."""

    signature: str
    input_mint: str
    output_mint: str
    x_to_y: bool
    legs: tuple[LegOrder, ...]
    min_amount_out: int
    last_valid_block_height: int
    compute_unit_price: int
    compute_unit_limit: int

    def fee_lamports(self) -> int:
        """Base fee plus `ceil(cu_price * cu_limit / 1e6)` priority fee."""
        priority = ceil_div(self.compute_unit_price * self.compute_unit_limit, 10**6)
        return BASE_FEE_LAMPORTS + priority

    def content(self) -> tuple[object, ...]:
        """What the signature signs: two sends with one signature must match."""
        legs = tuple(
            (leg.pool.info.address, leg.amount_in, leg.min_amount_out) for leg in self.legs
        )
        return (
            self.input_mint,
            self.output_mint,
            legs,
            self.min_amount_out,
            self.last_valid_block_height,
            self.compute_unit_price,
            self.compute_unit_limit,
        )


@dataclass(slots=True)
class TxRecord:
    tx: Transaction
    submitted_slot: int
    seen_slot: int  # the last slot whose status the sender has been shown
    landed_slot: int | None = None
    confirm_slot: int | None = None
    dropped_at: int | None = None  # set while the landing block is on a dead fork
    expired: bool = False
    err: TxError | None = None
    result: TxResult | None = None

    def is_settling(self, slot: int) -> bool:
        """True while the status can still change (not expired, not finalized)."""
        if self.expired:
            return False
        return self.landed_slot is None or slot < self.landed_slot + FINALIZE_SLOTS

    def status(self, slot: int) -> SignatureStatus:
        """The status as `getSignatureStatuses` would show it at `slot`."""
        signature = self.tx.signature
        if self.expired:
            return _status(signature, "expired", None, None, None, EXPIRED, None)
        if self.landed_slot is None or self.confirm_slot is None:
            return _status(signature, "pending", None, None, None, None, None)
        landed = self.landed_slot
        if slot >= landed + FINALIZE_SLOTS:
            commitment, confirmations = "finalized", None
        elif slot >= self.confirm_slot and self.dropped_at is None:
            commitment, confirmations = "confirmed", slot - landed
        else:
            commitment, confirmations = "processed", slot - landed
        state = commitment
        if self.err is not None and commitment != "processed":
            state = "failed"
        return _status(signature, state, landed, confirmations, commitment, self.err, self.result)


def _status(
    signature: str,
    state: str,
    slot: int | None,
    confirmations: int | None,
    commitment: str | None,
    err: TxError | None,
    result: TxResult | None,
) -> SignatureStatus:
    return SignatureStatus(
        signature=signature,
        state=state,
        slot=slot,
        confirmations=confirmations,
        confirmation_status=commitment,
        err=err,
        result=result,
    )


class Ledger:
    """Records by signature, plus the ones still waiting for a block."""

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
