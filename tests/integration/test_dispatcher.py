"""The dispatcher's bookkeeping in PostgreSQL, with a publisher that only records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dramatiq
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.inflight import Watched, watched
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
from domain.records import RecordedEvent
from domain.streams import order_stream
from workers.admission import Admission, RateLimit
from workers.dispatcher import Dispatcher, Outgoing
from workers.messages import ROUTE_BATCH
from workers.sweeper import Sweeper

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
    async with pool.connection() as conn, conn.transaction():
        await dispatcher.apply(conn, events)


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
    dispatcher = Dispatcher(publish, Admission(0, RateLimit(0), 5_000), 5_000)
    order = str(uuid.uuid4())
    await apply(pool, dispatcher, [recorded(order, submitted(order))])
    assert publish.sent == [("route_order", {"orders": [[order, 1]]}, None)]
    route = RouteSelected(
        attempt=1,
        quotes=(),
        legs=(),
        expected_amount_out=1,
        min_amount_out=1,
        price_impact="0",
        context_slot=1,
    )
    signed = TransactionSigned(attempt=1, signature="s", blockhash="h", last_valid_block_height=9)
    failed = AttemptFailed(
        attempt=1, signature="s", reason="slippage", code="X", will_retry=True, retry_after_ms=700
    )
    for event in (route, signed, failed):
        await apply(pool, dispatcher, [recorded(order, event)])
    assert publish.sent[1:] == [
        ("execute_order", {"order_id": order, "attempt": 1}, None),
        ("route_order", {"order_id": order, "attempt": 2}, 700),
    ]
    assert await waiting_row(pool, order) == ("route_order", 2, True)
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
    dispatcher = Dispatcher(publish, Admission(1, RateLimit(0), 5_000), 5_000)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(
        pool, dispatcher, [recorded(first, submitted(first)), recorded(second, submitted(second))]
    )
    assert [kwargs["orders"] for _, kwargs, _ in publish.sent] == [[[first, 1]]]
    assert await waiting_row(pool, second) == ("route_order", 1, False)
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
    admission = Admission(0, RateLimit(0), 0)
    dispatcher = Dispatcher(publish, admission, 0)  # every step is overdue at once
    order = str(uuid.uuid4())
    await apply(pool, dispatcher, [recorded(order, submitted(order))])
    sweeper = Sweeper(pool, publish, admission, recover_after_ms=60_000)
    assert await sweeper.sweep_once() == 1
    assert await sweeper.sweep_once() == 0, "a re-sent step is not due again at once"
    assert publish.sent == [
        ("route_order", {"orders": [[order, 1]]}, None),
        ("route_order", {"order_id": order, "attempt": 1}, None),
    ]


async def test_a_sent_signature_is_watched_not_messaged_nor_swept(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    admission = Admission(0, RateLimit(0), 0)
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
    dispatcher = Dispatcher(publish, Admission(0, RateLimit(0), 5_000), 5_000)
    orders = [str(uuid.uuid4()) for _ in range(ROUTE_BATCH + 1)]
    await apply(pool, dispatcher, [recorded(order, submitted(order)) for order in orders])
    batches = [[oid for oid, _ in kwargs["orders"]] for _, kwargs, _ in publish.sent]
    assert [len(batch) for batch in batches] == [ROUTE_BATCH, 1]
    assert sorted(oid for batch in batches for oid in batch) == sorted(orders)
