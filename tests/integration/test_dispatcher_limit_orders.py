"""The dispatcher and limit orders: an armed order is nothing in flight (the trigger
evaluator watches it), a fired arm g routes as attempt g, re-armed or ended orders are
forgotten."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from domain.events import (
    OrderArmed,
    OrderCancelled,
    OrderConfirmed,
    OrderRearmed,
    OrderSubmitted,
    TriggerFired,
    TriggerQuote,
)
from tests.integration.test_dispatcher import (
    RecordingPublisher,
    apply,
    clear,
    recorded,
    submitted,
    waiting_row,
)
from workers.process_manager.admission import Admission
from workers.process_manager.dispatcher import Dispatcher


def limit_submitted(order_id: str) -> OrderSubmitted:
    return OrderSubmitted(
        order_id=order_id,
        order_type="limit",
        token_in="SOL",
        token_out="USDC",
        amount_in=10**9,
        slippage_bps=0,
        limit_amount_out=150 * 10**6,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )


def fired(generation: int) -> TriggerFired:
    quote = TriggerQuote(expected_amount_out=151 * 10**6, price_impact="0", legs=())
    return TriggerFired(generation=generation, slot=7, quote=quote, fired_at=datetime.now(UTC))


async def test_a_limit_order_routes_only_when_fired_as_the_attempt_of_its_arm(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    dispatcher = Dispatcher(publish, Admission(0, 0, 5_000), 5_000)
    order = str(uuid.uuid4())
    await apply(
        pool,
        dispatcher,
        [recorded(order, limit_submitted(order)), recorded(order, OrderArmed(generation=1))],
    )
    assert publish.sent == []
    assert await waiting_row(pool, order) is None
    await apply(pool, dispatcher, [recorded(order, fired(1))])
    assert publish.sent == [("route_and_send", {"orders": [[order, 1]]}, None)]
    assert await waiting_row(pool, order) == ("route_and_send", 1, True)
    rearmed = OrderRearmed(generation=2, reason="slippage", code="6005")
    await apply(pool, dispatcher, [recorded(order, rearmed)])
    assert await waiting_row(pool, order) is None
    await apply(pool, dispatcher, [recorded(order, fired(2))])
    assert publish.sent[-1] == ("route_and_send", {"orders": [[order, 2]]}, None)
    await apply(pool, dispatcher, [recorded(order, OrderCancelled(reason="by the client"))])
    assert await waiting_row(pool, order) is None
    assert len(publish.sent) == 2


async def test_a_limit_submission_alone_waits_for_no_admission(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    await clear(pool)
    publish = RecordingPublisher()
    dispatcher = Dispatcher(publish, Admission(0, 0, 5_000), 5_000)
    order = str(uuid.uuid4())
    await apply(pool, dispatcher, [recorded(order, limit_submitted(order))])
    assert publish.sent == []
    assert await waiting_row(pool, order) is None


async def test_a_fired_limit_order_waits_for_admission_like_a_market_order(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    """INFLIGHT_LIMIT bounds what executes at once: a slot that fires a thousand limit
    orders must not start them all past it."""
    await clear(pool)
    publish = RecordingPublisher()
    dispatcher = Dispatcher(publish, Admission(1, 0, 5_000), 5_000)
    market, limit = str(uuid.uuid4()), str(uuid.uuid4())
    armed = [recorded(limit, limit_submitted(limit)), recorded(limit, OrderArmed(generation=1))]
    await apply(pool, dispatcher, [recorded(market, submitted(market)), *armed])
    rearmed = OrderRearmed(generation=2, reason="slippage", code="6005")
    await apply(pool, dispatcher, [recorded(limit, fired(1)), recorded(limit, rearmed)])
    await apply(pool, dispatcher, [recorded(limit, fired(2))])
    assert publish.sent == [("route_and_send", {"orders": [[market, 1]]}, None)]
    assert await waiting_row(pool, limit) == ("route_and_send", 2, False)
    done = OrderConfirmed(
        attempt=1, signature="t", slot=1, amount_out=1, legs=(), network_fee_lamports=1
    )
    await apply(pool, dispatcher, [recorded(market, done)])
    assert publish.sent[-1] == ("route_and_send", {"orders": [[limit, 2]]}, None)
    assert await waiting_row(pool, limit) == ("route_and_send", 2, True)
