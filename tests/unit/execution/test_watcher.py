"""The confirmation watcher against a fake venue: one status request per round for all
orders, an outcome recorded once, a new attempt only after the old signature ended."""

from __future__ import annotations

import pytest

from commands.order_steps import load_order
from db.inflight import Watched
from db.memory import InMemoryEventStore
from domain.routing import VenueUnavailable
from domain.signatures import transaction_signature
from domain.status import OrderStatus
from tests.unit.execution.fakes import FakeVenue
from tests.unit.execution.test_steps import event_types, new_order
from workers.context import ExecutionPolicy, StepContext
from workers.follow_step import settle
from workers.route_step import route_order
from workers.watcher import MAX_SIGNATURES, ConfirmationWatcher


@pytest.fixture
def venue() -> FakeVenue:
    return FakeVenue()


@pytest.fixture
def ctx(venue: FakeVenue) -> StepContext:
    return StepContext(InMemoryEventStore(), venue, ExecutionPolicy(max_attempts=2))


class SentOrders:
    """What the dispatcher's rows would say: every order whose transaction was sent."""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        self.order_ids: list[str] = []

    async def __call__(self) -> list[Watched]:
        watched = []
        for order_id in self.order_ids:
            state = await load_order(self.ctx.store, order_id)
            if state and state.status == OrderStatus.SUBMITTED and state.signature:
                watched.append(Watched(order_id, state.attempts, state.signature))
        return watched


async def sent_order(ctx: StepContext, source: SentOrders) -> str:
    order_id = await new_order(ctx)
    await route_order(ctx, order_id, 1)
    source.order_ids.append(order_id)
    return order_id


async def status_of(ctx: StepContext, order_id: str) -> OrderStatus:
    state = await load_order(ctx.store, order_id)
    assert state is not None
    return state.status


async def test_a_status_forked_back_to_pending_waits_until_it_is_confirmed(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0)
    order_id = await sent_order(ctx, source)
    venue.script.extend(["processed", "pending", "confirmed"])  # its block was dropped
    assert [await watcher.watch_once() for _ in range(3)] == [0, 0, 1]
    assert await status_of(ctx, order_id) == OrderStatus.CONFIRMED
    assert await watcher.watch_once() == 0, "a final order is no longer watched"


async def test_one_status_request_per_round_covers_every_order(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0)
    for _ in range(MAX_SIGNATURES + 4):
        await sent_order(ctx, source)
    assert await watcher.watch_once() == 0
    assert venue.status_calls == 2, "at most MAX_SIGNATURES signatures per request"


async def test_an_outcome_seen_twice_is_recorded_once(ctx: StepContext, venue: FakeVenue) -> None:
    source = SentOrders(ctx)
    order_id = await sent_order(ctx, source)
    signature = transaction_signature(order_id, 1)
    venue.script.append("confirmed")
    status = (await venue.signature_statuses([signature])).value[0]
    assert await settle(ctx, order_id, 1, signature, status) is False
    # A round that read the row before the dispatcher forgot it sees the same status.
    assert await settle(ctx, order_id, 1, signature, status) is False
    assert (await event_types(ctx, order_id)).count("OrderConfirmed") == 1


async def test_an_expired_signature_ends_the_attempt_and_only_then_a_new_one_signs(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0)
    order_id = await sent_order(ctx, source)
    await route_order(ctx, order_id, 2)  # too early: attempt 1 is still in flight
    assert len(venue.sent) == 1
    venue.script.append("expired")
    assert await watcher.watch_once() == 1
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert (state.status, state.failure_code) == (OrderStatus.RETRYING, "BlockhashNotFound")
    await route_order(ctx, order_id, 2)
    assert [tx.signature for tx in venue.sent] == [
        transaction_signature(order_id, 1),
        transaction_signature(order_id, 2),
    ]


async def test_a_lost_signature_is_sent_again_until_its_blockhash_is_past(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0)
    order_id = await sent_order(ctx, source)
    venue.known.clear()  # the chain lost it (the venue restarted)
    await watcher.watch_once()
    assert [tx.signature for tx in venue.sent] == [transaction_signature(order_id, 1)] * 2
    assert await status_of(ctx, order_id) == OrderStatus.SUBMITTED
    venue.known.clear()
    venue.height = 1_151  # past lastValidBlockHeight: it can never land now
    await watcher.watch_once()
    assert await status_of(ctx, order_id) == OrderStatus.RETRYING
    assert len(venue.sent) == 2, "no new attempt was sent by the watcher itself"


async def test_a_venue_outage_fails_the_round_and_the_next_one_settles(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0)
    order_id = await sent_order(ctx, source)
    venue.down = True
    with pytest.raises(VenueUnavailable):
        await watcher.watch_once()
    venue.down = False
    venue.script.append("confirmed")
    assert await watcher.watch_once() == 1
    assert await status_of(ctx, order_id) == OrderStatus.CONFIRMED
