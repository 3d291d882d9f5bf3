"""The simulator as one in-process object: chain, pools and market together.

`Simulator` answers what an RPC node and an aggregator would: quotes, the latest
blockhash, block height, sending a transaction and signature statuses. The HTTP
service is a thin wrapper over these methods; tests call them directly.

Time is slots. `advance_slots` moves the clock; with `advance_on_poll` (the default,
used when nothing else drives the clock) `signature_statuses` also advances it, by
one slot, when a sender asks again about a transaction it has already seen in the
current slot. One client polling an order therefore sees one new slot per poll, and
many clients polling in turn see about one new slot per round of polls, so a
blockhash still expires after 150 blocks of waiting, not after 150 requests.

With a `journal` (see simulator.durable) every input that changes the chain is
written down, so a restarted service rebuilds the same chain from it.
"""

from __future__ import annotations

import msgspec

from simulator.admission import admit, blockhash_unknown, check_signature, parse_legs
from simulator.blocks import run_slot
from simulator.catalog import Catalog, parse_amount
from simulator.chain import Chain
from simulator.config import SimulatorConfig
from simulator.errors import InvalidRequest, SwapError
from simulator.journal import Journal
from simulator.landing import Landing
from simulator.ledger import Ledger, TxRecord
from simulator.market import Market
from simulator.quoting import pool_ladder, route_quote
from simulator.requests import LadderRequest, LegsRequest, SendTransaction
from simulator.responses import (
    BlockhashView,
    Context,
    LadderResponse,
    RouteQuote,
    SendResult,
    SlotView,
    StatusesResponse,
    UniverseView,
)
from simulator.streams import stream
from simulator.universe import default_listings
from simulator.views import universe_view

MAX_LADDER_AMOUNTS = 64
MAX_SIGNATURES = 256
MAX_ADVANCE = 100_000


class Simulator:
    """A seeded simulated Solana with the default Raydium and Meteora pools."""

    def __init__(self, config: SimulatorConfig | None = None, *, seed: int | None = None) -> None:
        config = config or SimulatorConfig()
        if seed is not None:
            config = msgspec.structs.replace(config, seed=seed)
        self.config = config
        self.catalog = Catalog(default_listings(config.seed))
        self.chain = Chain(config)
        self.market = Market(self.catalog.listings, config)
        self.ledger = Ledger()
        self._landing = Landing(config)
        self._quotes = stream(config.seed, "quotes")
        # Where accepted sends and advances are written (simulator.durable); None keeps
        # the chain in memory only.
        self.journal: Journal | None = None

    def __getstate__(self) -> dict[str, object]:
        # A snapshot holds the chain, not the open journal it is written into.
        return {**self.__dict__, "journal": None}

    def _time_taken(self) -> float:
        # Simulated compute time, so that responses stay byte-identical per seed.
        return round(self._quotes.uniform(0.001, 0.005), 6)

    def tokens(self) -> UniverseView:
        """The universe: tokens, pairs with reference prices, pools with state."""
        return universe_view(self.catalog, self.market, self.chain.slot, self.chain.unix_time())

    def quote(self, request: LadderRequest) -> LadderResponse:
        """Every pool's output for each amount of the ladder, at the current slot."""
        pair, x_to_y, token_in, token_out = self.catalog.direction(
            request.input_mint, request.output_mint
        )
        _check_slippage(request.slippage_bps)
        if not 1 <= len(request.amounts) <= MAX_LADDER_AMOUNTS:
            raise InvalidRequest("amounts", f"must hold 1 to {MAX_LADDER_AMOUNTS} amounts")
        amounts = [parse_amount(a, f"amounts[{i}]") for i, a in enumerate(request.amounts)]
        listings = self.catalog.pools_of(pair)
        if request.pools is not None:
            listings = [
                self.catalog.pool(address, pair, f"pools[{index}]")
                for index, address in enumerate(request.pools)
            ]
        now = self.chain.unix_time()
        return LadderResponse(
            input_mint=token_in.mint,
            output_mint=token_out.mint,
            swap_mode="ExactIn",
            slippage_bps=request.slippage_bps,
            context_slot=self.chain.slot,
            time_taken=self._time_taken(),
            pools=[
                pool_ladder(listing.pool, x_to_y, amounts, now, request.slippage_bps, token_in.mint)
                for listing in listings
            ],
        )

    def quote_legs(self, request: LegsRequest) -> RouteQuote:
        """The exact result of a given split; 422 when a leg cannot be filled."""
        _check_slippage(request.slippage_bps)
        x_to_y, legs = parse_legs(
            self.catalog, request.legs, request.input_mint, request.output_mint
        )
        _, _, token_in, token_out = self.catalog.direction(request.input_mint, request.output_mint)
        now = self.chain.unix_time()
        priced = []
        for index, leg in enumerate(legs):
            try:
                priced.append((leg.pool, leg.pool.quote(leg.amount_in, x_to_y, now)))
            except SwapError as error:
                raise InvalidRequest(f"legs[{index}].amountIn", error.message, 422) from error
        return route_quote(
            priced,
            token_in.mint,
            token_out.mint,
            request.slippage_bps,
            self.chain.slot,
            self._time_taken(),
        )

    def latest_blockhash(self) -> BlockhashView:
        """`getLatestBlockhash`: the newest blockhash and its lastValidBlockHeight."""
        chain = self.chain
        return BlockhashView(
            blockhash=chain.blockhash,
            last_valid_block_height=chain.last_valid_block_height(),
            block_height=chain.block_height,
            slot=chain.slot,
        )

    def block_height(self) -> SlotView:
        """`getBlockHeight` (with the current slot)."""
        return SlotView(slot=self.chain.slot, block_height=self.chain.block_height)

    def send_transaction(self, request: SendTransaction) -> SendResult:
        """Queue a swap for landing; a known signature is never queued twice."""
        check_signature(request.signature)
        tx = admit(request, self.catalog, self.chain)
        existing = self.ledger.get(tx.signature)
        slot = self.chain.slot
        if existing is not None:
            if existing.tx.content() != tx.content():
                raise InvalidRequest("signature", "already used by a different transaction", 409)
            return SendResult(signature=tx.signature, duplicate=True, status=existing.status(slot))
        record = TxRecord(tx=tx, submitted_slot=slot, seen_slot=slot)
        # A tx whose blockhash is already gone can never land: it is expired now.
        record.expired = self.chain.block_height > tx.last_valid_block_height or blockhash_unknown(
            request, self.chain
        )
        self.ledger.add(record)
        if self.journal is not None:
            self.journal.record_send(request)
        return SendResult(signature=tx.signature, duplicate=False, status=record.status(slot))

    def signature_statuses(self, signatures: list[str]) -> StatusesResponse:
        """`getSignatureStatuses`: null for an unknown signature, else its status."""
        if len(signatures) > MAX_SIGNATURES:
            raise InvalidRequest("signatures", f"at most {MAX_SIGNATURES} per request")
        records = [self.ledger.get(signature) for signature in signatures]
        settling = [r for r in records if r is not None and r.is_settling(self.chain.slot)]
        if self.config.advance_on_poll and any(r.seen_slot >= self.chain.slot for r in settling):
            self.advance_slots(1)
        slot = self.chain.slot
        for record in settling:
            record.seen_slot = slot
        return StatusesResponse(
            context=Context(slot=slot),
            value=[None if r is None else r.status(slot) for r in records],
        )

    def advance_slots(self, count: int = 1) -> SlotView:
        """Run `count` slots of chain and market."""
        if not 0 <= count <= MAX_ADVANCE:
            raise InvalidRequest("slots", f"must be between 0 and {MAX_ADVANCE}")
        for _ in range(count):
            run_slot(self.chain, self.market, self.ledger, self._landing)
        if self.journal is not None and count:
            self.journal.record_advance(count, self.chain.blockhash)
        return self.block_height()


def _check_slippage(slippage_bps: int) -> None:
    if not 0 <= slippage_bps <= 10_000:
        raise InvalidRequest("slippageBps", "must be between 0 and 10000")
