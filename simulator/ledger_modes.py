"""Where CPMM pools execute: `SIMULATOR_LEDGER=math` (simulator.cpmm, the default) or
`litesvm`, the vendored Raydium CPMM program in LiteSVM (simulator.cpmm_program). The
other venues keep our math in both; every pool keeps its address, mints and reserves, so
the same seed builds the same transactions, with the same signatures, in either mode.
"""

from __future__ import annotations

from solders.pubkey import Pubkey

from simulator.config import SimulatorConfig
from simulator.cpmm import CpmmPool
from simulator.cpmm_program import CpmmProgram
from simulator.cpmm_program.executed_pool import ExecutedCpmmPool
from simulator.universe import Listing, default_listings


def universe(config: SimulatorConfig) -> list[Listing]:
    """The default pools (SIMULATOR.md §9) of `config.seed`, CPMM ones in the program
    when `config.ledger` is "litesvm"."""
    listings = default_listings(config.seed)
    if config.ledger == "math":
        return listings
    program = CpmmProgram(seed=f"ledger:{config.seed}")
    # `initialize` opens a pool no sooner than the second after the program's clock:
    # so the universe's pools are open from the chain's first slot, as in our math.
    program.set_unix_time(config.genesis_unix - 1)
    pairs = [listing.pair for listing in listings]
    tokens = dict.fromkeys(token for pair in pairs for token in (pair.base, pair.quote))
    for token in tokens:
        program.create_mint(token.decimals, Pubkey.from_string(token.mint))
    return [
        Listing(listing.pair, ExecutedCpmmPool.launch(program, listing.pool), listing.layout)
        if isinstance(listing.pool, CpmmPool)
        else listing
        for listing in listings
    ]
