"""Sniper exits over real PostgreSQL and an in-process simulator: the buy confirms and
the sniper holds its position; a whale's buy lifts the launched token's price; the exit
watcher's sale quote meets the take profit and creates one child market order that
sells the whole position of the launched mint; the child runs the market path and
lands, and the parent ends `confirmed` with the exit's reason. A crash between the
exit's decision and either append, and two watchers at once, leave exactly one child."""

# ruff: noqa: F811  (the `rig` fixture is imported from test_snipers and named as a parameter)
from __future__ import annotations

import asyncio

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.presenting import pair_of_submission, present_event
from api.snapshot_views import present_snapshot
from commands.cancel_order import cancel_order
from commands.exit_position import child_command_id
from commands.route_and_send import route_and_send
from commands.settle_attempt import look_and_settle
from db import sniper_exits
from domain.amounts import format_amount as domain_format
from domain.exit_terms import ExitTerms, exit_order_id
from domain.order_state import OrderState
from domain.records import actor_of
from domain.streams import order_stream
from domain.tokens import order_token
from projections.snapshot import OrderSnapshot, fold_snapshot
from projections.timeline import timeline
from simulator.launches import CrowdBuy, Launch
from tests.integration.test_snipers import rig  # noqa: F401 (the fixture)
from tests.support.crashing_store import Crash, CrashingStore
from tests.support.sniper_rig import Rig
from workers.process_manager.exit_watcher import ExitWatcher


def watcher(rig: Rig, store: object | None = None) -> ExitWatcher:
    return ExitWatcher(rig.pool, store or rig.store, rig.ctx.quotes, interval_s=0.01)  # type: ignore[arg-type]


async def settle(rig: Rig, order_id: str, attempt: int = 1) -> None:
    """Route, sign, send the attempt and follow it until it is settled."""
    await route_and_send(rig.ctx, [(order_id, attempt)])
    for _ in range(40):
        rig.simulator.advance_slots(1)
        if not await look_and_settle(rig.ctx, order_id, attempt):
            return
    raise AssertionError(f"{order_id} attempt {attempt} never settled")


async def holding(rig: Rig, **exit_terms: int) -> tuple[str, Launch]:
    """A sniper with `exit_terms` whose buy of a fresh launch confirmed."""
    order_id = await rig.sniper(exit=ExitTerms(**exit_terms))
    await rig.caught_up()
    launch = await rig.launch(open_in_slots=0)
    while not await rig.fired(order_id):
        rig.simulator.advance_slots(1)
        await rig.buyer.look()
    await settle(rig, order_id)
    await rig.caught_up()
    return order_id, launch


def whale_buys(rig: Rig, launch: Launch, sol: int) -> None:
    """Someone buys `sol` SOL of the launched token in the next block: its price rises."""
    pool = rig.simulator.catalog.by_address(launch.pool).pool
    slot = rig.simulator.chain.slot + 1
    rig.simulator.launchpad.crowd.buys.append(CrowdBuy(slot, 10**6, pool, sol * 10**9))  # type: ignore[arg-type]
    rig.simulator.advance_slots(2)


async def children(rig: Rig, parent: str, generation: int = 1) -> int:
    return len(await rig.store.read_stream(order_stream(exit_order_id(parent, generation))))


async def test_a_take_profit_sells_through_one_child_and_the_parent_ends_with_it(
    rig: Rig, pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    order_id, launch = await holding(rig, take_profit_pct=20, stop_loss_pct=50)
    state = await rig.state(order_id)
    assert state.status == "holding"
    assert state.amount_out is not None
    assert state.amount_out > 0
    assert state.entry_price is not None
    async with pool.connection() as conn:
        (watched,) = [w for w in await sniper_exits.watched(conn, 100) if w.order_id == order_id]
    assert (watched.status, watched.tokens, watched.token_out) == (
        "holding",
        state.amount_out,
        launch.base_mint,
    )
    exits = watcher(rig)
    rig.simulator.advance_slots(1)
    await exits.look()
    assert (await rig.state(order_id)).status == "holding", "no rule fires at the entry"
    whale_buys(rig, launch, 40)  # 80 SOL of liquidity and 40 more: the token is worth ~2x
    await exits.look()
    state = await rig.state(order_id)
    assert (state.status, state.exit_reason) == ("exiting", "takeProfit")
    assert state.exit_order_id == exit_order_id(order_id, 1)
    assert state.exit_value is not None
    assert state.exit_value * 100 >= 10**9 * 120
    child = await rig.state(state.exit_order_id)
    assert child.order_type == "market"
    assert child.parent_order_id == order_id
    assert (child.token_in, child.token_out, child.amount_in) == (
        launch.base_mint,
        "SOL",
        state.amount_out,
    )
    recorded = await rig.store.read_stream(order_stream(child.order_id))
    parent_recorded = await rig.store.read_stream(order_stream(order_id))
    assert actor_of(recorded[0]) == actor_of(parent_recorded[0]), "the parent's owner owns it"
    await exits.look()
    assert await children(rig, order_id) == 1
    await settle(rig, child.order_id)
    child = await rig.state(child.order_id)
    assert child.status == "confirmed"
    assert [leg.pool for leg in child.legs] == [launch.pool]
    await rig.caught_up()  # the watcher follows what the matcher's table says is exiting
    await exits.look()
    state = await rig.state(order_id)
    assert (state.status, state.exit_reason) == ("confirmed", "takeProfit")
    assert state.exit_proceeds == child.amount_out
    assert state.exit_proceeds is not None
    assert state.exit_proceeds > 10**9, "sold at a profit"
    await rig.caught_up()
    async with pool.connection() as conn:
        assert order_id not in [w.order_id for w in await sniper_exits.watched(conn, 100)]


@pytest.mark.parametrize("crash_at", ["exit:", "exit-order:"])
async def test_a_crash_between_the_decision_and_an_append_leaves_one_child(
    rig: Rig, crash_at: str
) -> None:
    order_id, _ = await holding(rig, max_hold_slots=3)
    rig.simulator.advance_slots(4)
    store = CrashingStore.at(rig.store, crash_at)
    with pytest.raises(Crash):
        await watcher(rig, store).look()
    assert store.crashed
    expected = 1 if crash_at == "exit-order:" else 0  # the parent was written first
    kinds = [type(e).__name__ for e in await rig.events(order_id)]
    assert kinds.count("ExitTriggered") == expected
    assert await children(rig, order_id) == 0
    await rig.caught_up()
    restarted, second = watcher(rig), watcher(rig)
    rig.simulator.advance_slots(1)
    await restarted.look()
    await second.look()
    kinds = [type(e).__name__ for e in await rig.events(order_id)]
    assert kinds.count("ExitTriggered") == 1
    assert await children(rig, order_id) == 1
    state = await rig.state(order_id)
    assert (state.status, state.exit_reason) == ("exiting", "maxHold")
    recorded = await rig.store.read_stream(order_stream(exit_order_id(order_id, 1)))
    assert [e.event_type for e in recorded] == ["OrderSubmitted"]
    assert child_command_id(order_id, 1) in recorded[0].metadata.decode()


async def test_two_watchers_at_once_record_one_exit_and_one_child(rig: Rig) -> None:
    order_id, _ = await holding(rig, max_hold_slots=2)
    rig.simulator.advance_slots(3)
    first, second = watcher(rig), watcher(rig)
    await asyncio.gather(first.look(), second.look())
    await asyncio.gather(first.look(), second.look())
    kinds = [type(e).__name__ for e in await rig.events(order_id)]
    assert kinds.count("ExitTriggered") == 1
    assert await children(rig, order_id) == 1
    assert first.triggered + second.triggered == 1
    assert first.created + second.created == 1


async def test_a_cancel_of_a_held_position_sells_it_and_the_read_side_shows_both_ends(
    rig: Rig,
) -> None:
    order_id, launch = await holding(rig, take_profit_pct=300)
    held = present_snapshot(await snapshot(rig, order_id))
    assert (held.status, held.exit, held.exit_order_id) == ("holding", {"takeProfitPct": 300}, None)
    assert held.entry_price is not None
    assert held.filters is not None
    assert "exit" not in held.filters
    outcome = await cancel_order(rig.store, order_id)
    assert outcome is not None
    assert not outcome.cancelled, "the API answers 202: the position is being sold"
    assert (outcome.state.status, outcome.state.exit_reason) == ("exiting", "cancel")
    await rig.caught_up()
    exits = watcher(rig)
    await exits.look()
    child_id = exit_order_id(order_id, 1)
    child = present_snapshot(await snapshot(rig, child_id))
    assert (child.parent_order_id, child.token_in, child.status) == (
        order_id,
        launch.base_mint,
        "pending",
    )
    assert child.amount_in == format_amount(held_tokens(await rig.state(order_id)), launch)
    await settle(rig, child_id)
    await rig.caught_up()
    await exits.look()
    closed = present_snapshot(await snapshot(rig, order_id))
    assert (closed.status, closed.exit_order_id, closed.exit_reason) == (
        "confirmed",
        child_id,
        "cancel",
    )
    assert closed.exit_proceeds is not None
    lines = "\n".join(timeline(await rig.store.read_stream(order_stream(order_id))))
    assert "PositionOpened" in lines
    assert "entry price" in lines
    assert f"exit (arm 1) by cancel on the client's cancel; child order {child_id}" in lines
    assert f"exit order {child_id} confirmed" in lines
    shown = [
        present_event(e, pair_of_submission(recorded[0]))
        for recorded in [await rig.store.read_stream(order_stream(order_id))]
        for e in recorded
    ]
    (closed_event,) = [e for e in shown if e.type == "PositionClosed"]
    assert closed_event.data["proceeds"] == closed.exit_proceeds, "in SOL units, as the snapshot"


async def snapshot(rig: Rig, order_id: str) -> OrderSnapshot:
    folded = fold_snapshot(await rig.store.read_stream(order_stream(order_id)))
    assert folded is not None
    return folded


def held_tokens(state: OrderState) -> int:
    assert state.amount_out is not None
    return state.amount_out


def format_amount(atomic: int, launch: Launch) -> str:
    return domain_format(atomic, order_token(launch.base_mint, launch.spec.base_decimals))


async def test_a_rugged_position_stops_out_and_each_failed_child_rearms_until_it_fails(
    rig: Rig,
) -> None:
    order_id, launch = await holding(rig, stop_loss_pct=50)
    pool = rig.simulator.catalog.by_address(launch.pool).pool
    rig.simulator.launchpad.crowd.rugs.append((rig.simulator.chain.slot + 1, pool))  # type: ignore[arg-type]
    exits = watcher(rig)
    children: list[str] = []
    for _ in range(30):
        rig.simulator.advance_slots(1)
        await rig.caught_up()
        await exits.look()
        state = await rig.state(order_id)
        if state.is_final:
            break
        if state.exit_order_id is not None and state.exit_order_id not in children:
            assert state.exit_reason == "stopLoss"
            assert state.exit_value == 0, "nothing buys a rugged token"
            children.append(state.exit_order_id)
            await route_and_send(rig.ctx, [(state.exit_order_id, 1)])
            child = await rig.state(state.exit_order_id)
            assert child.status == "failed", "the sale finds no pool"
    state = await rig.state(order_id)
    assert (state.status, state.failure_code) == ("failed", "ExitFailed")
    assert "still held" in (state.failure_reason or "")
    assert children == [exit_order_id(order_id, arm) for arm in (1, 2, 3)]
    kinds = [type(e).__name__ for e in await rig.events(order_id)]
    assert kinds.count("ExitTriggered") == 3
    assert kinds.count("ExitRearmed") == 2
    assert kinds[-1] == "OrderFailed"
