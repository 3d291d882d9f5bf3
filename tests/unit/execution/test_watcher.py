"""The confirmation watcher against a fake venue: one status request per round for all
orders, an outcome recorded once, a new attempt only after the old signature ended."""

from __future__ import annotations

import pytest

from commands.order_steps import load_order
from commands.route_and_send import route_and_send
from commands.settle_attempt import settle_attempt
from commands.step_context import ExecutionPolicy, StepContext
from db.inflight import Watched
from domain.routing import VenueUnavailable
from domain.status import OrderStatus
from tests.unit.execution.fakes import FakeVenue, fake_context
from tests.unit.execution.test_steps import event_types, new_order, signature_of
from workers.process_manager.confirmation_watcher import MAX_SIGNATURES, ConfirmationWatcher


@pytest.fixture
def venue() -> FakeVenue:
    return FakeVenue()


@pytest.fixture
def ctx(venue: FakeVenue) -> StepContext:
    return fake_context(venue, ExecutionPolicy(max_attempts=2))


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


async def sent_order(ctx: StepContext, source: SentOrders, amount_in: int = 10**9) -> str:
    order_id = await new_order(ctx, amount_in)
    await route_and_send(ctx, [(order_id, 1)])
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
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await sent_order(ctx, source)
    venue.script.extend(["processed", "pending", "confirmed"])  # its block was dropped
    assert [await watcher.watch_once() for _ in range(3)] == [0, 0, 1]
    assert await status_of(ctx, order_id) == OrderStatus.CONFIRMED
    assert await watcher.watch_once() == 0, "a final order is no longer watched"


async def test_one_status_request_per_round_covers_every_order(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    for _ in range(MAX_SIGNATURES + 4):
        await sent_order(ctx, source)
    assert await watcher.watch_once() == 0
    assert venue.status_calls == 2, "at most MAX_SIGNATURES signatures per request"


async def test_an_outcome_seen_twice_is_recorded_once(ctx: StepContext, venue: FakeVenue) -> None:
    source = SentOrders(ctx)
    order_id = await sent_order(ctx, source)
    signature = await signature_of(ctx, order_id, 1)
    venue.script.append("confirmed")
    assert (await venue.signature_statuses([signature]))[0] is not None
    landed = (await venue.landed_transactions([signature]))[0]
    assert landed is not None
    assert await settle_attempt(ctx, order_id, 1, signature, landed) is False
    # A round that read the row before the dispatcher forgot it sees the same outcome.
    assert await settle_attempt(ctx, order_id, 1, signature, landed) is False
    assert (await event_types(ctx, order_id)).count("OrderConfirmed") == 1


async def test_an_expired_signature_ends_the_attempt_and_only_then_a_new_one_signs(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await sent_order(ctx, source)
    await route_and_send(ctx, [(order_id, 2)])  # too early: attempt 1 is still in flight
    assert len(venue.sent) == 1
    venue.expire()
    assert await watcher.watch_once() == 1
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert (state.status, state.failure_code) == (OrderStatus.RETRYING, "BlockhashNotFound")
    await route_and_send(ctx, [(order_id, 2)])
    assert [tx.signature for tx in venue.sent] == [
        await signature_of(ctx, order_id, 1),
        await signature_of(ctx, order_id, 2),
    ]


async def test_a_lost_signature_is_sent_again_until_its_blockhash_is_past(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await sent_order(ctx, source)
    venue.known.clear()  # the chain lost it (the venue restarted)
    await watcher.watch_once()
    assert [tx.signature for tx in venue.sent] == [await signature_of(ctx, order_id, 1)] * 2
    assert await status_of(ctx, order_id) == OrderStatus.SUBMITTED
    venue.known.clear()
    # Past lastValidBlockHeight, and by more than a lagging node could hide: it can never
    # land now.
    venue.height = 1_151 + ctx.policy.expiry_margin_blocks
    await watcher.watch_once()
    assert await status_of(ctx, order_id) == OrderStatus.RETRYING
    assert len(venue.sent) == 2, "no new attempt was sent by the watcher itself"


async def test_a_venue_outage_fails_the_round_and_the_next_one_settles(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await sent_order(ctx, source)
    venue.down = True
    with pytest.raises(VenueUnavailable):
        await watcher.watch_once()
    venue.down = False
    venue.script.append("confirmed")
    assert await watcher.watch_once() == 1
    assert await status_of(ctx, order_id) == OrderStatus.CONFIRMED


async def test_one_refused_status_request_does_not_stop_the_rest_of_the_round(
    ctx: StepContext, venue: FakeVenue
) -> None:
    """A rate limit that refuses one of a round's requests (1 in 20 of them, say) must
    not fail the round: with thousands in flight every round would fail, and nothing
    would settle again while the limit lasts."""
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    # Each its own amount: its own transaction, its own signature.
    order_ids = [await sent_order(ctx, source, 10**9 + n) for n in range(MAX_SIGNATURES + 4)]
    # The first request of the round (256 signatures) is refused.
    venue.refused_status_calls = {venue.status_calls + 1}
    venue.script.extend(["confirmed"] * 4)  # the second request's four
    assert await watcher.watch_once() == 4
    statuses = [await status_of(ctx, order_id) for order_id in order_ids]
    assert statuses.count(OrderStatus.CONFIRMED) == 4
    assert statuses.count(OrderStatus.SUBMITTED) == MAX_SIGNATURES  # looked at next round


async def test_a_refused_status_read_is_never_taken_for_null(
    ctx: StepContext, venue: FakeVenue
) -> None:
    """The proof of expiry is a status read that answered null: one refused proves
    nothing, and the attempt goes on."""
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_ids = [await sent_order(ctx, source, 10**9 + n) for n in range(MAX_SIGNATURES + 1)]
    venue.expire()
    # The round's two requests answer (all null), then the proof's first one is refused.
    venue.refused_status_calls = {venue.status_calls + 3}
    assert await watcher.watch_once() == 1
    statuses = [await status_of(ctx, order_id) for order_id in order_ids]
    assert statuses.count(OrderStatus.RETRYING) == 1
    assert statuses.count(OrderStatus.SUBMITTED) == MAX_SIGNATURES
    assert await watcher.watch_once() == MAX_SIGNATURES  # the next round's proof answers
