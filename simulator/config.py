"""The simulator's knobs, read once into one typed settings object."""

from __future__ import annotations

from typing import Literal

import msgspec

Congestion = Literal["normal", "congested", "storm"]
LedgerMode = Literal["math", "litesvm"]  # where CPMM pools execute (simulator.ledger_modes)

# p0 of SIMULATOR.md §7: chance that a produced block includes a pending tx.
LANDING_BASE: dict[str, float] = {"normal": 0.7, "congested": 0.25, "storm": 0.05}
# The 75th-percentile compute-unit price (micro-lamports/CU) of each regime; a tx
# paying at least this gets the full landing chance.
FEE_P75: dict[str, int] = {"normal": 10_000, "congested": 200_000, "storm": 2_000_000}
# Write-lock conflicts on a hot pool, per landing attempt [A].
ACCOUNT_IN_USE: dict[str, float] = {"normal": 0.0, "congested": 0.015, "storm": 0.03}

BASE_FEE_LAMPORTS = 5_000  # per signature
BLOCKHASH_VALIDITY = 150  # blocks
FINALIZE_SLOTS = 32
MAX_COMPUTE_UNITS = 1_400_000
COMPUTE_UNITS_PER_LEG = 200_000


class SimulatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting of a simulator; the defaults are the realistic ones.

    `p_land`, `p_account_in_use` and `p_slippage` let tests force outcomes: a
    `p_land` of 0 means nothing ever lands (so every tx expires), a `p_slippage`
    of 1 fails every landing tx with its venue's slippage error.
    """

    seed: int = 0
    slot_ms: int = 400
    time_scale: float = 0.0  # wall-clock seconds per slot = slot_ms/1000 * time_scale
    congestion: Congestion = "normal"
    skip_rate: float = 0.03
    fork_prob: float = 0.05
    p_land: float | None = None  # overrides p0(congestion) * g(fee)
    p_account_in_use: float | None = None  # None: by congestion
    p_slippage: float = 0.0
    p_arb: float = 0.7
    market_activity: bool = True  # noise traders and arbitrage
    advance_on_poll: bool = True  # see core.Simulator.signature_statuses
    start_slot: int = 312_000_000
    start_block_height: int = 290_000_000
    genesis_unix: int = 1_735_689_600  # unix time at start_slot
    ledger: LedgerMode = "math"
    launches_per_hour: float = 0.0  # new pools on a seeded schedule (simulator.launches)

    def landing_probability(self, compute_unit_price: int) -> float:
        """`p0(congestion) * g(fee)`, g rising from 0.3 (no fee) to 1 (>= p75)."""
        if self.p_land is not None:
            return self.p_land
        share = min(1.0, compute_unit_price / FEE_P75[self.congestion])
        return LANDING_BASE[self.congestion] * (0.3 + 0.7 * share)

    def account_in_use_probability(self) -> float:
        if self.p_account_in_use is not None:
            return self.p_account_in_use
        return ACCOUNT_IN_USE[self.congestion]

    def fee_share(self, compute_unit_price: int) -> float:
        """How close a fee is to the regime's p75 (0..1); earlier in the block."""
        return min(1.0, compute_unit_price / FEE_P75[self.congestion])
