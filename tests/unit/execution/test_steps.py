"""Each step against a fake venue and the in-memory store; a redelivered step is a no-op."""

from __future__ import annotations

import uuid

import pytest

from commands.order_steps import load_order
from commands.resend_transaction import resend_transaction
from commands.route_and_send import route_and_send
from commands.settle_attempt import look_and_settle
from commands.step_context import ExecutionPolicy, StepContext
from commands.submit_order import submit_order
from commands.transactions import SameTransaction
from domain.commands import SubmitOrder
from domain.events import TransactionSigned, decode_event
from domain.status import OrderStatus
from domain.streams import order_stream
from tests.unit.execution.fakes import FakeVenue, WorkerCrashed, fake_context


@pytest.fixture
def venue() -> FakeVenue:
    return FakeVenue()


@pytest.fixture
def ctx(venue: FakeVenue) -> StepContext:
    return fake_context(venue, ExecutionPolicy(max_attempts=2))


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


async def signature_of(ctx: StepContext, order_id: str, attempt: int) -> str:
    """The signature the order recorded for attempt `attempt` (its TransactionSigned)."""
    for recorded in await ctx.store.read_stream(order_stream(order_id)):
        event = decode_event(recorded.event_type, recorded.data)
        if isinstance(event, TransactionSigned) and event.attempt == attempt:
            return event.signature
    raise AssertionError(f"order {order_id} signed no attempt {attempt}")


async def test_route_records_every_quote_and_the_route_once(ctx: StepContext) -> None:
    order_id = await new_order(ctx)
    await route_and_send(ctx, [(order_id, 1)])
    await route_and_send(ctx, [(order_id, 1)])  # redelivered
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
    await route_and_send(ctx, [(order_id, 1)])
    await resend_transaction(ctx, order_id, 1)  # a sweeper's resend: already sent, nothing happens
    await route_and_send(ctx, [(order_id, 1)])
    assert [tx.signature for tx in venue.sent] == [await signature_of(ctx, order_id, 1)]
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.SUBMITTED
    assert state.last_valid_block_height == 1_150
    assert (await event_types(ctx, order_id))[-2:] == ["TransactionSigned", "TransactionSent"]


async def test_a_crash_after_signing_resends_the_recorded_signature(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    venue.crash_on_send = True
    with pytest.raises(WorkerCrashed):
        await route_and_send(ctx, [(order_id, 1)])
    assert (await event_types(ctx, order_id))[-1] == "TransactionSigned", "recorded first"
    assert venue.sent == []
    venue.crash_on_send = False
    venue.height += 5  # a later blockhash must not change the recorded signature
    await route_and_send(ctx, [(order_id, 1)])  # the broker's retry of the same message
    await resend_transaction(ctx, order_id, 1)  # and the sweeper's: both send the same tx
    assert {tx.signature for tx in venue.sent} == {await signature_of(ctx, order_id, 1)}
    assert {tx.last_valid_block_height for tx in venue.sent} == {1_150}


async def test_follow_waits_then_confirms_with_the_executed_legs(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    await route_and_send(ctx, [(order_id, 1)])
    await resend_transaction(ctx, order_id, 1)
    venue.script.extend(["pending", "processed", "confirmed"])
    assert await look_and_settle(ctx, order_id, 1) is True
    assert await look_and_settle(ctx, order_id, 1) is True
    assert await look_and_settle(ctx, order_id, 1) is False
    assert await look_and_settle(ctx, order_id, 1) is False  # redelivered: already final
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
        venue.height += 1  # a block since the last attempt: a new blockhash
        await route_and_send(ctx, [(order_id, attempt)])
        await resend_transaction(ctx, order_id, attempt)
        if attempt == 1:
            venue.script.append("failed")
        else:
            venue.expire()
        assert await look_and_settle(ctx, order_id, attempt) is False
        state = await load_order(ctx.store, order_id)
        assert state is not None
        assert state.status == (OrderStatus.RETRYING if attempt == 1 else OrderStatus.FAILED)
    final = await load_order(ctx.store, order_id)
    assert final is not None
    assert final.failure_code == "BlockhashNotFound"
    assert "expired" in (final.failure_reason or "")
    await route_and_send(ctx, [(order_id, 3)])  # a stray message after the end: nothing
    assert (await event_types(ctx, order_id)).count("AttemptFailed") == 2
    assert len({tx.signature for tx in venue.sent}) == 2


async def test_a_retry_on_the_last_attempts_blockhash_waits_for_a_new_block(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    await route_and_send(ctx, [(order_id, 1)])
    venue.script.append("failed")
    assert await look_and_settle(ctx, order_id, 1) is False
    # Same blockhash, same quote, same minimums: the very transaction that failed, which
    # the chain would take for the old one and never run.
    with pytest.raises(SameTransaction):
        await route_and_send(ctx, [(order_id, 2)])
    assert (await event_types(ctx, order_id))[-1] == "AttemptFailed", "nothing recorded"
    venue.height += 1
    await route_and_send(ctx, [(order_id, 2)])  # the broker's retry, a block later
    assert len({tx.signature for tx in venue.sent}) == 2


async def test_an_unknown_signature_is_sent_again_until_its_blockhash_expires(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_id = await new_order(ctx)
    await route_and_send(ctx, [(order_id, 1)])
    await resend_transaction(ctx, order_id, 1)
    venue.known.clear()  # the venue forgot it (restarted)
    assert await look_and_settle(ctx, order_id, 1) is True
    assert len(venue.sent) == 2
    venue.known.clear()
    venue.height = 1_151  # just past lastValidBlockHeight: a lagging node may not show it yet
    assert await look_and_settle(ctx, order_id, 1) is True
    assert len(venue.sent) == 3
    venue.known.clear()
    venue.height = 1_151 + ctx.policy.expiry_margin_blocks  # it can never land now
    assert await look_and_settle(ctx, order_id, 1) is False
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.RETRYING


async def test_an_amount_no_pool_can_fill_fails_without_retrying(ctx: StepContext) -> None:
    order_id = await new_order(ctx, amount_in=10**15)  # outputs go negative: no fill
    await route_and_send(ctx, [(order_id, 1)])
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert state.status == OrderStatus.FAILED
    assert state.failure_code == "NoRoute"


async def test_a_batch_routes_every_order_and_raises_only_after_all_are_done(
    ctx: StepContext, venue: FakeVenue
) -> None:
    order_ids = [await new_order(ctx) for _ in range(3)]
    stranger = str(uuid.uuid4())  # no such order: nothing to do, no error
    await route_and_send(ctx, [(order_id, 1) for order_id in [*order_ids, stranger]])
    assert {tx.signature for tx in venue.sent} == {
        await signature_of(ctx, order_id, 1) for order_id in order_ids
    }
    venue.crash_on_send = True
    late = [await new_order(ctx) for _ in range(2)]
    with pytest.raises(WorkerCrashed):
        await route_and_send(ctx, [(order_id, 1) for order_id in late])
    for order_id in late:  # both got as far as the signature before the error surfaced
        assert (await event_types(ctx, order_id))[-1] == "TransactionSigned"
