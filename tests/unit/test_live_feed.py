"""The tailer's fan-out with a hand-written fake log: bounded queues, no event lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from api.live_feed import Follower, LiveFeed
from domain.records import START, GlobalPosition, RecordedEvent, StoreUnavailable


def recorded(position: int, stream_id: str, version: int) -> RecordedEvent:
    return RecordedEvent(
        global_position=position,
        tx_id=position,
        stream_id=stream_id,
        stream_version=version,
        event_id=str(position),
        event_type="Noted",
        schema_version=1,
        data=b"{}",
        metadata=b"{}",
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


class FakeLog:
    """A global log in memory that can be told to fail its next reads."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.failures = 0

    def add(self, stream_id: str, version: int) -> None:
        self.events.append(recorded(len(self.events) + 1, stream_id, version))

    async def read_all(
        self, after: GlobalPosition, limit: int, event_types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("down for a moment")
        newer = [e for e in self.events if e.global_position > after.global_position]
        return newer[:limit]


def test_a_follower_that_never_reads_holds_at_most_its_capacity() -> None:
    follower = Follower("order-1", capacity=8)
    for version in range(1, 10_001):
        follower.offer(recorded(version, "order-1", version))
        assert len(follower._queue) <= 8
    assert follower.behind


async def test_an_overflowed_follower_is_told_to_catch_up_then_continues() -> None:
    follower = Follower("order-1", capacity=2)
    for version in (1, 2, 3):
        follower.offer(recorded(version, "order-1", version))
    assert await follower.next() is None  # re-read the store after the last version sent
    follower.offer(recorded(4, "order-1", 4))
    event = await follower.next()
    assert event is not None
    assert event.stream_version == 4


async def test_the_feed_hands_each_order_its_own_events_and_survives_an_outage() -> None:
    log = FakeLog()
    log.add("order-old", 1)  # before "now": not for the feed

    async def head() -> GlobalPosition:
        return GlobalPosition(1, 1)

    feed = LiveFeed(log, head, poll_interval_s=0.001, batch_size=2)
    mine, other = feed.follow("order-1"), feed.follow("order-2")
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop, retry_s=0.001))
    await asyncio.wait_for(feed.started.wait(), 5)
    log.failures = 2
    for version in (1, 2, 3):
        log.add("order-1", version)
        log.add("order-2", version)
    got = [await asyncio.wait_for(mine.next(), 5) for _ in range(3)]
    assert [(e.stream_id, e.stream_version) for e in got if e] == [
        ("order-1", v) for v in (1, 2, 3)
    ]
    assert (await asyncio.wait_for(other.next(), 5)) is not None
    feed.unfollow(mine)
    feed.unfollow(other)
    assert not feed._followers
    stop.set()
    await task
    assert feed.position is not None
    assert feed.position > START
