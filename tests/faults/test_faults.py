"""Each fault, one at a time, on one engine shared by the module (`scenario.exercise`
runs the load and checks the promises)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

import pytest

from tests.faults.scenario import exercise
from tests.support import netns
from tests.support.fault_rig import NETNS_WORKER, FaultRig

pytestmark = pytest.mark.slow


async def _kill(rig: FaultRig, name: str) -> None:
    rig.kill(name)


async def _cut_connections(rig: FaultRig) -> None:
    # Twice: the second cut catches connections opened while recovering from the first.
    await asyncio.to_thread(rig.cut_database_connections)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(rig.cut_database_connections)


# How long a hostile mode stays on under load, and its answers' hold: past the rig's
# 1 s RPC client timeout (RPC_TIMEOUT_MS).
HOSTILE_S = 6.0
HOLD = "hold:1.5"
HOSTILE: dict[str, str] = {
    "drop:0.3": "sends taken, answers lost",
    "rate_limit:0.3": "429 to sends and status reads, half after the send was taken",
    "unavailable:0.3": "503 likewise",
    "lag:4": "landed signatures null for 4 slots",
    "stale:4,stale_share:0.5": "half the status reads 4 slots behind",
    "slow:0.2": "answers after the client's timeout",
    "drop:0.1,rate_limit:0.1,unavailable:0.1,lag:3,stale:3,slow:0.05": "every mode at once",
}
REDIS_BLACK_HOLE_S = 5.0
NETWORK_CUT_S, NETWORK_BAD_S = 10.0, 30.0


async def _hostile(rig: FaultRig, modes: str) -> None:
    await asyncio.to_thread(rig.hostile, f"{modes},{HOLD},seed:9")
    try:
        await asyncio.sleep(HOSTILE_S)
    finally:
        # What the node did while hostile, for the row: proof the mode met the load.
        rig.hostile_counts = (await asyncio.to_thread(rig.hostile, None))["counts"]
        await asyncio.to_thread(rig.hostile, "")


async def _network_fault(rig: FaultRig) -> None:
    if rig.namespace is None:
        pytest.skip(f"no network namespace: {netns.unavailable()}")
    await rig.network_fault(NETWORK_CUT_S, NETWORK_BAD_S)


FAULTS: dict[str, Callable[[FaultRig], Awaitable[None]]] = {
    "SIGKILL a worker": lambda rig: _kill(rig, "worker-0"),
    "SIGKILL the dispatcher": lambda rig: _kill(rig, "dispatcher"),
    "SIGKILL the projector": lambda rig: _kill(rig, "projector"),
    "SIGKILL an API process (clients streaming)": lambda rig: _kill(rig, "api-0"),
    "restart Redis": lambda rig: asyncio.to_thread(rig.restart_redis),
    "cut PostgreSQL connections": _cut_connections,
    "stop the simulator for 3 s": lambda rig: rig.stop_simulator(3.0),
    "SIGKILL the simulator": lambda rig: rig.kill_simulator(),
    **{
        f"hostile RPC `{modes}`: {what}": functools.partial(_hostile, modes=modes)
        for modes, what in HOSTILE.items()
    },
    f"Redis black hole for {REDIS_BLACK_HOLE_S:.0f} s (accepts, never answers)": (
        lambda rig: rig.black_hole_redis(REDIS_BLACK_HOLE_S)
    ),
    f"network namespace: {NETNS_WORKER}'s link cut {NETWORK_CUT_S:.0f} s, then lossy and"
    f" slow {NETWORK_BAD_S:.0f} s": _network_fault,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_no_order_lost_or_executed_twice(rig: FaultRig, fault: str) -> None:
    row = fault
    if fault.startswith("network namespace") and rig.namespace is not None:
        how = "netem" if rig.namespace.netem else "tbf: this kernel has no netem"
        row = f"{fault} ({how})"
    await exercise(rig, row, FAULTS[fault])
