"""The trigger evaluator idles when nothing is armed: it looks at the store about once
a second instead of every slot, and an arm (its projection's signal) ends the wait."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from workers.process_manager.trigger_evaluator import TriggerEvaluator


class _Always:
    def is_set(self) -> bool:
        return True

    async def wait_lost(self) -> None:
        await asyncio.Event().wait()


def _evaluator(
    armed: asyncio.Event, anything_armed: list[bool]
) -> tuple[TriggerEvaluator, list[float]]:
    evaluator = TriggerEvaluator(
        cast(Any, None),
        cast(Any, None),
        cast(Any, None),
        max_legs=2,
        interval_s=0.01,
        idle_s=1.0,
        armed=armed,
    )
    looks: list[float] = []

    async def look() -> bool:
        looks.append(time.monotonic())
        return anything_armed[0]

    evaluator.look = look  # type: ignore[method-assign]
    return evaluator, looks


async def test_with_nothing_armed_it_looks_about_once_a_second_until_an_arm() -> None:
    armed, stop = asyncio.Event(), asyncio.Event()
    anything = [False]
    evaluator, looks = _evaluator(armed, anything)
    task = asyncio.create_task(evaluator.run(stop, _Always()))
    try:
        await asyncio.sleep(2.5)
        assert len(looks) <= 4, len(looks)  # every 10 ms would be 250
        anything[0] = True
        armed_at = time.monotonic()
        armed.set()
        await asyncio.sleep(0.3)
        first_after = min(t for t in looks if t >= armed_at)
        assert first_after - armed_at < 0.1, first_after - armed_at
        # Armed: back to a look every interval.
        assert sum(t >= armed_at for t in looks) >= 10
    finally:
        stop.set()
        await task
