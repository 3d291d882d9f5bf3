"""The simulator as a process of its own, so that tests can SIGKILL or SIGSTOP it as
they would an RPC node and, with a journal, start it again on the same chain; the
benchmarks run it this way too, in memory."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.servers import PROJECT_ROOT, free_port


class SimulatorProcess:
    """`python -m simulator` on a fixed port; `start()` again after a kill. Without a
    `journal` its chain is in memory and a kill forgets it."""

    def __init__(
        self,
        journal: Path | None,
        seed: int,
        logs: Path,
        time_scale: float = 0.0,
        ledger: str = "math",
    ) -> None:
        self.journal = journal
        self.port = free_port()
        self.argv = [sys.executable, "-m", "simulator", "--port", str(self.port)]
        self.argv += ["--seed", str(seed), "--time-scale", str(time_scale), "--ledger", ledger]
        if journal is not None:
            self.argv += ["--journal", str(journal)]
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.logs.open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                self.argv, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
            )

    def exited(self) -> bool:
        return self.process is None or self.process.poll() is not None

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL: nothing is flushed or closed on the way out."""
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait()

    def wait_healthy(self, seconds: float = 30) -> None:
        """Until /health answers (a restart first replays the journal)."""
        deadline = time.monotonic() + seconds
        while True:
            assert not self.exited(), f"the simulator exited; see {self.logs}"
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"simulator not healthy; see {self.logs}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGCONT)  # in case a fault left it stopped
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def simulator_process(
    scratch: Path,
    seed: int,
    *,
    time_scale: float = 0.0,
    journaled: bool = True,
    ledger: str = "math",
) -> Iterator[SimulatorProcess]:
    """A healthy simulator for the block, its journal and log in `scratch`; stopped after.
    `ledger`: where its CPMM pools execute (SIMULATOR_LEDGER)."""
    scratch.mkdir(parents=True, exist_ok=True)
    journal = scratch / "simulator.journal" if journaled else None
    running = SimulatorProcess(journal, seed, scratch / "simulator.log", time_scale, ledger)
    running.start()
    try:
        running.wait_healthy()
        yield running
    finally:
        running.stop()
