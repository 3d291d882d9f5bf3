"""An order larger than the wallet holds fails on chain with SPL Token's insufficient
funds, once: another attempt would only pay another fee to fail the same way."""

from __future__ import annotations

from domain.status import OrderStatus
from simulator.core import Simulator
from simulator.universe import SOL
from simulator.wallets import STARTING_FUNDS
from tests.support.in_process_chain import in_process_context
from tests.support.solana_tx import CERTAIN
from tests.unit.execution.test_determinism import drive
from tests.unit.execution.test_steps import event_types, new_order


async def test_selling_more_than_the_wallet_holds_fails_once_and_moves_no_pool() -> None:
    simulator = Simulator(CERTAIN)
    ctx, clients = in_process_context(simulator)
    reserves = [(x.pool.vaults.x, x.pool.vaults.y) for x in simulator.catalog.listings]
    order_id = await new_order(ctx, amount_in=STARTING_FUNDS[SOL.mint] + 10**9)
    state = await drive(ctx, order_id)
    assert (state.status, state.failure_code) == (OrderStatus.FAILED, "InsufficientFunds")
    assert (await event_types(ctx, order_id)).count("TransactionSigned") == 1
    assert [(x.pool.vaults.x, x.pool.vaults.y) for x in simulator.catalog.listings] == reserves
    owner = clients.wallet.address
    assert simulator.wallets.balance(owner, SOL.mint) == STARTING_FUNDS[SOL.mint]
    assert simulator.wallets.lamports(owner) < 1_000 * 10**9, "the failed attempt paid its fee"
