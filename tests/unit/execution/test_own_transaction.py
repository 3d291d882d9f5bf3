"""Two orders alike (pair, amount, slippage) routed together on one blockhash: each
has a transaction of its own, so the chain runs two swaps, not one swap for both."""

from __future__ import annotations

import uuid

from commands.order_steps import load_order
from commands.route_and_send import route_and_send
from commands.submit_order import submit_order
from domain.commands import SubmitOrder
from domain.status import OrderStatus
from domain.tokens import token_by_symbol
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from tests.support.in_process_chain import in_process_context
from tests.unit.execution.test_determinism import drive

AMOUNT = 2 * 10**9  # 2 SOL


async def test_equal_orders_routed_together_each_swap_once() -> None:
    simulator = Simulator(SimulatorConfig(seed=5))
    ctx, clients = in_process_context(simulator)
    usdc = token_by_symbol("USDC").mint
    before = simulator.wallets.balance(clients.wallet.address, usdc)
    orders = [str(uuid.uuid4()) for _ in range(2)]
    for order_id in orders:
        command = SubmitOrder(
            order_id=order_id,
            order_type="market",
            token_in="SOL",
            token_out="USDC",
            amount_in=AMOUNT,
            slippage_bps=100,
        )
        await submit_order(ctx.store, command, f"alike-{order_id}")
    await route_and_send(ctx, [(order_id, 1) for order_id in orders])
    signed = [await load_order(ctx.store, order_id) for order_id in orders]
    signatures = {state.signature for state in signed if state is not None}
    assert len(signatures) == 2, "two orders, one transaction: the chain runs it once"
    finals = [await drive(ctx, order_id) for order_id in orders]
    assert [state.status for state in finals] == [OrderStatus.CONFIRMED] * 2
    received = simulator.wallets.balance(clients.wallet.address, usdc) - before
    assert received == sum(state.amount_out or 0 for state in finals)
