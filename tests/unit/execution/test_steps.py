"""Each step against a fake venue and the in-memory store; a redelivered step is a no-op."""

from __future__ import annotations

import uuid

import pytest

from commands.order_steps import load_order
from commands.submit_order import submit_order
from db.memory import InMemoryEventStore
from domain.commands import SubmitOrder
from domain.routing import VenueUnavailable
from domain.signatures import transaction_signature
from domain.status import OrderStatus
from domain.streams import order_stream
from tests.unit.execution.fakes import FakeVenue
from workers.context import ExecutionPolicy, StepContext
from workers.execute_step import execute_order
from workers.follow_step import follow_order
from workers.route_step import route_order, route_orders


@pytest.fixture
def venue() -> FakeVenue:
    return FakeVenue()


@pytest.fixture
def ctx(venue: FakeVenue) -> StepContext:
    return StepContext(InMemoryEventStore(), venue, ExecutionPolicy(max_attempts=2))


async def new_order(ctx: StepContext, amount_in: int = 10**9) -> str:
    order_id = str(uuid.uuid4())
    command = SubmitOrder(
        order_id=order_id,
        order_type="market",
        token_in="SOL",
        token_out="USDC",
        amount_in=amount_in,
        slippage_bps=50,
    )
    await submit_order(ctx.store, command, None)
    return order_id


async def event_types(ctx: StepContext, order_id: str) -> list[str]:
    return [e.event_type for e in await ctx.store.read_stream(order_stream(order_id))]


async def test_route_records_every_quote_and_the_route_once(ctx: StepContext) -> None:
    order_id = await new_order(ctx)
    await route_order(ctx, order_id, 1)
    await route_order(ctx, order_id, 1)  # redelivered
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.SUBMITTED
    assert {q.venue for q in state.quotes} == {"raydium", "meteora"}
    assert sum(leg.amount_in for leg in state.legs) == 10**9
    assert state.expected_amount_out == sum(leg.amount_out for leg in state.legs)
    assert state.min_amount_out == state.expected_amount_out * 9_950 // 10_000
    assert await event_types(ctx, order_id) == [
        "OrderSubmitted",
        "RoutingStarted",
        "RouteSelected",
        "TransactionSigned",
        "TransactionSent",
    ]


async def test_route_signs_before_sending_and_a_redelivery_sends_nothing_more(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    await route_order(ctx, order_id, 1)
    await execute_order(ctx, order_id, 1)  # a sweeper's resend: already sent, nothing happens
    await route_order(ctx, order_id, 1)
    assert [tx.signature for tx in venue.sent] == [transaction_signature(order_id, 1)]
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.SUBMITTED
    assert state.last_valid_block_height == 1_150
    assert (await event_types(ctx, order_id))[-2:] == ["TransactionSigned", "TransactionSent"]


async def test_a_crash_after_signing_resends_the_recorded_signature(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    venue.sends_down = True
    with pytest.raises(VenueUnavailable):
        await route_order(ctx, order_id, 1)
    assert (await event_types(ctx, order_id))[-1] == "TransactionSigned", "recorded first"
    assert venue.sent == []
    venue.sends_down = False
    venue.height += 5  # a later blockhash must not change the recorded signature
    await route_order(ctx, order_id, 1)  # the broker's retry of the same message
    await execute_order(ctx, order_id, 1)  # and the sweeper's: both send the same tx
    assert {tx.signature for tx in venue.sent} == {transaction_signature(order_id, 1)}
    assert {tx.last_valid_block_height for tx in venue.sent} == {1_150}


async def test_follow_waits_then_confirms_with_the_executed_legs(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    await route_order(ctx, order_id, 1)
    await execute_order(ctx, order_id, 1)
    venue.script.extend(["pending", "processed", "confirmed"])
    assert await follow_order(ctx, order_id, 1) is True
    assert await follow_order(ctx, order_id, 1) is True
    assert await follow_order(ctx, order_id, 1) is False
    assert await follow_order(ctx, order_id, 1) is False  # redelivered: already final
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.CONFIRMED
    assert state.slot == 99
    assert state.amount_out == sum(leg.amount_out for leg in state.legs)


async def test_a_failed_attempt_retries_and_the_last_one_fails_the_order(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    for attempt in (1, 2):
        await route_order(ctx, order_id, attempt)
        await execute_order(ctx, order_id, attempt)
        venue.script.append("failed" if attempt == 1 else "expired")
        assert await follow_order(ctx, order_id, attempt) is False
        state = await load_order(ctx.store, order_id)
        assert state is not None
        assert state.status == (OrderStatus.RETRYING if attempt == 1 else OrderStatus.FAILED)
    final = await load_order(ctx.store, order_id)
    assert final is not None
    assert final.failure_code == "BlockhashNotFound"
    assert "expired" in (final.failure_reason or "")
    await route_order(ctx, order_id, 3)  # a stray message after the end: nothing
    assert (await event_types(ctx, order_id)).count("AttemptFailed") == 2
    assert len({tx.signature for tx in venue.sent}) == 2


async def test_an_unknown_signature_is_sent_again_until_its_blockhash_expires(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    await route_order(ctx, order_id, 1)
    await execute_order(ctx, order_id, 1)
    venue.known.clear()  # the venue forgot it (restarted)
    assert await follow_order(ctx, order_id, 1) is True
    assert len(venue.sent) == 2
    venue.known.clear()
    venue.height = 1_151  # past lastValidBlockHeight: it can never land now
    assert await follow_order(ctx, order_id, 1) is False
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.RETRYING


async def test_an_amount_no_pool_can_fill_fails_without_retrying(ctx: StepContext) -> None:
    order_id = await new_order(ctx, amount_in=10**15)  # outputs go negative: no fill
    await route_order(ctx, order_id, 1)
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.FAILED
    assert state.failure_code == "NoRoute"


async def test_a_batch_routes_every_order_and_raises_only_after_all_are_done(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_ids = [await new_order(ctx) for _ in range(3)]
    stranger = str(uuid.uuid4())  # no such order: nothing to do, no error
    await route_orders(ctx, [(order_id, 1) for order_id in [*order_ids, stranger]])
    assert {tx.signature for tx in venue.sent} == {
        transaction_signature(order_id, 1) for order_id in order_ids
    }
    venue.sends_down = True
    late = [await new_order(ctx) for _ in range(2)]
    with pytest.raises(VenueUnavailable):
        await route_orders(ctx, [(order_id, 1) for order_id in late])
    for order_id in late:  # both got as far as the signature before the error surfaced
        assert (await event_types(ctx, order_id))[-1] == "TransactionSigned"
