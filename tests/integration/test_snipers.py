"""Sniper orders over real PostgreSQL and an in-process simulator: the pool watcher
records each launch, the sniper matcher judges it for every armed sniper (a refused pool
is recorded with its filter and the order stays armed), the first passing pool matches
once, the buyer fires each buy in the first slot at or after the open plus its delay,
never earlier, refuses above maxPrice, and the buy routes to the launched token and
lands on chain."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.match_launch import match_launch
from commands.route_and_send import route_and_send
from domain.events import PoolMatched, PoolSkipped
from domain.launches import decode_launch, pool_stream
from domain.streams import order_stream
from projections.order_projector import OrderSnapshotProjection
from projections.snapshot_store import load_snapshots
from projections.tables import LIVE
from tests.support.sniper_rig import Rig, sniper_rig

CREATOR = "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU"


@pytest.fixture
async def rig(
    pool: AsyncConnectionPool[AsyncConnection], database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Rig]:
    # The database outlives a test: a seed of each test's own gives pools of its own.
    async with sniper_rig(pool, database_url, zlib.crc32(request.node.name.encode())) as rig:
        yield rig


async def test_a_refused_pool_is_recorded_and_the_first_passing_one_matches_once(rig: Rig) -> None:
    strict = await rig.sniper(min_liquidity=50 * 10**9, min_lp_burned_pct=90)
    targeted = await rig.sniper(target_creator=CREATOR)
    await rig.caught_up()
    freezable = await rig.launch(freezable=True)
    skipped = [e for e in await rig.events(strict) if isinstance(e, PoolSkipped)]
    assert [(e.pool, e.filter) for e in skipped] == [(freezable.pool, "requireNotFreezable")]
    assert (await rig.state(strict)).status == "armed"
    assert not [e for e in await rig.events(targeted) if isinstance(e, PoolSkipped)]
    thin = await rig.launch(quote_reserve=10 * 10**9)
    assert (await rig.state(strict)).last_skipped_filter == "minLiquidity"
    good = await rig.launch()
    later = await rig.launch()
    state = await rig.state(strict)
    assert (state.status, state.matched_pool, state.token_out) == (
        "triggered",
        good.pool,
        good.base_mint,
    )
    matches = [e for e in await rig.events(strict) if isinstance(e, PoolMatched)]
    assert len(matches) == 1, "the first passing pool only"
    assert later.pool != thin.pool != good.pool
    assert (await rig.state(targeted)).status == "armed", "no pool of its creator came"
    mine = await rig.launch(creator=CREATOR)
    assert (await rig.state(targeted)).matched_pool == mine.pool


async def test_the_buy_fires_at_the_open_plus_delay_never_earlier(rig: Rig) -> None:
    at_open = await rig.sniper()
    delayed = await rig.sniper(delay_slots=3)
    await rig.caught_up()
    launch = await rig.launch(open_in_slots=3)
    assert (await rig.state(at_open)).status == "triggered"
    while rig.simulator.chain.slot < launch.open_slot + 5:
        await rig.buyer.look()
        await rig.caught_up()
        for order_id, delay in ((at_open, 0), (delayed, 3)):
            fired = await rig.fired(order_id)
            if rig.simulator.chain.slot < launch.open_slot + delay:
                assert fired == [], f"fired at {rig.simulator.chain.slot}, open {launch.open_slot}"
        rig.simulator.advance_slots(1)
    assert [f.slot for f in await rig.fired(at_open)] == [launch.open_slot]
    assert [f.slot for f in await rig.fired(delayed)] == [launch.open_slot + 3]
    assert rig.buyer.figures.open_slots[launch.pool] == launch.open_slot


async def test_no_buy_above_max_price(rig: Rig) -> None:
    # The pool opens at 80 SOL / 800M tokens = 1e-7 SOL per token; 1 SOL buys ~1 % of it.
    cheap = await rig.sniper(max_price="0.00000005")
    fair = await rig.sniper(max_price="0.0000002")
    await rig.caught_up()
    launch = await rig.launch(open_in_slots=0)
    for _ in range(3):
        await rig.buyer.look()
        await rig.caught_up()
        rig.simulator.advance_slots(1)
    assert await rig.fired(cheap) == []
    assert (await rig.state(cheap)).status == "triggered"
    # It opened in its creation's slot: the first look after the creation confirmed buys.
    assert launch.open_slot == launch.slot
    assert [f.slot for f in await rig.fired(fair)] == [launch.slot + 1]


async def test_the_fired_buy_routes_to_the_launched_token_and_lands(rig: Rig) -> None:
    order_id = await rig.sniper(priority_fee=250_000)
    await rig.caught_up()
    launch = await rig.launch(open_in_slots=1)
    while not await rig.fired(order_id):
        rig.simulator.advance_slots(1)
        await rig.buyer.look()
    await route_and_send(rig.ctx, [(order_id, 1)])
    state = await rig.state(order_id)
    assert state.status == "submitted"
    assert state.compute_unit_price == 250_000
    assert [leg.pool for leg in state.legs] == [launch.pool]
    rig.simulator.advance_slots(2)
    (status,) = await rig.ctx.rpc.signature_statuses([state.signature or ""])
    assert status is not None
    assert not status.failed, msgspec.to_builtins(status)
    assert status.slot >= launch.open_slot
    (landed,) = await rig.ctx.rpc.landed_transactions([state.signature or ""])
    assert landed is not None


async def test_the_order_projection_folds_a_sniper(
    rig: Rig, pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    order_id = await rig.sniper()
    await rig.caught_up()
    await rig.launch(freezable=True)
    launch = await rig.launch(open_in_slots=0)
    await rig.buyer.look()
    projection = OrderSnapshotProjection(rig.store)
    events = await rig.store.read_stream(order_stream(order_id))
    async with pool.connection() as conn, conn.transaction():
        await projection.apply(conn, events)
        snapshots = await load_snapshots(conn, LIVE.snapshots, [order_id])
    state = snapshots[order_id].state
    assert (state.status, state.matched_pool, state.pools_skipped) == ("triggered", launch.pool, 1)
    assert state.fired_generation == 1


async def test_a_launch_judged_again_and_two_buyers_record_each_step_once(rig: Rig) -> None:
    order_id = await rig.sniper()
    skipping = await rig.sniper(min_lp_burned_pct=100)
    await rig.caught_up()
    launch = await rig.launch(open_in_slots=0, lp_burned_pct=50)
    recorded = await rig.store.read_stream(pool_stream(launch.pool))
    again = decode_launch(recorded[0].data)
    # The matcher crashed before its checkpoint: the batch is judged again.
    arms = [(order_id, 1), (skipping, 1)]
    assert await match_launch(rig.store, again, arms, datetime.now(UTC)) == {
        order_id: [],
        skipping: [],
    }
    kinds = [type(e).__name__ for e in await rig.events(skipping)]
    assert kinds.count("PoolSkipped") == 1
    second = rig.another_buyer()
    await asyncio.gather(rig.buyer.look(), second.look())
    await asyncio.gather(rig.buyer.look(), second.look())
    assert len(await rig.fired(order_id)) == 1
    assert rig.buyer.figures.fired + second.figures.fired == 1
