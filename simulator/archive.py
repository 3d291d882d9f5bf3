"""Settled transactions on disk: the journaled chain's blockstore.

The ledger keeps every signature for the chain's whole life (simulator.ledger), and a
record held in memory costs about 4 KB (its decoded legs, logs and token balances). At
100 transactions a second that is a gigabyte in an hour, so a journaled chain moves a
record to this file once the chain is done with it: finalized, or past its blockhash's
window and no longer waiting for a block, so nothing about it can change again. Reads
(`getSignatureStatuses`, `getTransaction`, a re-send found to be a duplicate, the
witness's fates) find it here as they found it in memory; only the decoded legs, which
only execution reads, are not kept. A validator does the same: a small status cache in
memory, the blockstore on disk.

SQLite (stdlib) because the job is a durable map from signature to bytes with an index
on when each row came, nothing more. Durability is the journal's: a commit hands the
pages to the OS (`synchronous=OFF`), which outlives a kill of the process. The file is
a function of the chain up to a slot: every row carries the slot whose advance moved
it here, so a restore cuts the rows after its snapshot's slot and the replay of the
journal moves them again (`cut_after`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from simulator.ledger import Executed, Transaction, TxError, TxRecord


class Settled(msgspec.Struct, frozen=True, array_like=True):
    """A settled record as stored: everything but the decoded legs."""

    signature: str
    payer: str
    wire: bytes
    blockhash: str
    last_valid_block_height: int
    compute_unit_price: int
    compute_unit_limit: int
    instruction_count: int
    broken: TxError | None
    memos: tuple[str, ...]
    submitted_slot: int
    seen_slot: int
    landed_slot: int | None
    confirm_slot: int | None
    expired: bool
    executed: Executed | None


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Settled)


def _settled(record: TxRecord) -> Settled:
    tx = record.tx
    return Settled(
        tx.signature,
        tx.payer,
        tx.wire,
        tx.blockhash,
        tx.last_valid_block_height,
        tx.compute_unit_price,
        tx.compute_unit_limit,
        tx.instruction_count,
        tx.broken,
        tx.memos,
        record.submitted_slot,
        record.seen_slot,
        record.landed_slot,
        record.confirm_slot,
        record.expired,
        record.executed,
    )


def _record(row: Settled) -> TxRecord:
    tx = Transaction(
        signature=row.signature,
        payer=row.payer,
        wire=row.wire,
        blockhash=row.blockhash,
        last_valid_block_height=row.last_valid_block_height,
        legs=(),
        compute_unit_price=row.compute_unit_price,
        compute_unit_limit=row.compute_unit_limit,
        instruction_count=row.instruction_count,
        broken=row.broken,
        memos=row.memos,
    )
    return TxRecord(
        tx=tx,
        submitted_slot=row.submitted_slot,
        seen_slot=row.seen_slot,
        landed_slot=row.landed_slot,
        confirm_slot=row.confirm_slot,
        expired=row.expired,
        executed=row.executed,
    )


class Archive:
    """The settled records of one chain, by signature, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Used from the simulator's one event loop thread only; the service's
        # default executor never touches the ledger.
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS settled ("
            " signature TEXT PRIMARY KEY, slot INTEGER NOT NULL, record BLOB NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS settled_slot ON settled (slot)")

    @classmethod
    def fresh(cls, path: Path) -> Archive:
        """An empty archive at `path`, whatever a former chain left there."""
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        return cls(path)

    def put(self, records: list[TxRecord], slot: int) -> None:
        """Move `records` here as of `slot`, in one transaction."""
        rows = [(r.tx.signature, slot, _encoder.encode(_settled(r))) for r in records]
        with self._db:  # one transaction: COMMIT, or ROLLBACK on an exception
            self._db.executemany("INSERT OR REPLACE INTO settled VALUES (?, ?, ?)", rows)

    def get(self, signature: str) -> TxRecord | None:
        row = self._db.execute(
            "SELECT record FROM settled WHERE signature = ?", (signature,)
        ).fetchone()
        return None if row is None else _record(_decoder.decode(row[0]))

    def count(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM settled").fetchone()
        return int(count)

    def cut_after(self, slot: int) -> None:
        """Forget the rows moved here after `slot` (a restore replays those slots)."""
        with self._db:  # one transaction: COMMIT, or ROLLBACK on an exception
            self._db.execute("DELETE FROM settled WHERE slot > ?", (slot,))

    def close(self) -> None:
        self._db.close()
