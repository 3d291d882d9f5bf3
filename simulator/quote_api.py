"""The quote service beside the RPC node: Jupiter-shaped quotes and Raydium-style pool keys.

`GET /quote` is Jupiter v6's exact-in quote (SIMULATOR.md §5) on the best single pool;
the router of the engine uses two extensions: a ladder (every pool's output for each of
a list of amounts, to fit a split itself) and an exact quote of a given split. Pool keys
are every account a swap instruction on a pool names (`simulator.pool_keys`).
"""

from __future__ import annotations

import msgspec

from simulator.catalog import parse_amount
from simulator.core import Simulator
from simulator.dlmm import DlmmPool
from simulator.errors import InvalidRequest, SwapError
from simulator.pool_keys import PoolKeys, pool_keys
from simulator.quote_shapes import LadderResponse, RouteQuote, UniverseView
from simulator.quoting import pool_ladder, route_quote
from simulator.requests import LadderRequest, LegsRequest
from simulator.swap import Pool, Swap
from simulator.views import universe_view

MAX_LADDER_AMOUNTS = 64
MAX_LEGS = 8
MAX_KEYS = 100


class QuoteApi:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def _time_taken(self) -> float:
        # Simulated compute time, so that responses stay byte-identical per seed.
        return round(self.sim.quote_times.uniform(0.001, 0.005), 6)

    def tokens(self) -> UniverseView:
        """The universe: tokens, pairs with reference prices, pools with state."""
        sim = self.sim
        return universe_view(sim.catalog, sim.market, sim.chain.slot, sim.chain.unix_time())

    def ladder(self, request: LadderRequest) -> LadderResponse:
        """Every pool's output for each amount of the ladder, at the current slot."""
        catalog = self.sim.catalog
        pair, x_to_y, token_in, token_out = catalog.direction(
            request.input_mint, request.output_mint
        )
        _check_slippage(request.slippage_bps)
        if not 1 <= len(request.amounts) <= MAX_LADDER_AMOUNTS:
            raise InvalidRequest("amounts", f"must hold 1 to {MAX_LADDER_AMOUNTS} amounts")
        amounts = [parse_amount(a, f"amounts[{i}]") for i, a in enumerate(request.amounts)]
        listings = catalog.pools_of(pair)
        if request.pools is not None:
            listings = [
                catalog.pool(address, pair, f"pools[{index}]")
                for index, address in enumerate(request.pools)
            ]
        now = self.sim.chain.unix_time()
        return LadderResponse(
            input_mint=token_in.mint,
            output_mint=token_out.mint,
            swap_mode="ExactIn",
            slippage_bps=request.slippage_bps,
            context_slot=self.sim.chain.slot,
            time_taken=self._time_taken(),
            pools=[
                pool_ladder(listing.pool, x_to_y, amounts, now, request.slippage_bps, token_in.mint)
                for listing in listings
            ],
        )

    def legs(self, request: LegsRequest) -> RouteQuote:
        """The exact result of a given split; 422 when a leg cannot be filled."""
        _check_slippage(request.slippage_bps)
        catalog = self.sim.catalog
        pair, x_to_y, token_in, token_out = catalog.direction(
            request.input_mint, request.output_mint
        )
        if not 1 <= len(request.legs) <= MAX_LEGS:
            raise InvalidRequest("legs", f"must hold 1 to {MAX_LEGS} legs")
        now = self.sim.chain.unix_time()
        priced: list[tuple[Pool, Swap]] = []
        seen: set[str] = set()
        for index, leg in enumerate(request.legs):
            pool = catalog.pool(leg.pool, pair, f"legs[{index}].pool").pool
            if leg.pool in seen:
                raise InvalidRequest(f"legs[{index}].pool", "each pool may appear in one leg only")
            seen.add(leg.pool)
            amount = parse_amount(leg.amount_in, f"legs[{index}].amountIn")
            try:
                priced.append((pool, pool.quote(amount, x_to_y, now)))
            except SwapError as error:
                raise InvalidRequest(f"legs[{index}].amountIn", error.message, 422) from error
        return self._route(priced, token_in.mint, token_out.mint, request.slippage_bps)

    def best(self, input_mint: str, output_mint: str, amount: str, slippage_bps: int) -> RouteQuote:
        """Jupiter's `GET /quote` (ExactIn): the pool that gives the most, alone."""
        _check_slippage(slippage_bps)
        catalog = self.sim.catalog
        pair, x_to_y, token_in, token_out = catalog.direction(input_mint, output_mint)
        amount_in = parse_amount(amount, "amount")
        now = self.sim.chain.unix_time()
        fills: list[tuple[Pool, Swap]] = []
        for listing in catalog.pools_of(pair):
            try:
                fills.append((listing.pool, listing.pool.quote(amount_in, x_to_y, now)))
            except SwapError:
                continue
        if not fills:
            raise InvalidRequest("amount", "no pool can fill this amount", 422)
        pool, fill = max(fills, key=lambda priced: priced[1].amount_out)
        return self._route([(pool, fill)], token_in.mint, token_out.mint, slippage_bps)

    def keys(self, ids: list[str]) -> list[PoolKeys]:
        """Every account a swap on each pool names (DLMM: the bin arrays in use now)."""
        if not 1 <= len(ids) <= MAX_KEYS:
            raise InvalidRequest("ids", f"must name 1 to {MAX_KEYS} pools")
        found = []
        for index, address in enumerate(ids):
            keys = self.sim.keys.get(address)
            if keys is None:
                raise InvalidRequest(f"ids[{index}]", f"unknown pool {address!r}")
            pool = self.sim.catalog.by_address(address).pool
            if isinstance(pool, DlmmPool):
                keys = msgspec.structs.replace(
                    keys,
                    bin_arrays=pool_keys(
                        pool.info, range(pool.min_bin_id, pool.max_bin_id + 1)
                    ).bin_arrays,
                )
            found.append(keys)
        return found

    def _route(
        self, priced: list[tuple[Pool, Swap]], input_mint: str, output_mint: str, slippage_bps: int
    ) -> RouteQuote:
        return route_quote(
            priced, input_mint, output_mint, slippage_bps, self.sim.chain.slot, self._time_taken()
        )


def _check_slippage(slippage_bps: int) -> None:
    if not 0 <= slippage_bps <= 10_000:
        raise InvalidRequest("slippageBps", "must be between 0 and 10000")
