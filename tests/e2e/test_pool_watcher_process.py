"""The pool watcher in the real evaluator process, against the simulator's HTTP service:
launches asked for and launches on the seeded schedule, the evaluator SIGKILLed again
and again while they come; in the end every pool is in the log exactly once."""

from __future__ import annotations

import asyncio
import random

import psycopg
import pytest

from simulator.config import SimulatorConfig
from tests.e2e.conftest import StackFactory
from tests.e2e.test_limit_orders import rpc
from tests.support.read_side_api import wait_until

KILLS = 4


def recorded(database_url: str) -> dict[str, int]:
    """PoolLaunched events per pool stream."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT stream_id, count(*) FROM events WHERE event_type = 'PoolLaunched'"
            " GROUP BY stream_id"
        ).fetchall()
    return {str(stream).removeprefix("pool-"): int(count) for stream, count in rows}


@pytest.mark.slow
async def test_every_launch_is_recorded_once_through_sigkills_of_the_watcher(
    stack: StackFactory,
) -> None:
    config = SimulatorConfig(seed=17, launches_per_hour=450.0)  # one per 20 slots
    rng = random.Random(17)  # when to kill: a test's own reproducible draws
    async with stack(config, POOL_WATCH_POLL_MS="10") as running:
        engine = running.engine
        engine.start("evaluator")
        for kill in range(KILLS + 1):
            for _ in range(rng.randint(3, 8)):
                await rpc(running, "simulator_launchPool", {"openInSlots": 1})
                await rpc(running, "simulator_advanceSlots", {"slots": rng.randint(1, 30)})
                await asyncio.sleep(rng.uniform(0.0, 0.3))
            if kill < KILLS:
                # Once this one is active (it recorded something new), launch more and
                # kill it while it is at them: mid-look, mid-append, or just after.
                before = len(recorded(engine.database_url))
                await wait_until(
                    lambda: len(recorded(engine.database_url)) > before,  # noqa: B023
                    what="the watcher to be active",
                    seconds=60,
                )
                for _ in range(3):
                    await rpc(running, "simulator_launchPool", {"openInSlots": 0})
                await rpc(running, "simulator_advanceSlots", {"slots": 1})
                await asyncio.sleep(rng.uniform(0.0, 0.05))
                engine.kill("evaluator")
                engine.start("evaluator")
        await rpc(running, "simulator_advanceSlots", {"slots": 1})  # the last one confirms
        pools = set(running.simulator.call(lambda sim: list(sim.launchpad.launched)))
        assert len(pools) > 20, "the schedule launched some too"

        def all_recorded() -> bool:
            return set(recorded(engine.database_url)) == pools

        await wait_until(all_recorded, what="the pool watcher", seconds=60)
        assert set(recorded(engine.database_url).values()) == {1}
