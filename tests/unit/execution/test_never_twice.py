"""Never twice against a hostile RPC (issue 9, windows 1 and 2): an attempt ends only on
proof that its signature can never land, so a new signature is never accepted while
the old one still may be. A refused or unanswered send proves nothing, and neither does
a `null` status read before a block height past lastValidBlockHeight was seen."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable

import pytest

from commands.order_steps import load_order
from commands.ports import VenueRejected
from commands.resend_transaction import resend_transaction
from commands.route_and_send import route_and_send
from commands.step_context import ExecutionPolicy, StepContext
from domain.order_state import OrderState
from domain.routing import VenueUnavailable
from domain.status import OrderStatus
from tests.unit.execution.fakes import FakeVenue, fake_context
from tests.unit.execution.test_steps import event_types, new_order, signature_of
from tests.unit.execution.test_watcher import SentOrders, sent_order
from workers.process_manager.confirmation_watcher import ConfirmationWatcher

LAST_VALID = 1_150  # the fake's first blockhash is valid through this block height
FAR_PAST = LAST_VALID + 1_000  # beyond any allowance for lagging nodes


@pytest.fixture
def venue() -> FakeVenue:
    return FakeVenue()


@pytest.fixture
def ctx(venue: FakeVenue) -> StepContext:
    return fake_context(venue, ExecutionPolicy(max_attempts=2))


async def deliver(step: Awaitable[object]) -> None:
    """Run a step as the broker does: a venue error only means it comes again later."""
    with contextlib.suppress(VenueUnavailable, VenueRejected):
        await step


async def settle(
    ctx: StepContext, watcher: ConfirmationWatcher, order_id: str, rounds: int = 60
) -> OrderState:
    """Drive the order to a final status as the dispatcher, sweeper and watcher would."""
    for _ in range(rounds):
        state = await load_order(ctx.store, order_id)
        assert state is not None
        if state.is_final:
            return state
        if state.status in (OrderStatus.PENDING, OrderStatus.RETRYING):
            await deliver(route_and_send(ctx, [(order_id, state.attempts + 1)]))
        elif state.status == OrderStatus.BUILDING:
            await deliver(resend_transaction(ctx, order_id, state.attempts))
        else:
            await deliver(watcher.watch_once())
    raise AssertionError(f"order {order_id} not final after {rounds} rounds")


@pytest.mark.parametrize("refusal", ["429", "503"])
async def test_a_send_whose_answer_was_lost_is_followed_never_replaced(
    ctx: StepContext, venue: FakeVenue, refusal: str
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await new_order(ctx)
    source.order_ids.append(order_id)
    # The node took it but the answer never came back, and a rate limit in front of it
    # refuses the re-sends (the last one after passing it on).
    venue.send_answers.extend(["lost", refusal, f"accepted {refusal}"])
    await deliver(route_and_send(ctx, [(order_id, 1)]))
    first = await signature_of(ctx, order_id, 1)
    await deliver(resend_transaction(ctx, order_id, 1))  # the sweeper's re-send
    await deliver(route_and_send(ctx, [(order_id, 1)]))  # the broker's redelivery
    venue.script.append("confirmed")
    state = await settle(ctx, watcher, order_id)
    assert venue.known == {first}, "a new signature was accepted while the first could land"
    assert (state.status, state.signature) == (OrderStatus.CONFIRMED, first)


async def test_refused_sends_end_the_attempt_only_once_its_blockhash_is_provably_past(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await new_order(ctx)
    source.order_ids.append(order_id)
    venue.send_answers.extend(["429"] * 6)  # every send and re-send of attempt 1 refused
    await deliver(route_and_send(ctx, [(order_id, 1)]))
    for _ in range(5):
        await deliver(watcher.watch_once())
        await deliver(route_and_send(ctx, [(order_id, 2)]))  # a stray early message
    state = await load_order(ctx.store, order_id)
    assert state is not None
    assert (state.attempts, state.status) == (1, OrderStatus.SUBMITTED), "nothing proved it over"
    venue.send_answers.clear()
    venue.height = FAR_PAST
    venue.script.append("confirmed")
    state = await settle(ctx, watcher, order_id)
    assert venue.known == {await signature_of(ctx, order_id, 2)}
    assert (state.status, state.attempts) == (OrderStatus.CONFIRMED, 2)
    assert (await event_types(ctx, order_id)).count("AttemptFailed") == 1


async def test_a_landed_signature_the_rpc_still_reports_null_is_not_taken_for_expired(
    ctx: StepContext, venue: FakeVenue
) -> None:
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await sent_order(ctx, source)
    first = await signature_of(ctx, order_id, 1)
    venue.height = LAST_VALID + 1  # it landed in the last block it could
    venue.lagging[first] = 3  # but the node answering statuses is a few slots behind
    venue.script.append("confirmed")
    state = await settle(ctx, watcher, order_id)
    assert venue.known == {first}, "a second signature was accepted beside a landed one"
    assert (state.status, state.signature) == (OrderStatus.CONFIRMED, first)


async def test_a_signature_landing_between_the_status_and_the_height_reads_is_confirmed(
    venue: FakeVenue,
) -> None:
    ctx = fake_context(venue, ExecutionPolicy(max_attempts=1))
    source = SentOrders(ctx)
    watcher = ConfirmationWatcher(ctx, source, interval_s=0, resend_every_s=0)
    order_id = await sent_order(ctx, source)
    first = await signature_of(ctx, order_id, 1)
    venue.known.discard(first)  # a re-send is on its way: the chain has not seen it yet
    venue.height = LAST_VALID

    def lands_in_the_last_valid_block() -> None:
        venue.known.add(first)
        venue.height = LAST_VALID + 1

    venue.before_height.append(lands_in_the_last_valid_block)
    venue.script.append("confirmed")
    state = await settle(ctx, watcher, order_id)
    assert (state.status, state.signature) == (OrderStatus.CONFIRMED, first), (
        "an order reported failed had executed"
    )
