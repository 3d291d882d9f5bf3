"""A journaled chain moves settled transactions to its archive (simulator.archive): its
memory holds about one blockhash window of records, and every answer about a settled
transaction, a re-send of one included, is the one the chain gave while it was in
memory, before and after a restore."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from simulator.core import Simulator
from simulator.durable import archive_path, checkpoint, open_simulator
from simulator.errors import RpcError
from simulator.journal import JournalRefused
from simulator.rpc import Rpc
from simulator.tx_views import signature_status
from simulator.universe import SOL
from tests.support.solana_tx import pool_addresses, rpc_call, swap_tx
from tests.unit.simulator.journaling import BUSY, close, restart


def _drive(sims: list[Simulator], rounds: int) -> list[str]:
    """The same sends, polls and slots on every chain; the signatures sent. Every
    fourth is signed with a blockhash near the end of its window, so some expire."""
    first = sims[0]
    pools = pool_addresses(first, "SOL/USDC")
    sent: list[str] = []
    seen: list[tuple[int, str]] = []  # (block height, blockhash)
    for number in range(rounds):
        seen.append((first.chain.block_height, first.chain.blockhash))
        old = [h for height, h in seen if first.chain.block_height - height >= 148]
        blockhash = old[-1] if old and number % 4 == 0 else None
        amount = (number + 1) * 10**7
        raw = swap_tx(first, [(pools[number % 3], amount, 0)], SOL.mint, blockhash=blockhash)
        signatures = {sim.send_transaction(raw, skip_preflight=True) for sim in sims}
        assert len(signatures) == 1
        sent += signatures
        for sim in sims:
            sim.signature_statuses(sent[-20:])
            sim.advance_slots(2)
            checkpoint(sim)  # the service does this after every request
    for sim in sims:
        sim.advance_slots(200)
    return sent


def _answers(sim: Simulator, signature: str) -> bytes:
    """What a client can learn about `signature`: its status, its transaction, its fate."""
    slot = sim.chain.slot
    status = signature_status(sim.ledger.get(signature), slot)
    transaction = rpc_call(
        Rpc(sim),
        "getTransaction",
        signature,
        {"encoding": "json", "maxSupportedTransactionVersion": 0},
    )
    return msgspec.json.encode([status, transaction, sim.ledger.fate(signature)])


def test_settled_transactions_leave_memory_and_read_back_the_same(tmp_path: Path) -> None:
    in_memory = Simulator(BUSY)
    journaled = open_simulator(BUSY, tmp_path / "chain.journal")
    sent = _drive([in_memory, journaled], rounds=300)

    assert len(in_memory.ledger.records) == len(sent)
    assert journaled.ledger.archived > len(sent) // 2
    assert len(journaled.ledger.records) == len(sent) - journaled.ledger.archived
    assert {in_memory.ledger.fate(s) for s in sent} >= {"executed", "expired"}
    for signature in sent:
        assert _answers(journaled, signature) == _answers(in_memory, signature)
    close(journaled)


def test_a_settled_signature_sent_again_executes_nothing(tmp_path: Path) -> None:
    sim = open_simulator(BUSY, tmp_path / "chain.journal")
    pools = pool_addresses(sim, "SOL/USDC")
    raw = swap_tx(sim, [(pools[0], 10**9, 0)], SOL.mint)
    signature = sim.send_transaction(raw)
    _drive([sim], rounds=100)
    assert signature not in sim.ledger.records  # settled: in the archive
    fate = sim.ledger.fate(signature)
    assert fate in ("executed", "failed", "expired")
    known = len(sim.ledger.records)
    assert sim.send_transaction(raw, skip_preflight=True) == signature
    if fate != "expired":
        with pytest.raises(RpcError) as refused:
            sim.send_transaction(raw)
        assert isinstance(refused.value.data, dict)
        assert refused.value.data["err"] == "AlreadyProcessed"
    assert len(sim.ledger.records) == known
    sim.advance_slots(5)
    assert sim.ledger.fate(signature) == fate
    close(sim)


def test_a_restore_cuts_the_rows_moved_after_its_snapshot_and_moves_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Snapshots now and then, archived rows after the last one: a kill there leaves
    # rows the snapshot does not count, which the replay must move again, once.
    monkeypatch.setattr("simulator.durable.COMPACT_AFTER", 150)
    path = tmp_path / "chain.journal"
    original = open_simulator(BUSY, path)
    in_memory = Simulator(BUSY)
    sent = _drive([original, in_memory], rounds=250)
    restored = restart(original, path)
    assert restored.ledger.archived == original.ledger.archived
    assert restored.ledger.records.keys() == original.ledger.records.keys()
    for signature in sent:
        assert _answers(restored, signature) == _answers(in_memory, signature)
    close(restored, original)


def test_a_journal_whose_archive_went_missing_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("simulator.durable.COMPACT_AFTER", 100)
    path = tmp_path / "chain.journal"
    sim = open_simulator(BUSY, path)
    _drive([sim], rounds=200)
    assert sim.ledger.archived > 0
    close(sim)
    archive_path(path).unlink()
    with pytest.raises(JournalRefused, match="archive"):
        open_simulator(BUSY, path)
