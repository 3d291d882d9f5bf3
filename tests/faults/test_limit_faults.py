"""Faults while limit orders are armed (issue 14): SIGKILL the trigger evaluator while
the market moves through their limits, and restart PostgreSQL (private server) while
they are armed. Scenario and promises: `limit_scenario.exercise_limits`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults.limit_scenario import exercise_limits
from tests.faults.test_postgres_restart import _pg_ctl, private_postgres
from tests.support.fault_rig import FaultRig, fault_rig

pytestmark = pytest.mark.slow
__all__ = ["private_postgres"]  # a fixture of this module too


async def _kill_evaluator(rig: FaultRig) -> None:
    rig.kill("evaluator")


async def test_a_killed_evaluator_neither_misses_nor_repeats_a_trigger(rig: FaultRig) -> None:
    await exercise_limits(rig, "SIGKILL the evaluator", _kill_evaluator)


@pytest.fixture(scope="module")
async def limit_private_rig(
    private_postgres: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FaultRig]:
    admin_url, _ = private_postgres
    async with fault_rig(admin_url, Path(tmp_path_factory.mktemp("limit-pg"))) as running:
        yield running


async def test_a_postgres_restart_while_orders_are_armed(
    limit_private_rig: FaultRig, private_postgres: tuple[str, Path]
) -> None:
    _, pgdata = private_postgres

    async def restart(_: FaultRig) -> None:
        await asyncio.to_thread(_pg_ctl, pgdata, "restart")

    await exercise_limits(limit_private_rig, "restart PostgreSQL (private server)", restart)
