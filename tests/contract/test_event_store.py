"""The event store contract, run against the in-memory and the PostgreSQL store."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from api.services import EventLog
from domain.records import START, CommandConflict, ConcurrencyConflict, GlobalPosition
from tests.support.events import new_event, stream


async def test_append_numbers_versions_and_reads_back_in_order(store: EventLog) -> None:
    stream_id = stream()
    events = [new_event(n=i) for i in range(3)]
    result = await store.append(stream_id, 0, events)
    assert (result.first_version, result.last_version, result.duplicate) == (1, 3, False)
    read = await store.read_stream(stream_id)
    assert [e.stream_version for e in read] == [1, 2, 3]
    assert [e.event_id for e in read] == [e.event_id for e in events]
    assert [msgspec.json.decode(e.data) for e in read] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert msgspec.json.decode(read[0].metadata) == {"actor": "test"}


async def test_read_stream_after_a_version(store: EventLog) -> None:
    stream_id = stream()
    await store.append(stream_id, 0, [new_event(n=i) for i in range(4)])
    assert [e.stream_version for e in await store.read_stream(stream_id, 2)] == [3, 4]
    assert await store.read_stream(stream(), 0) == []


async def test_read_streams_returns_each_whole_stream_in_one_read(store: EventLog) -> None:
    first, second, missing = stream(), stream(), stream()
    await store.append(first, 0, [new_event(n=i) for i in range(3)])
    await store.append(second, 0, [new_event(n=9)])
    await store.append(first, 3, [new_event(n=3)])
    streams = await store.read_streams([first, second, missing])
    assert set(streams) == {first, second}
    assert streams[first] == await store.read_stream(first)
    assert [e.stream_version for e in streams[first]] == [1, 2, 3, 4]
    assert streams[second] == await store.read_stream(second)
    assert await store.read_streams([]) == {}


async def test_first_events_reads_each_stream_s_first_event_in_one_read(store: EventLog) -> None:
    first, second, missing = stream(), stream(), stream()
    await store.append(first, 0, [new_event(n=i) for i in range(3)])
    await store.append(second, 0, [new_event(n=9)])
    heads = await store.first_events([first, second, missing])
    assert set(heads) == {first, second}
    assert heads[first] == (await store.read_stream(first))[0]
    assert heads[second] == (await store.read_stream(second))[0]
    assert await store.first_events([]) == {}


async def test_wrong_expected_version_is_a_conflict_and_writes_nothing(store: EventLog) -> None:
    stream_id = stream()
    await store.append(stream_id, 0, [new_event()])
    for wrong in (0, 2, 5):
        with pytest.raises(ConcurrencyConflict):
            await store.append(stream_id, wrong, [new_event()])
    assert len(await store.read_stream(stream_id)) == 1


async def test_racing_appends_at_one_version_let_exactly_one_win(store: EventLog) -> None:
    stream_id = stream()
    await store.append(stream_id, 0, [new_event()])
    outcomes = await asyncio.gather(
        *(store.append(stream_id, 1, [new_event(n=i)]) for i in range(8)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, ConcurrencyConflict) for o in outcomes if o not in winners)
    assert len(await store.read_stream(stream_id)) == 2


async def test_repeated_command_returns_first_result_and_writes_once(store: EventLog) -> None:
    stream_id = stream()
    first = await store.append(stream_id, 0, [new_event()], command_id="c1", request_hash="h")
    # A retry may even name another stream (a new order id): the first one is returned.
    again = await store.append(stream(), 0, [new_event()], command_id="c1", request_hash="h")
    assert again.duplicate
    assert (again.stream_id, again.first_version, again.last_version) == (stream_id, 1, 1)
    assert not first.duplicate
    assert len(await store.read_all(START, 100)) == 1


async def test_command_reused_with_another_request_is_refused(store: EventLog) -> None:
    await store.append(stream(), 0, [new_event()], command_id="c2", request_hash="a")
    with pytest.raises(CommandConflict):
        await store.append(stream(), 0, [new_event()], command_id="c2", request_hash="b")
    assert len(await store.read_all(START, 100)) == 1


async def test_racing_identical_commands_write_once(store: EventLog) -> None:
    results = await asyncio.gather(
        *(
            store.append(stream(), 0, [new_event()], command_id="race", request_hash="h")
            for _ in range(10)
        )
    )
    assert len({r.stream_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert len(await store.read_all(START, 100)) == 1


async def test_a_refused_append_does_not_record_its_command(store: EventLog) -> None:
    stream_id = stream()
    await store.append(stream_id, 0, [new_event()])
    with pytest.raises(ConcurrencyConflict):
        await store.append(stream_id, 0, [new_event()], command_id="c3", request_hash="h")
    result = await store.append(stream_id, 1, [new_event()], command_id="c3", request_hash="h")
    assert not result.duplicate
    assert result.first_version == 2


async def test_an_event_id_is_never_stored_twice(store: EventLog) -> None:
    event = new_event()
    await store.append(stream(), 0, [event])
    with pytest.raises(ConcurrencyConflict):
        await store.append(stream(), 0, [event])
    assert len(await store.read_all(START, 100)) == 1


async def test_global_log_pages_in_commit_order(store: EventLog) -> None:
    streams = [stream() for _ in range(3)]
    for round_ in range(3):
        for stream_id in streams:
            await store.append(stream_id, round_, [new_event(n=round_)])
    seen = []
    position = START
    while page := await store.read_all(position, 4):
        seen.extend(page)
        position = GlobalPosition(page[-1].tx_id, page[-1].global_position)
    assert len(seen) == 9
    positions = [(e.tx_id, e.global_position) for e in seen]
    assert positions == sorted(positions)
    assert len(set(positions)) == 9
    for stream_id in streams:
        assert [e.stream_version for e in seen if e.stream_id == stream_id] == [1, 2, 3]


async def test_global_log_filters_by_event_type(store: EventLog) -> None:
    await store.append(stream(), 0, [new_event("A"), new_event("B"), new_event("A")])
    only_a = await store.read_all(START, 10, ["A"])
    assert [e.event_type for e in only_a] == ["A", "A"]
    assert await store.read_all(START, 10, ["C"]) == []
