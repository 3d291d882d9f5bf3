"""Which pending transactions a produced block includes (SIMULATOR.md §7).

For each pending tx, in submission order, the checks run as the table orders them:
expired (block height past lastValidBlockHeight, no fee), then the landing draw
(p0 by congestion times g by priority fee), then a write-lock conflict
(AccountInUse: not included, retried in a later block, no fee), then whether the
block lands on a fork that will be dropped (the tx shows `processed`, then returns
to pending). What remains lands for real and executes at a drawn position among
the block's noise trades, earlier for a higher priority fee.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.config import SimulatorConfig
from simulator.ledger import Ledger, TxRecord
from simulator.streams import stream


@dataclass(frozen=True, slots=True)
class Inclusion:
    record: TxRecord
    position: int  # executes before the noise trade with this index


class Landing:
    """The landing draws, from their own seeded streams."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._landing = stream(config.seed, "landing")
        self._failures = stream(config.seed, "failures")
        self._forks = stream(config.seed, "forks")
        self._latency = stream(config.seed, "latency")

    def confirmation_delay(self) -> int:
        """Slots from processed to confirmed: 1 or 2."""
        return self._latency.randint(1, 2)

    def include(
        self, ledger: Ledger, slot: int, block_height: int, noise_trades: int
    ) -> list[Inclusion]:
        """Decide this block's fate for every pending tx; return the ones landing."""
        config = self._config
        in_use = config.account_in_use_probability()
        landing: list[Inclusion] = []
        for signature, record in list(ledger.pending.items()):
            tx = record.tx
            if block_height > tx.last_valid_block_height:
                record.expired = True
                del ledger.pending[signature]
                continue
            if self._landing.random() >= config.landing_probability(tx.compute_unit_price):
                continue
            if self._failures.random() < in_use:
                continue
            del ledger.pending[signature]
            if self._forks.random() < config.fork_prob:
                record.landed_slot = slot
                record.confirm_slot = record.dropped_at = slot + self.confirmation_delay()
                ledger.forked[signature] = record
                continue
            landing.append(Inclusion(record, self._position(tx.compute_unit_price, noise_trades)))
        landing.sort(key=lambda item: (item.position, -item.record.tx.compute_unit_price))
        return landing

    def _position(self, compute_unit_price: int, noise_trades: int) -> int:
        # A fee at the regime's p75 or above goes first; no fee draws anywhere.
        share = self._config.fee_share(compute_unit_price)
        return int(self._landing.random() * (1.0 - share) * (noise_trades + 1))

    def injected_slippage(self) -> bool:
        """The `p_slippage` knob: fail this landing tx as if the price had moved."""
        return self._config.p_slippage > 0 and self._failures.random() < self._config.p_slippage
