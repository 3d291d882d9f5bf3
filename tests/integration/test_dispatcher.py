"""The dispatcher's bookkeeping in PostgreSQL, with a publisher that only records."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import dramatiq
import msgspec
import pytest
import redis.exceptions
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.event_store import PostgresEventStore
from db.inflight import Watched, stop, stopped, watched
from db.pool import create_pool
from db.subscription import SubscriptionRunner
from domain.events import (
    AttemptFailed,
    OrderConfirmed,
    OrderEvent,
    OrderSubmitted,
    RouteSelected,
    TransactionSent,
    TransactionSigned,
    encode_event_data,
    event_type,
)
from domain.records import EventMetadata, NewEvent, RecordedEvent
from domain.streams import order_stream
from orderengine import cli
from tests.support.black_hole import black_hole
from tests.support.read_side_api import wait_until
from workers.broker import broker_publisher, build_broker
from workers.messages import ROUTE_BATCH, Outgoing, Step
from workers.process_manager.admission import Admission
from workers.process_manager.dispatcher import Dispatcher
from workers.process_manager.sweeper import Sweeper

Sent = list[tuple[str, dict[str, Any], int | None]]


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: Sent = []

    async def __call__(self, outgoing: Outgoing) -> None:
        self.sent.extend(_summary(message, delay) for message, delay in outgoing)


def _summary(
    message: dramatiq.Message[Any], delay: int | None
) -> tuple[str, dict[str, Any], int | None]:
    kwargs = {k: v for k, v in message.kwargs.items() if k != "lease_ms"}
    return message.actor_name, kwargs, delay


def recorded(order_id: str, event: OrderEvent) -> RecordedEvent:
    return RecordedEvent(
        global_position=0,
        tx_id=0,
        stream_id=order_stream(order_id),
        stream_version=1,
        event_id=str(uuid.uuid4()),
        event_type=event_type(event),
        schema_version=1,
        data=encode_event_data(event),
        metadata=b"{}",
        recorded_at=datetime.now(UTC),
    )


ROUTE_SELECTED = RouteSelected(
    attempt=1,
    quotes=(),
    legs=(),
    expected_amount_out=1,
    min_amount_out=1,
    price_impact="0",
    context_slot=1,
)


def submitted(order_id: str) -> OrderSubmitted:
    return OrderSubmitted(
        order_id=order_id,
        order_type="market",
        token_in="SOL",
        token_out="USDC",
        amount_in=1,
        slippage_bps=50,
    )


async def apply(
    pool: AsyncConnectionPool[AsyncConnection], dispatcher: Dispatcher, events: list[RecordedEvent]
) -> None:
    async with pool.connection() as conn:
        async with conn.transaction():
            after_commit = await dispatcher.apply(conn, events)
        if after_commit is not None:
            await after_commit()


async def waiting_row(
    pool: AsyncConnectionPool[AsyncConnection], order_id: str
) -> tuple[Any, ...] | None:
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT step, attempt, admitted FROM inflight_orders WHERE order_id = %s", (order_id,)
        )
        return await cursor.fetchone()


async def clear(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM inflight_orders")


async def test_each_event_sends_the_next_step(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    dispatcher = Dispatcher(publish, Admission(0, 0, 5_000), 5_000)
    order = str(uuid.uuid4())
    await apply(pool, dispatcher, [recorded(order, submitted(order))])
    assert publish.sent == [("route_and_send", {"orders": [[order, 1]]}, None)]
    route = ROUTE_SELECTED
    signed = TransactionSigned(attempt=1, signature="s", blockhash="h", last_valid_block_height=9)
    failed = AttemptFailed(
        attempt=1, signature="s", reason="slippage", code="X", will_retry=True, retry_after_ms=700
    )
    for event in (route, signed, failed):
        await apply(pool, dispatcher, [recorded(order, event)])
    assert publish.sent[1:] == [
        ("resend_transaction", {"order_id": order, "attempt": 1}, None),
        ("route_and_send", {"order_id": order, "attempt": 2}, 700),
    ]
    assert await waiting_row(pool, order) == ("route_and_send", 2, True)
    done = OrderConfirmed(
        attempt=2, signature="t", slot=1, amount_out=1, legs=(), network_fee_lamports=1
    )
    await apply(pool, dispatcher, [recorded(order, done)])
    assert await waiting_row(pool, order) is None


async def test_the_inflight_limit_holds_orders_back_until_one_finishes(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    dispatcher = Dispatcher(publish, Admission(1, 0, 5_000), 5_000)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(
        pool, dispatcher, [recorded(first, submitted(first)), recorded(second, submitted(second))]
    )
    assert [kwargs["orders"] for _, kwargs, _ in publish.sent] == [[[first, 1]]]
    assert await waiting_row(pool, second) == ("route_and_send", 1, False)
    done = OrderConfirmed(
        attempt=1, signature="t", slot=1, amount_out=1, legs=(), network_fee_lamports=1
    )
    await apply(pool, dispatcher, [recorded(first, done)])
    assert [kwargs["orders"] for _, kwargs, _ in publish.sent] == [[[first, 1]], [[second, 1]]]


async def test_the_sweeper_sends_an_overdue_step_again_once_per_due_time(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, 0, 0)
    dispatcher = Dispatcher(publish, admission, 0)  # every step is overdue at once
    order = str(uuid.uuid4())
    await apply(pool, dispatcher, [recorded(order, submitted(order))])
    sweeper = Sweeper(pool, publish, admission, recover_after_ms=60_000)
    assert await sweeper.sweep_once() == 1
    assert await sweeper.sweep_once() == 0, "a re-sent step is not due again at once"
    assert publish.sent == [
        ("route_and_send", {"orders": [[order, 1]]}, None),
        ("route_and_send", {"order_id": order, "attempt": 1}, None),
    ]


class BlackHoledPublisher:
    """What the broker does while Redis does not answer: every send times out."""

    async def __call__(self, outgoing: Outgoing) -> None:
        raise redis.exceptions.TimeoutError("Timeout reading from socket")


async def test_a_sweep_whose_send_failed_spends_no_back_off(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    """A Redis outage must not push lost steps back: each failed sweep claimed them
    (doubling their due time) though nothing went out, so after a 5 s black hole an
    order waited up to 16 x RECOVER_AFTER_MS for its step (CI: 9 orders not final
    30 s after the fault)."""
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, 0, 0)
    dispatcher = Dispatcher(publish, admission, 0)  # every step is overdue at once
    order = str(uuid.uuid4())
    await apply(pool, dispatcher, [recorded(order, submitted(order))])
    publish.sent.clear()
    outage = Sweeper(pool, BlackHoledPublisher(), admission, recover_after_ms=60_000)
    for _ in range(3):
        with pytest.raises(redis.exceptions.TimeoutError):
            await outage.sweep_once()
    sweeper = Sweeper(pool, publish, admission, recover_after_ms=60_000)
    assert await sweeper.sweep_once() == 1, "the step is due at once when Redis is back"
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT resends, due_at > now() + interval '50 s'"
            " AND due_at < now() + interval '70 s' FROM inflight_orders WHERE order_id = %s",
            (order,),
        )
        assert await cursor.fetchone() == (1, True), "one resend went out: one back-off"


async def test_a_step_whose_queue_still_holds_messages_is_not_sent_again(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    """Overloaded, an admitted order's message waits in the queue longer than
    RECOVER_AFTER_MS: it is late, not lost. Re-sending it only queued duplicates
    behind it (a 30-minute soak at 100 orders/s on a loaded machine re-sent 494,066
    steps and finished 38,557 of 179,994 orders)."""
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, 0, 0)
    order = str(uuid.uuid4())
    await apply(pool, Dispatcher(publish, admission, 0), [recorded(order, submitted(order))])
    publish.sent.clear()
    waiting = {Step.ROUTE.queue: 40}

    async def queued(queue_name: str) -> int:
        return waiting.get(queue_name, 0)

    sweeper = Sweeper(pool, publish, admission, recover_after_ms=60_000, queued=queued)
    assert await sweeper.sweep_once() == 0, "the route queue is not drained yet"
    assert not publish.sent
    waiting[Step.ROUTE.queue] = 0
    assert await sweeper.sweep_once() == 1, "drained, and the step still overdue: lost"


async def test_resends_back_off_to_at_most_four_times_the_recovery_time(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, 0, 0)
    await apply(
        pool,
        Dispatcher(publish, admission, 0),
        [recorded(order := str(uuid.uuid4()), submitted(order))],
    )
    sweeper = Sweeper(pool, publish, admission, recover_after_ms=10_000)
    waits = []
    for _ in range(5):
        assert await sweeper.sweep_once() == 1
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT extract(epoch FROM due_at - now()) FROM inflight_orders"
                " WHERE order_id = %s",
                (order,),
            )
            (wait_s,) = await cursor.fetchone() or (None,)
            waits.append(round(float(wait_s)))
            await conn.execute(
                "UPDATE inflight_orders SET due_at = now() - interval '1 s' WHERE order_id = %s",
                (order,),
            )
    assert waits == [10, 20, 40, 40, 40]


async def test_a_sent_signature_is_watched_not_messaged_nor_swept(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, 0, 0)
    dispatcher = Dispatcher(publish, admission, 0)  # every step is overdue at once
    order = str(uuid.uuid4())
    signed = TransactionSigned(attempt=1, signature="s", blockhash="h", last_valid_block_height=9)
    await apply(
        pool, dispatcher, [recorded(order, signed), recorded(order, TransactionSent(1, "s"))]
    )
    assert publish.sent == []
    async with pool.connection() as conn:
        assert await watched(conn, 10) == [Watched(order, 1, "s")]
    sweeper = Sweeper(pool, publish, admission, recover_after_ms=60_000)
    assert await sweeper.sweep_once() == 0, "the watcher follows it, not the sweeper"
    failed = AttemptFailed(
        attempt=1, signature="s", reason="expired", code="X", will_retry=True, retry_after_ms=0
    )
    await apply(pool, dispatcher, [recorded(order, failed)])
    async with pool.connection() as conn:
        assert await watched(conn, 10) == []


async def test_orders_admitted_together_start_in_batches_of_route_batch(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    dispatcher = Dispatcher(publish, Admission(0, 0, 5_000), 5_000)
    orders = [str(uuid.uuid4()) for _ in range(ROUTE_BATCH + 1)]
    await apply(pool, dispatcher, [recorded(order, submitted(order)) for order in orders])
    batches = [[oid for oid, _ in kwargs["orders"]] for _, kwargs, _ in publish.sent]
    assert [len(batch) for batch in batches] == [ROUTE_BATCH, 1]
    assert sorted(oid for batch in batches for oid in batch) == sorted(orders)


async def inflight_row_exists(pool: AsyncConnectionPool[AsyncConnection], order_id: str) -> bool:
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT 1 FROM inflight_orders WHERE order_id = %s", (order_id,)
        )
        return await cursor.fetchone() is not None


async def submit_event(store: PostgresEventStore, order_id: str) -> None:
    event = submitted(order_id)
    new = NewEvent(str(uuid.uuid4()), event_type(event), encode_event_data(event), EventMetadata())
    await store.append(order_stream(order_id), 0, [new])


async def test_a_black_holed_redis_neither_holds_the_commit_nor_hangs_the_dispatcher(
    own_database: str,
) -> None:
    pool = create_pool(own_database, min_size=1, max_size=4, acquire_timeout_s=2)
    await pool.open(wait=True)
    store = PostgresEventStore(pool)
    stop = asyncio.Event()
    with black_hole() as redis_url:
        broker = build_broker(redis_url, f"oe-test-{uuid.uuid4().hex[:8]}", redis_timeout_s=1.0)
        dispatcher = Dispatcher(broker_publisher(broker), Admission(0, 0, 60_000), 60_000)
        runner = SubscriptionRunner(own_database, store, dispatcher, poll_interval_s=0.02)
        task = asyncio.create_task(runner.run_until_stopped(stop))
        try:
            await wait_until(runner.active.is_set, what="the dispatcher active")
            first, second = str(uuid.uuid4()), str(uuid.uuid4())
            await submit_event(store, first)
            # Committed before the publish that hangs (up to the Redis timeout).
            await wait_until(
                lambda: inflight_row_exists(pool, first), what="the first commit", seconds=0.8
            )
            await submit_event(store, second)
            await wait_until(
                lambda: inflight_row_exists(pool, second), what="the next batch", seconds=10
            )
            assert not task.done()
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            broker.close()
            await pool.close()


async def test_messages_lost_between_commit_and_send_are_sent_again_by_the_sweeper(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, 0, 0)
    dispatcher = Dispatcher(publish, admission, 0)  # every step is overdue at once
    new, routed, retried = (str(uuid.uuid4()) for _ in range(3))
    route = ROUTE_SELECTED
    failed = AttemptFailed(
        attempt=1, signature="s", reason="slippage", code="X", will_retry=True, retry_after_ms=0
    )
    events = [recorded(new, submitted(new)), recorded(routed, route), recorded(retried, failed)]
    async with pool.connection() as conn, conn.transaction():
        lost = await dispatcher.apply(conn, events)
    assert lost is not None, "three messages were due after the commit"
    assert publish.sent == [], "nothing is sent before the commit"
    # The crash: `lost` never runs. The rows committed with the checkpoint are the outbox.
    sweeper = Sweeper(pool, publish, admission, recover_after_ms=60_000)
    assert await sweeper.sweep_once() == 3
    sent = {(actor, kwargs["order_id"], kwargs["attempt"]) for actor, kwargs, _ in publish.sent}
    assert sent == {
        ("route_and_send", new, 1),
        ("resend_transaction", routed, 1),
        ("route_and_send", retried, 2),
    }


async def test_an_undecodable_event_stops_its_order_instead_of_a_resend_forever(
    pool: AsyncConnectionPool[AsyncConnection], caplog: pytest.LogCaptureFixture
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, 0, 0)
    dispatcher = Dispatcher(publish, admission, 0)  # every step is overdue at once
    order = str(uuid.uuid4())
    route = ROUTE_SELECTED
    await apply(pool, dispatcher, [recorded(order, route)])
    publish.sent.clear()
    # A TransactionSent this version of the engine cannot read (a schema it does not know).
    unreadable = msgspec.structs.replace(
        recorded(order, TransactionSent(1, "s")), data=b'{"attempt": "one"}', stream_version=4
    )
    await apply(pool, dispatcher, [unreadable])
    sweeper = Sweeper(pool, publish, admission, recover_after_ms=0)
    for _ in range(3):
        await sweeper.sweep_once()
    assert publish.sent == [], "the order's old step is sent again and again"
    counter = dispatcher.telemetry.registry.get_sample_value(
        "orderengine_undecodable_events_total", {"event_type": "TransactionSent"}
    )
    assert counter == 1
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"TransactionSent at version 4 of stream order-{order}" in error
    async with pool.connection() as conn:
        (row,) = await stopped(conn)
    assert (row.order_id, row.step, row.attempt) == (order, "resend_transaction", 1)
    assert "TransactionSent at version 4" in row.reason
    # A later step does not move it; the watcher does not follow it either.
    await apply(pool, dispatcher, [recorded(order, TransactionSent(1, "s"))])
    async with pool.connection() as conn:
        assert await watched(conn, 10) == []
        assert [r.order_id for r in await stopped(conn)] == [order]
    # A final event ends it as any other.
    done = OrderConfirmed(
        attempt=1, signature="s", slot=1, amount_out=1, legs=(), network_fee_lamports=1
    )
    await apply(pool, dispatcher, [recorded(order, done)])
    async with pool.connection() as conn:
        assert await stopped(conn) == []


async def test_an_operator_lists_the_stopped_orders(
    own_database: str,
    redis_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", own_database)
    monkeypatch.setenv("REDIS_URL", redis_server)
    assert await asyncio.to_thread(_orderengine, "stopped") == 0
    assert capsys.readouterr().out == "no stopped orders\n"
    order = str(uuid.uuid4())
    async with await AsyncConnection.connect(own_database, autocommit=True) as conn:
        await stop(conn, {order: "event X at version 3 cannot be decoded"})
    assert await asyncio.to_thread(_orderengine, "stopped") == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{order} stopped ")
    assert line.endswith(" unstarted: event X at version 3 cannot be decoded")


def _orderengine(*argv: str) -> int:
    try:
        cli.main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    raise AssertionError("orderengine did not exit")
