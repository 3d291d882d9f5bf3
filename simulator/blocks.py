"""One slot of the cluster: the clock, the market and the transactions that land.

In a produced block the noise trades run in arrival order; each landing tx runs at
the position the landing draw gave it among them; arbitrage closes the block.
"""

from __future__ import annotations

from simulator.chain import Chain
from simulator.errors import SwapError
from simulator.execution import Failed, execute, failed_result
from simulator.landing import Landing
from simulator.ledger import Ledger, TxRecord
from simulator.market import Market


def run_slot(chain: Chain, market: Market, ledger: Ledger, landing: Landing) -> None:
    """Advance the cluster by one slot."""
    produced = chain.next_slot()
    market.move_reference()
    ledger.restore_forked(chain.slot)
    if not produced:
        return
    now = chain.unix_time()
    noise = market.noise_trades()
    inclusions = landing.include(ledger, chain.slot, chain.block_height, len(noise))
    queue = iter(inclusions)
    upcoming = next(queue, None)
    for index in range(len(noise) + 1):
        while upcoming is not None and upcoming.position <= index:
            _land(upcoming.record, chain.slot, now, landing)
            upcoming = next(queue, None)
        if index < len(noise):
            trade = noise[index]
            try:
                trade.pool.swap(trade.amount_in, trade.x_to_y, now)
            except SwapError:
                continue  # a noise trader's failed swap simply does not happen
    market.arbitrage(now)
    market.move_liquidity()


def _land(record: TxRecord, slot: int, now: int, landing: Landing) -> None:
    record.landed_slot = slot
    record.confirm_slot = slot + landing.confirmation_delay()
    try:
        record.result = execute(record.tx, slot, now, landing.injected_slippage())
    except Failed as failure:
        record.err = failure.error
        record.result = failed_result(record.tx, slot)
