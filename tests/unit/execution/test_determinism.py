"""One seed and the same orders give the same events and signatures, run after run."""

from __future__ import annotations

import uuid

from commands.order_steps import load_order
from commands.submit_order import submit_order
from db.memory import InMemoryEventStore
from domain.commands import SubmitOrder
from domain.status import OrderStatus
from domain.streams import order_stream
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from tests.unit.execution.in_process_venue import InProcessVenue
from workers.context import ExecutionPolicy, StepContext
from workers.execute_step import execute_order
from workers.follow_step import follow_order
from workers.route_step import route_order

ORDERS = [
    ("SOL", "USDC", 3 * 10**9, 50),
    ("USDC", "SOL", 450 * 10**6, 50),
    ("SOL", "USDC", 2_500 * 10**9, 100),
    ("MEME", "SOL", 10**11, 300),
    ("JUP", "USDC", 10**8, 0),  # no slippage room: some attempts fail and retry
    ("SOL", "USDC", 10**7, 50),
]
MAX_STEPS = 2_000


async def drive(ctx: StepContext, order_id: str) -> None:
    """Run the order's steps one after the other, as the dispatcher would order them."""
    for _ in range(MAX_STEPS):
        state = await load_order(ctx.store, order_id)
        assert state is not None
        if state.is_final:
            return
        if state.status in (OrderStatus.PENDING, OrderStatus.RETRYING):
            await route_order(ctx, order_id, state.attempts + 1)
        elif state.status == OrderStatus.BUILDING:
            await execute_order(ctx, order_id, state.attempts)
        else:
            await follow_order(ctx, order_id, state.attempts)
    raise AssertionError(f"order {order_id} not final after {MAX_STEPS} steps")


async def run_once(seed: int) -> list[tuple[str, bytes]]:
    store = InMemoryEventStore()
    ctx = StepContext(
        store, InProcessVenue(Simulator(SimulatorConfig(seed=seed))), ExecutionPolicy()
    )
    history: list[tuple[str, bytes]] = []
    for index, (token_in, token_out, amount_in, slippage_bps) in enumerate(ORDERS):
        order_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"determinism/{index}"))
        command = SubmitOrder(
            order_id=order_id,
            order_type="market",
            token_in=token_in,
            token_out=token_out,
            amount_in=amount_in,
            slippage_bps=slippage_bps,
        )
        await submit_order(store, command, f"determinism-{index}")
        await drive(ctx, order_id)
        history += [(e.event_type, e.data) for e in await store.read_stream(order_stream(order_id))]
    return history


async def test_the_same_seed_and_orders_give_identical_events_and_signatures() -> None:
    first, second = await run_once(seed=11), await run_once(seed=11)
    assert first == second
    kinds = [kind for kind, _ in first]
    assert kinds.count("TransactionSigned") >= len(ORDERS)
    assert kinds.count("OrderConfirmed") + kinds.count("OrderFailed") == len(ORDERS)
    assert await run_once(seed=12) != first, "another seed is another market"
