"""One fault under a steady load of orders, then the product's promises: every
accepted order final, none executed twice, no command written twice, the read model
equal to a full replay, and every followed stream complete, each version once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import psycopg

from tests.faults.conftest import ROWS, FaultRow
from tests.support.engine_checks import (
    double_executions,
    repeated_commands,
    replay_differences,
    stream_of,
    unfinished,
    wait_until_final,
)
from tests.support.fault_rig import FaultRig
from tests.support.order_load import OrderLoad, StreamFollower

ORDERS_PER_S = 12
# Orders accepted before the fault and after it: load on both sides of it.
ORDERS_AROUND_FAULT = 18
# Submitted at once around the fault, so that it hits orders mid-flight: the fault
# comes once half of them are accepted, while the first are executing.
BURST = 24
# Fewer unfinished orders than this when the fault comes, and it proved little.
MIN_IN_FLIGHT = 6


async def exercise(
    rig: FaultRig, fault: str, inject: Callable[[FaultRig], Awaitable[None]]
) -> None:
    """Run `inject` under load, then check every promise and add a row to the table."""
    load = OrderLoad(rig.apis, ORDERS_PER_S, rig.engine.auth)
    followers: dict[str, StreamFollower] = {}
    streaming: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    restarts_before = rig.unplanned_restarts()
    rig.hostile_counts = {}
    with rig.horizon_sampler() as horizon:
        in_flight, faulted_at, before_end = await _load_around(
            rig, inject, load, followers, streaming, stop
        )
        still_open = await wait_until_final(rig.engine.database_url, before_end, 30)
        recovery_s = time.monotonic() - faulted_at
        lost = await wait_until_final(rig.engine.database_url, load.accepted, 30)
    unplanned = rig.unplanned_restarts() - restarts_before
    # Every order is final by now: a stream still open after this was never told so.
    _, unfinished = await asyncio.wait(streaming, timeout=60) if streaming else (set(), set())
    for task in unfinished:
        task.cancel()
    never_closed = [  # tasks were made in the order followers were added
        order_id
        for (order_id, _), task in zip(followers.items(), streaming, strict=True)
        if task in unfinished
    ]
    wrong_streams = await asyncio.to_thread(_wrong_streams, rig, followers)
    doubles = await asyncio.to_thread(double_executions, rig.engine.database_url, rig.simulator.url)
    repeated = await asyncio.to_thread(repeated_commands, rig.engine.database_url)
    differences = await replay_differences(rig.engine)
    if rig.hostile_counts:
        changed = sum(rig.hostile_counts.values())
        fault += (
            f" ({changed} answers changed: "
            + ", ".join(f"{what} {count}" for what, count in sorted(rig.hostile_counts.items()))
            + ")"
        )
    ROWS.append(
        FaultRow(
            fault,
            len(load.accepted),
            in_flight,
            len(lost | still_open),
            len(doubles),
            len(repeated),
            len(followers),
            len(wrong_streams),
            recovery_s,
            unplanned,
            horizon.longest_s * 1000,
        )
    )
    assert not load.refusals, load.refusals[:5]
    assert not never_closed, f"streams never closed: {never_closed[:5]}; logs in {rig.logs}"
    assert in_flight >= MIN_IN_FLIGHT, f"only {in_flight} orders in flight at the fault"
    assert not lost, f"{len(lost)} orders never final; logs in {rig.logs}"
    assert not doubles, doubles[:5]
    assert not repeated, repeated[:5]
    assert not differences, differences
    assert not wrong_streams, wrong_streams[:5]
    assert not unplanned, f"{rig.restarts} restarts, {rig.planned} planned; logs in {rig.logs}"
    if "API" in fault:
        assert any(f.reconnects for f in followers.values()), "no client was cut off"


async def _load_around(
    rig: FaultRig,
    inject: Callable[[FaultRig], Awaitable[None]],
    load: OrderLoad,
    followers: dict[str, StreamFollower],
    streaming: list[asyncio.Task[None]],
    stop: asyncio.Event,
) -> tuple[int, float, set[str]]:
    """Load before, during and after `inject`: (orders in flight through the fault: not
    final when it came, or accepted while it lasted; when it came; orders accepted
    before it ended)."""
    async with asyncio.TaskGroup() as group:
        group.create_task(load.run(stop))
        group.create_task(_follow_every_order(load, followers, streaming, stop))
        await _until(lambda: len(load.accepted) >= ORDERS_AROUND_FAULT, "load before the fault")
        half_burst = len(load.accepted) + BURST // 2
        burst = group.create_task(load.burst(BURST))
        await _until(lambda: len(load.accepted) >= half_burst, "half the burst accepted")
        open_at_fault = await asyncio.to_thread(unfinished, rig.engine.database_url, load.accepted)
        faulted_at = time.monotonic()
        await inject(rig)
        # A fault that lasts (a hostile node, a black hole) also has every order accepted
        # while it lasted in flight through it.
        in_flight = len(open_at_fault | {o for o, at in load.accepted.items() if at >= faulted_at})
        await burst
        before_end = set(load.accepted)
        await _until(lambda: len(load.accepted) >= len(before_end) + ORDERS_AROUND_FAULT, "load")
        stop.set()
    return in_flight, faulted_at, before_end


async def _follow_every_order(
    load: OrderLoad,
    followers: dict[str, StreamFollower],
    streaming: list[asyncio.Task[None]],
    stop: asyncio.Event,
) -> None:
    """A client streams each accepted order, first from `api-0` (the one killed)."""
    while not stop.is_set():
        for order_id in list(load.accepted):
            if order_id not in followers:
                follower = StreamFollower(order_id, load.apis, load.headers)
                followers[order_id] = follower
                streaming.append(asyncio.create_task(follower.follow()))
        await asyncio.sleep(0.02)


def _wrong_streams(rig: FaultRig, followers: dict[str, StreamFollower]) -> list[str]:
    with psycopg.connect(rig.engine.database_url) as conn:
        heads: dict[str, int] = dict(
            conn.execute(
                "SELECT stream_id, max(stream_version) FROM events GROUP BY stream_id"
            ).fetchall()
        )
    return [
        f"{order_id}: {f.versions} of {heads.get(stream_of(order_id))}"
        for order_id, f in followers.items()
        if not f.exactly_once() or len(f.versions) != heads.get(stream_of(order_id))
    ]


async def _until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
