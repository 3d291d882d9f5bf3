"""Each fault, one at a time, on one engine shared by the module (`scenario.exercise`
runs the load and checks the promises)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tests.faults.scenario import exercise
from tests.support.fault_rig import FaultRig

pytestmark = pytest.mark.slow


async def _kill(rig: FaultRig, name: str) -> None:
    rig.kill(name)


async def _cut_connections(rig: FaultRig) -> None:
    # Twice: the second cut catches connections opened while recovering from the first.
    await asyncio.to_thread(rig.cut_database_connections)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(rig.cut_database_connections)


FAULTS: dict[str, Callable[[FaultRig], Awaitable[None]]] = {
    "SIGKILL a worker": lambda rig: _kill(rig, "worker-0"),
    "SIGKILL the dispatcher": lambda rig: _kill(rig, "dispatcher"),
    "SIGKILL the projector": lambda rig: _kill(rig, "projector"),
    "SIGKILL an API process (clients streaming)": lambda rig: _kill(rig, "api-0"),
    "restart Redis": lambda rig: asyncio.to_thread(rig.restart_redis),
    "cut PostgreSQL connections": _cut_connections,
    "stop the simulator for 3 s": lambda rig: rig.stop_simulator(3.0),
    "SIGKILL the simulator": lambda rig: rig.kill_simulator(),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_no_order_lost_or_executed_twice(rig: FaultRig, fault: str) -> None:
    await exercise(rig, fault, FAULTS[fault])
