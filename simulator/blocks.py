"""One slot of the cluster: the clock, the market and the transactions that land.

In a produced block the competing snipers of a new pool go first (simulator.launches:
they bid for the top of the block), in fee order, with every landing tx that pays more
than one of them ahead of it; the noise trades then run in arrival order, each other
landing tx at the position the landing draw gave it among them; arbitrage closes the
block, and a rug due by this slot pulls its pool's liquidity.
"""

from __future__ import annotations

from simulator.chain import Chain
from simulator.errors import SwapError
from simulator.execution import execute
from simulator.landing import Inclusion, Landing
from simulator.launches import Crowd, CrowdBuy, buy
from simulator.ledger import Ledger, TxRecord
from simulator.market import Market
from simulator.wallets import Wallets


def run_slot(
    chain: Chain,
    market: Market,
    ledger: Ledger,
    landing: Landing,
    wallets: Wallets,
    crowd: Crowd,
) -> bool:
    """Advance the cluster by one slot; True when its leader produced a block."""
    produced = chain.next_slot()
    market.move_reference()
    ledger.restore_forked(chain.slot)
    if not produced:
        return False
    now = chain.unix_time()
    noise = market.noise_trades()
    inclusions = landing.include(ledger, chain.slot, chain.block_height, len(noise))
    inclusions = _top_of_block(crowd.due(chain.slot), inclusions, chain.slot, now, landing, wallets)
    queue = iter(inclusions)
    upcoming = next(queue, None)
    for index in range(len(noise) + 1):
        while upcoming is not None and upcoming.position <= index:
            _land(upcoming.record, chain.slot, now, landing, wallets)
            upcoming = next(queue, None)
        if index < len(noise):
            trade = noise[index]
            try:
                trade.pool.swap(trade.amount_in, trade.x_to_y, now)
            except SwapError:
                continue  # a noise trader's failed swap simply does not happen
    market.arbitrage(now)
    market.move_liquidity()
    crowd.pull_liquidity(chain.slot)
    return True


def _top_of_block(
    buys: list[CrowdBuy],
    inclusions: list[Inclusion],
    slot: int,
    now: int,
    landing: Landing,
    wallets: Wallets,
) -> list[Inclusion]:
    """Run the crowd's buys (highest fee first) and every landing tx paying more than
    the cheapest of them, merged by fee (a tie goes to the crowd); the other txs, left."""
    if not buys:
        return inclusions
    cheapest = buys[-1].compute_unit_price
    ahead = [i for i in inclusions if i.record.tx.compute_unit_price > cheapest]
    merged: list[tuple[int, int, CrowdBuy | Inclusion]] = [
        *((-b.compute_unit_price, 0, b) for b in buys),
        *((-i.record.tx.compute_unit_price, 1, i) for i in ahead),
    ]
    for _, _, item in sorted(merged, key=lambda entry: entry[:2]):
        if isinstance(item, Inclusion):
            _land(item.record, slot, now, landing, wallets)
        else:
            buy(item, now)
    return [i for i in inclusions if i.record.tx.compute_unit_price <= cheapest]


def _land(record: TxRecord, slot: int, now: int, landing: Landing, wallets: Wallets) -> None:
    tx = record.tx
    if wallets.lamports(tx.payer) < tx.fee_lamports():
        # InsufficientFundsForFee: the leader cannot charge it, so it is not in the block.
        record.expired = True
        return
    record.landed_slot = slot
    record.confirm_slot = slot + landing.confirmation_delay()
    record.executed = execute(tx, now, wallets, landing.injected_slippage())
    record.executed.block_time = now
