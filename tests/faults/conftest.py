"""The fault suite's shared engine and its table: one row per fault, printed at the
end of the run and written to `bench/results/faults.md`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.fault_rig import FaultRig, fault_rig
from tests.support.servers import PROJECT_ROOT

TABLE_PATH = PROJECT_ROOT / "bench" / "results" / "faults.md"


@dataclass(frozen=True)
class FaultRow:
    fault: str
    submitted: int
    in_flight: int
    lost: int
    double_executions: int
    repeated_commands: int
    streams: int
    streams_wrong: int
    recovery_s: float
    unplanned_restarts: int
    horizon_ms: float


ROWS: list[FaultRow] = []


@pytest.fixture(scope="module")
async def rig(
    postgres_admin: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FaultRig]:
    async with fault_rig(postgres_admin, Path(tmp_path_factory.mktemp("faults"))) as running:
        yield running


def fault_table(rows: list[FaultRow]) -> str:
    header = (
        "| fault | orders submitted | orders in flight | orders lost | double executions"
        " | repeated commands | streams followed (wrong) | time to recover"
        " | unplanned restarts | horizon held |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    return header + "".join(
        f"| {r.fault} | {r.submitted} | {r.in_flight} | {r.lost} | {r.double_executions}"
        f" | {r.repeated_commands} | {r.streams} ({r.streams_wrong}) | {r.recovery_s:.2f} s"
        f" | {r.unplanned_restarts} | {r.horizon_ms:.0f} ms |\n"
        for r in rows
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS:
        return
    table = fault_table(ROWS)
    terminalreporter.write_sep("=", "fault injection")
    terminalreporter.write(table)
    TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    TABLE_PATH.write_text(
        "# Fault injection\n\n"
        "Made by `.venv/bin/pytest tests/faults -p no:logging` (steady load of market"
        " orders through two API processes; the engine's processes restarted when they"
        " exit, as `orderengine up` does). Time to recover: from the fault until every"
        " order accepted before it ended is final. Orders in flight: not final when the"
        " fault came, or accepted while it lasted. Unplanned restarts: engine processes"
        " (and the simulator) that exited without the fault killing them. Horizon held:"
        " the longest the engine's own sessions held the read horizon (a transaction with"
        " an id or a snapshot, `pg_stat_activity` sampled every 20 ms during the row;"
        " goal <= 100 ms). Hostile rows: the simulator answers as that hostile RPC node"
        " (`simulator/hostile.py`) for the fault's duration.\n\n" + table
    )
