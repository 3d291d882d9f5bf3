"""The one retry policy: back-off that doubles and stops growing, an outage logged once."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from db.retry import Outage, RetryPolicy, WhenQuiet, every_interval
from domain.records import StoreUnavailable


def test_the_back_off_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(first_s=0.1, max_s=1.0)
    assert [policy.delay_s(n) for n in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert policy.delay_s(10_000) == 1.0


def test_an_outage_is_logged_when_it_starts_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    outage = Outage("the thing", logging.getLogger("test.retry"))
    for _ in range(5):
        outage.failed(StoreUnavailable("down"))
    outage.recovered()
    outage.recovered()
    outage.failed(OSError("again"))
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "test.retry"]
    assert lines == [
        ("WARNING", "the thing failing; retrying with back-off"),
        ("INFO", "the thing recovered"),
        ("WARNING", "the thing failing; retrying with back-off"),
    ]
    assert outage.outages == 2


async def test_a_loop_goes_on_through_transient_failures_and_ends_on_a_bug() -> None:
    rounds: list[int] = []
    stop = asyncio.Event()

    async def one_round() -> None:
        rounds.append(len(rounds))
        if len(rounds) <= 3:
            raise StoreUnavailable("down")
        if len(rounds) == 5:
            stop.set()

    outage = Outage("loop", logging.getLogger("test.retry"), RetryPolicy(0.001, 0.002))
    await asyncio.wait_for(every_interval(outage, stop, 0.001, one_round), 5)
    assert len(rounds) == 5
    assert not outage.ongoing

    async def buggy() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await every_interval(outage, asyncio.Event(), 0.001, buggy)


async def test_a_quiet_loop_waits_for_its_bell_or_the_idle_time() -> None:
    """The confirmation watcher with nothing to follow: a round a second at most, and
    one at once when the dispatcher rings (it committed a signature to follow)."""
    rounds: list[float] = []
    stop, bell = asyncio.Event(), asyncio.Event()

    async def one_round() -> None:
        rounds.append(time.monotonic())

    quiet = WhenQuiet(idle_s=1.0, bell=bell, quiet=lambda: True)
    loop = asyncio.create_task(
        every_interval(
            Outage("test", logging.getLogger("test")), stop, 0.01, one_round, when_quiet=quiet
        )
    )
    await asyncio.sleep(1.5)
    assert len(rounds) <= 3, len(rounds)  # every 10 ms would be 150
    rung_at = time.monotonic()
    bell.set()
    await asyncio.sleep(0.2)
    stop.set()
    await loop
    assert any(0 <= at - rung_at < 0.1 for at in rounds), "the bell ended the wait"
