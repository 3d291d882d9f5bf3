"""The simulator's write-ahead journal: every input that changed the chain, in order.

The simulator is deterministic per seed, so replaying the same inputs in the same
order rebuilds the same chain: slot, block height, blockhashes, pools, market and the
fate of every signature. The inputs are accepted sends (a duplicate or a refused send
changes nothing and is not written), reference price moves (`simulator_movePrice`),
launches asked for (`simulator_launchPool`) and slot advances (the wall clock,
`simulator_advanceSlots`, advance-on-poll). Quotes change nothing but the stream that
makes up `timeTaken`, so after a restore those values differ from an uninterrupted run.

Format, JSON lines: a header `{"config": SimulatorConfig, "at": unix time,
"snapshot": base64 pickle | null}` (a snapshot is the whole Simulator, which the
lines after it continue from), then `{"advance": k, "at": t, "blockhash": h}` (k
slots, coalesced; the last ran at unix time t and left blockhash h, which a replay
checks), `{"send": <the signed transaction, base64>}`, `{"move": {"pair", "bps"}}` and
`{"launch": LaunchSpec}` (`simulator_launchPool`; launches on the schedule are draws of
the advances, replayed with them).

Durability: `flush()` hands the lines to the OS (a write, no fsync) and runs before
any answer leaves, so whatever a client was told survives a kill of the process: the
page cache outlives it. A machine crash can still lose the last lines; surviving that
needs an fsync per request, milliseconds each on most disks, for a chain that is a
test double, so we do not.
"""

from __future__ import annotations

import fcntl
import gc
import glob
import logging
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, NoReturn

import msgspec

from simulator.config import SimulatorConfig
from simulator.launches import LaunchSpec

logger = logging.getLogger("simulator.journal")
_encoder = msgspec.json.Encoder()
Clock = Callable[[], float]


class JournalRefused(Exception):
    """The journal cannot be used: written with other settings, in use, or unreadable."""


# The journal's own format: a file written by another is refused, not misread.
FORMAT = 2


class Header(msgspec.Struct, frozen=True, kw_only=True):
    format: int = 1
    config: SimulatorConfig
    at: float  # unix time of the last slot the snapshot (or the empty chain) holds
    snapshot: bytes | None = None


class Move(msgspec.Struct, frozen=True):
    pair: str
    bps: int


class Line(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One input: `advance` slots, one `send` (wire bytes), or one price `move`."""

    advance: int = 0
    at: float = 0.0
    blockhash: str = ""
    send: bytes | None = None
    move: Move | None = None
    launch: LaunchSpec | None = None


class Recorded(NamedTuple):
    header: Header
    lines: list[Line]


def hold_lock(path: Path) -> int:
    """Lock `path` for this process (the kernel lets go when it dies); refuse if taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalRefused(f"{path} is in use by another simulator process") from None
    return fd


def read_journal(path: Path) -> Recorded:
    """The journal at `path`. A torn last line (the process was killed while writing
    it, so no answer depended on it) is cut off the file."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    raw = data[:end].split(b"\n")[:-1]
    if not raw:
        raise JournalRefused(f"{path} has no header line; delete it for a fresh chain")
    try:
        header = msgspec.json.decode(raw[0], type=Header)
    except msgspec.DecodeError as error:
        raise JournalRefused(f"{path}:1 is not a journal header ({error})") from error
    if header.format != FORMAT:
        raise JournalRefused(
            f"{path} was written by simulator code of another journal format"
            f" ({header.format}, this code writes {FORMAT}); delete it for a fresh chain"
        )
    lines: list[Line] = []
    decoder = msgspec.json.Decoder(Line)
    for number, text in enumerate(raw[1:], start=2):
        try:
            lines.append(decoder.decode(text))
        except msgspec.DecodeError as error:
            if number < len(raw):
                raise JournalRefused(f"{path}:{number} cannot be read ({error})") from error
            end -= len(text) + 1  # the last line, half written: a kill mid-write
    if end < len(data):
        logger.warning("event=journal_torn_tail path=%s bytes_cut=%d", path, len(data) - end)
        os.truncate(path, end)
    return Recorded(header, lines)


def _write_header(path: Path, header: Header) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(_encoder.encode(header) + b"\n")
    temporary.replace(path)  # atomic: a kill leaves the old journal or the new one


# A compaction that failed (logged) is tried again after this long, not at every answer.
COMPACTION_RETRY_S = 10.0


class _Compaction(NamedTuple):
    pid: int  # the child writing the snapshot
    offset: int  # the journal's length when it began: the lines after it follow the snapshot
    replay_cost: int  # what the snapshot saves a restore


def _compacted_path(path: Path, pid: int) -> Path:
    return path.with_name(f"{path.name}.compacting.{pid}")


def _write_snapshot(
    compacted: Path, header: Header, snapshot: Callable[[], bytes], lock: int
) -> NoReturn:
    """The compaction's child: write the journal's new header, then exit without ever
    returning into the parent's code (its event loop, its sockets, its buffers)."""
    status = 1
    try:
        os.close(lock)  # its own copy only: the parent keeps the lock
        gc.disable()  # no finalizer of the parent's objects runs here
        # Lowest CPU priority: on a busy machine the snapshot waits, the answers do not
        # (it took 10-20 s in a soak on 2 busy cores, competing with the chain itself).
        os.nice(19)
        if threading.current_thread() is threading.main_thread():
            # A signal for this child must not reach the parent's event loop through the
            # wake-up fd they share, nor run the parent's handlers here.
            signal.set_wakeup_fd(-1)
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, signal.SIG_DFL)
        compacted.write_bytes(
            _encoder.encode(msgspec.structs.replace(header, snapshot=snapshot())) + b"\n"
        )
        status = 0
    except BaseException:  # noqa: BLE001 (reported by the exit status; the parent logs it)
        os.write(2, traceback.format_exc().encode())
    finally:
        os._exit(status)


class Journal:
    """Appends inputs to the file at `path`; `flush()` before answering."""

    def __init__(
        self, path: Path, lock: int, *, last_at: float, replay_cost: int, clock: Clock = time.time
    ) -> None:
        self.path = path
        self.last_at = last_at  # unix time of the last slot journaled
        self.replay_cost = replay_cost  # slots and sends a restore replays now
        self._lock = lock
        self._clock = clock
        self._file = path.open("ab")
        self._pending: list[bytes] = []
        self._advance = 0
        self._blockhash = ""
        self._compaction: _Compaction | None = None
        self._retry_at = 0.0  # monotonic time before which a failed compaction waits
        for stale in path.parent.glob(glob.escape(path.name) + ".compacting.*"):
            stale.unlink()  # left by a process killed while its child wrote it

    @classmethod
    def start(
        cls, path: Path, lock: int, config: SimulatorConfig, clock: Clock = time.time
    ) -> Journal:
        """A new journal at `path` for a fresh chain."""
        at = clock()
        _write_header(path, Header(format=FORMAT, config=config, at=at))
        return cls(path, lock, last_at=at, replay_cost=0, clock=clock)

    def record_advance(self, count: int, blockhash: str) -> None:
        # Consecutive advances share one line: a wall clock ticks 2.5 times a second.
        self._advance += count
        self._blockhash = blockhash
        self.last_at = self._clock()
        self.replay_cost += count

    def record_send(self, raw: bytes) -> None:
        self._record(Line(send=raw))

    def record_move(self, pair: str, bps: int) -> None:
        self._record(Line(move=Move(pair, bps)))

    def record_launch(self, spec: LaunchSpec) -> None:
        self._record(Line(launch=spec))

    def _record(self, line: Line) -> None:
        self._write_advance()  # the input came after those slots
        self._pending.append(_encoder.encode(line) + b"\n")
        self.replay_cost += 1

    def _write_advance(self) -> None:
        if self._advance:
            line = Line(advance=self._advance, at=self.last_at, blockhash=self._blockhash)
            self._pending.append(_encoder.encode(line) + b"\n")
            self._advance = 0

    def flush(self) -> None:
        """Hand every input so far to the OS: from here on it survives a kill."""
        self._write_advance()
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._file.flush()
            self._pending.clear()

    @property
    def compacting(self) -> bool:
        return self._compaction is not None

    def compact(
        self, config: SimulatorConfig, snapshot: Callable[[], bytes], *, background: bool = True
    ) -> None:
        """Start replacing the file by one holding `snapshot()`, the state after every
        input so far, so a restore unpickles it instead of replaying every slot again.

        In the background (where the OS can fork): a child process, which shares this
        one's memory copy-on-write, takes the snapshot and writes it beside the journal,
        while this one goes on answering and journaling; `finish_compaction` then adds
        the lines written meanwhile and swaps the files. Taken here, the pickle of a
        busy chain (~14 MB at 100 orders/s, and its base64) paused every answer for
        0.6-1.4 s and left its transient objects' pages behind in this process."""
        if self._compaction is not None or time.monotonic() < self._retry_at:
            return
        self.flush()
        header = Header(format=FORMAT, config=config, at=self.last_at)
        if not background or not hasattr(os, "fork"):
            self._file.close()
            _write_header(self.path, msgspec.structs.replace(header, snapshot=snapshot()))
            self._file = self.path.open("ab")
            self.replay_cost = 0
            logger.info("event=journal_compacted path=%s background=false", self.path)
            return
        offset = self._file.tell()
        pid = os.fork()
        if pid == 0:
            _write_snapshot(_compacted_path(self.path, os.getpid()), header, snapshot, self._lock)
        self._compaction = _Compaction(pid, offset, self.replay_cost)

    def finish_compaction(self, *, wait: bool = False) -> None:
        """If the background compaction has written its snapshot, put the lines journaled
        since it began after it and make that the journal (the swap is atomic: a kill
        leaves the old file, complete, or the new one)."""
        running = self._compaction
        if running is None:
            return
        try:
            pid, status = os.waitpid(running.pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:
            pid, status = running.pid, -1
        if pid == 0:
            return  # still writing
        self._compaction = None
        compacted = _compacted_path(self.path, running.pid)
        if status == -1 or os.waitstatus_to_exitcode(status) != 0:
            compacted.unlink(missing_ok=True)
            self._retry_at = time.monotonic() + COMPACTION_RETRY_S
            logger.error("event=journal_compaction_failed path=%s status=%d", self.path, status)
            return
        self.flush()
        with self.path.open("rb") as journal, compacted.open("ab") as replacement:
            journal.seek(running.offset)
            shutil.copyfileobj(journal, replacement)
        self._file.close()
        compacted.replace(self.path)
        self._file = self.path.open("ab")
        self.replay_cost -= running.replay_cost
        logger.info("event=journal_compacted path=%s", self.path)

    def close(self) -> None:
        self.finish_compaction(wait=True)
        self.flush()
        self._file.close()
        os.close(self._lock)
