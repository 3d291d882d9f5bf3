"""The journal compacts in a forked child (simulator.journal): the chain goes on
answering and journaling while its snapshot is written, the inputs of that time follow
the snapshot in the new file, and a kill or a failure at any point leaves a journal
that restores the same chain."""

from __future__ import annotations

import base64
import logging
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from simulator.core import Simulator
from simulator.durable import checkpoint, open_simulator
from simulator.journal import Journal
from simulator.universe import SOL
from tests.support.solana_tx import pool_addresses, swap_tx
from tests.unit.simulator.journaling import BUSY, assert_same_chain, close, restart


def _gated(sim: Simulator, gate: Path) -> Callable[[], bytes]:
    """A snapshot the child takes only once `gate` exists (30 s at most): whatever the
    parent did before it opens the gate, it did while the compaction ran."""

    def snapshot() -> bytes:
        deadline = time.monotonic() + 30
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        return pickle.dumps(sim)

    return snapshot


def _trade(sims: list[Simulator], rounds: int, start: int = 0) -> None:
    """The same sends and slots on every chain, each answered (checkpointed)."""
    pools = pool_addresses(sims[0], "SOL/USDC")
    for number in range(start, start + rounds):
        raw = swap_tx(sims[0], [(pools[number % 3], (number + 1) * 10**7, 0)], SOL.mint)
        for sim in sims:
            sim.send_transaction(raw, skip_preflight=True)
            sim.advance_slots(3)
            checkpoint(sim)


def _header(path: Path) -> bytes:
    """The journal's first line: its header, with the snapshot if one was written."""
    return path.read_bytes().split(b"\n", 1)[0]


def _journal(sim: Simulator) -> Journal:
    assert sim.journal is not None
    return sim.journal


def test_the_chain_answers_and_journals_while_its_snapshot_is_written(tmp_path: Path) -> None:
    path, gate = tmp_path / "chain.journal", tmp_path / "gate"
    journaled, twin = open_simulator(BUSY, path), Simulator(BUSY)
    _trade([journaled, twin], rounds=10)
    _journal(journaled).compact(BUSY, _gated(journaled, gate))

    _trade([journaled, twin], rounds=20, start=10)  # the child waits at its gate meanwhile
    assert _journal(journaled).compacting
    assert b'"snapshot":null' in _header(path)  # the old file, still

    gate.touch()
    _journal(journaled).finish_compaction(wait=True)
    header, *lines = path.read_bytes().split(b"\n")
    assert b'"snapshot":null' not in header
    assert sum(b'"send"' in line for line in lines) == 20  # those sent during the compaction
    restored = restart(journaled, path)
    assert_same_chain(twin, restored)
    close(restored)


def test_a_chain_killed_while_compacting_restores_from_the_journal_it_had(
    tmp_path: Path,
) -> None:
    path, gate = tmp_path / "chain.journal", tmp_path / "gate"
    journaled, twin = open_simulator(BUSY, path), Simulator(BUSY)
    _trade([journaled, twin], rounds=10)
    journal = _journal(journaled)
    journal.compact(BUSY, _gated(journaled, gate))
    _trade([journaled, twin], rounds=5, start=10)
    child = journal._compaction.pid if journal._compaction else 0
    # The process dies: its file and its lock go with it; its child is still writing.
    journal._file.close()
    os.close(journal._lock)
    journaled.journal = None
    journaled.close()

    restored = open_simulator(BUSY, path)
    assert_same_chain(twin, restored)
    gate.touch()
    os.waitpid(child, 0)
    stale = path.with_name(f"{path.name}.compacting.{child}")
    assert stale.exists()  # the orphan finished its file, which nobody takes
    close(restored)
    again = open_simulator(BUSY, path)
    assert not stale.exists()  # removed by the next start
    assert (again.chain.slot, again.chain.blockhash) == (twin.chain.slot, twin.chain.blockhash)
    close(again)


def test_a_failed_snapshot_is_logged_leaves_the_journal_whole_and_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("simulator.journal.COMPACTION_RETRY_S", 0.0)
    monkeypatch.setattr("simulator.durable.COMPACT_AFTER", 10**9)  # only ours below
    path = tmp_path / "chain.journal"
    journaled, twin = open_simulator(BUSY, path), Simulator(BUSY)
    _trade([journaled, twin], rounds=10)
    journal = _journal(journaled)

    def broken() -> bytes:
        raise RuntimeError("snapshot failed")

    journal.compact(BUSY, broken)
    with caplog.at_level(logging.ERROR, logger="simulator.journal"):
        journal.finish_compaction(wait=True)
    assert "journal_compaction_failed" in caplog.text
    assert not journal.compacting
    assert b'"snapshot":null' in _header(path)

    journal.compact(BUSY, lambda: pickle.dumps(journaled))
    journal.finish_compaction(wait=True)
    assert b'"snapshot":null' not in _header(path)
    assert journal.replay_cost == 0
    restored = restart(journaled, path)
    assert_same_chain(twin, restored)
    close(restored)


def test_the_snapshot_is_taken_at_the_lowest_cpu_priority(tmp_path: Path) -> None:
    # A busy machine gives the chain's answers the CPU before the snapshot.
    path = tmp_path / "chain.journal"
    journaled = open_simulator(BUSY, path)
    journal = _journal(journaled)
    before = os.nice(0)
    journal.compact(BUSY, lambda: str(os.nice(0)).encode())
    journal.finish_compaction(wait=True)
    header = msgspec.json.decode(_header(path))
    assert base64.b64decode(header["snapshot"]) == b"19"  # the most nice(2) gives
    assert os.nice(0) == before  # the chain's own process, untouched
    close(journaled)
