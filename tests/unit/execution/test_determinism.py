"""One seed and the same orders give the same events and signatures, run after run."""

from __future__ import annotations

import uuid

from commands.order_steps import load_order
from commands.resend_transaction import resend_transaction
from commands.route_and_send import route_and_send
from commands.settle_attempt import look_and_settle
from commands.step_context import StepContext
from commands.submit_order import submit_order
from domain.commands import SubmitOrder
from domain.order_state import OrderState
from domain.status import OrderStatus
from domain.streams import order_stream
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from tests.support.in_process_chain import in_process_context

ORDERS = [
    ("SOL", "USDC", 3 * 10**9, 50),
    ("USDC", "SOL", 450 * 10**6, 50),
    ("SOL", "USDC", 2_500 * 10**9, 100),
    ("MEME", "SOL", 10**11, 300),
    ("JUP", "USDC", 10**8, 0),  # no slippage room: some attempts fail and retry
    ("SOL", "USDC", 10**7, 50),
]
MAX_STEPS = 2_000


async def drive(ctx: StepContext, order_id: str) -> OrderState:
    """Run the order's steps one after the other, as the dispatcher would order them;
    the final state."""
    for _ in range(MAX_STEPS):
        state = await load_order(ctx.store, order_id)
        assert state is not None
        if state.is_final:
            return state
        if state.status in (OrderStatus.PENDING, OrderStatus.RETRYING):
            await route_and_send(ctx, [(order_id, state.attempts + 1)])
        elif state.status == OrderStatus.BUILDING:
            await resend_transaction(ctx, order_id, state.attempts)
        else:
            await look_and_settle(ctx, order_id, state.attempts)
    raise AssertionError(f"order {order_id} not final after {MAX_STEPS} steps")


async def run_once(seed: int) -> list[tuple[str, bytes]]:
    ctx, _ = in_process_context(Simulator(SimulatorConfig(seed=seed)))
    store = ctx.store
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
