"""A simulator that survives SIGKILL, as a cluster survives the death of one RPC node.

`open_simulator` restores the chain from its journal (simulator.journal) when the file
exists, and journals every input from then on; `checkpoint` runs before each answer
leaves, so nothing a client was told is forgotten by a restart: a signature that
landed stays landed, and sending it again is a duplicate.

Replay costs about 90 µs a slot, so a day of 400 ms slots (216k) would take some 20
s; `checkpoint` therefore compacts the journal into a snapshot (a pickle of the
Simulator, ~0.1 MB plus the ledger's last blockhash window, 10-15 MB at 100 orders/s)
once a restore would replay `COMPACT_AFTER` slots and sends, in a forked child while
this process goes on answering (simulator.journal). Delete the file for a fresh chain.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from pathlib import Path

import msgspec

from simulator.archive import Archive
from simulator.config import SimulatorConfig
from simulator.core import MAX_ADVANCE, Simulator
from simulator.errors import RpcError
from simulator.journal import Clock, Journal, JournalRefused, Recorded, hold_lock, read_journal

logger = logging.getLogger("simulator.durable")
# About 2 s of replay: a restart stays quick, and a compaction (a pickle) stays rare.
COMPACT_AFTER = 20_000
# Slots a wall-clock chain catches up after being down, at most: an hour of 400 ms
# slots, well past the 150 blocks after which every tx sent before the kill has landed
# or expired, while a long outage does not cost a long start.
MAX_DOWNTIME_SLOTS = 9_000
# Settings that only pace the clock: a chain may be restarted with other values.
PACING = ("time_scale", "advance_on_poll")


def open_simulator(config: SimulatorConfig, path: Path, clock: Clock = time.time) -> Simulator:
    """A Simulator journaling to `path`: the chain recorded there, else a fresh one.
    Raises JournalRefused when the file is in use, unreadable or for other settings."""
    lock = hold_lock(path)
    try:
        if not path.exists():
            simulator = Simulator(config)
            simulator.ledger.archive = Archive.fresh(archive_path(path))
            simulator.journal = Journal.start(path, lock, config, clock)
            logger.info("event=journal_started path=%s", path)
            return simulator
        recorded = read_journal(path)
        _check_settings(recorded.header.config, config, path)
        simulator = _replay(recorded, config, path)
    except BaseException:
        os.close(lock)
        raise
    last_at = max([recorded.header.at, *(line.at for line in recorded.lines if line.advance)])
    cost = sum(line.advance or 1 for line in recorded.lines)
    simulator.journal = Journal(path, lock, last_at=last_at, replay_cost=cost, clock=clock)
    _catch_up(simulator, last_at, clock())
    checkpoint(simulator)
    return simulator


def archive_path(journal: Path) -> Path:
    """Where a journaled chain keeps its settled transactions (simulator.archive)."""
    return journal.with_name(journal.name + ".archive")


def checkpoint(simulator: Simulator) -> None:
    """Make every input so far survive a kill; call before any answer leaves."""
    journal = simulator.journal
    if journal is None:
        return
    journal.flush()
    journal.finish_compaction()
    if journal.replay_cost >= COMPACT_AFTER:
        # Our own file, written by this code: unpickling it is no wider a trust.
        journal.compact(simulator.config, lambda: pickle.dumps(simulator))


def _check_settings(recorded: SimulatorConfig, config: SimulatorConfig, path: Path) -> None:
    before, now = msgspec.structs.asdict(recorded), msgspec.structs.asdict(config)
    differing = [name for name in now if name not in PACING and before.get(name) != now[name]]
    if differing:
        changes = ", ".join(f"{name} {before.get(name)!r} -> {now[name]!r}" for name in differing)
        raise JournalRefused(
            f"{path} holds a chain made with other settings ({changes}); start with the same"
            " settings, or delete the file for a fresh chain"
        )


def _replay(recorded: Recorded, config: SimulatorConfig, path: Path) -> Simulator:
    simulator = _from_snapshot(recorded.header.snapshot, config, path)
    _attach_archive(simulator, path)
    try:
        _replay_lines(simulator, recorded, path)
    except BaseException:
        simulator.close()
        raise
    return simulator


def _attach_archive(simulator: Simulator, path: Path) -> None:
    """The archive as of the snapshot's slot: the rows moved after it are moved again
    by the replay."""
    archive = Archive(archive_path(path))
    archive.cut_after(simulator.chain.slot)
    held = archive.count()
    if held != simulator.ledger.archived:
        archive.close()
        raise _diverged(
            path,
            1,
            f"its archive {archive.path} holds {held} settled transactions where the"
            f" snapshot counts {simulator.ledger.archived}",
        )
    simulator.ledger.archive = archive


def _replay_lines(simulator: Simulator, recorded: Recorded, path: Path) -> None:
    started = time.perf_counter()
    slots = sends = 0
    for number, line in enumerate(recorded.lines, start=2):
        if line.send is not None:
            known = len(simulator.ledger.records)
            try:
                simulator.send_transaction(line.send, skip_preflight=True)
            except RpcError as error:
                raise _diverged(path, number, f"the send is refused: {error.message}") from error
            if len(simulator.ledger.records) == known:
                raise _diverged(path, number, "the send is a duplicate or dropped")
            sends += 1
        if line.move is not None:
            simulator.move_price(line.move.pair, line.move.bps)
        if line.launch is not None:
            simulator.launch_pool(line.launch)
        left = line.advance
        while left:
            simulator.advance_slots(min(left, MAX_ADVANCE))
            left -= min(left, MAX_ADVANCE)
        slots += line.advance
        if line.blockhash and simulator.chain.blockhash != line.blockhash:
            raise _diverged(path, number, "the slots end on another blockhash")
    logger.info(
        "event=journal_replayed path=%s lines=%d slots=%d sends=%d snapshot=%s seconds=%.3f",
        path,
        len(recorded.lines),
        slots,
        sends,
        recorded.header.snapshot is not None,
        time.perf_counter() - started,
    )


def _from_snapshot(snapshot: bytes | None, config: SimulatorConfig, path: Path) -> Simulator:
    if snapshot is None:
        return Simulator(config)
    try:
        simulator = pickle.loads(snapshot)  # noqa: S301 (written by checkpoint, see there)
    except Exception as error:
        raise _diverged(path, 1, f"the snapshot cannot be loaded ({error!r})") from error
    if not isinstance(simulator, Simulator):
        raise _diverged(path, 1, "the snapshot is not a Simulator")
    # Its parts keep the recorded settings, equal to these but for the pacing ones,
    # which only the Simulator itself reads.
    simulator.config = config
    return simulator


def _diverged(path: Path, number: int, what: str) -> JournalRefused:
    return JournalRefused(
        f"{path}:{number} does not replay ({what}): was the journal written by other"
        " simulator code? Delete the file for a fresh chain"
    )


def _catch_up(simulator: Simulator, last_at: float, now: float) -> None:
    """With a wall clock, run the slots that passed while the service was down, so
    blockhashes keep expiring as on a real cluster."""
    config = simulator.config
    if config.time_scale <= 0:
        return
    missed = max(0, int((now - last_at) / (config.slot_ms / 1000 * config.time_scale)))
    slots = min(missed, MAX_DOWNTIME_SLOTS)
    if slots:
        simulator.advance_slots(slots)
    logger.info("event=journal_caught_up slots=%d missed=%d", slots, missed)
