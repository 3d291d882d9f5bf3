"""The simulator as one in-process object: chain, pools, wallets and market together.

`Simulator` answers what an RPC node would (the JSON-RPC layer, `simulator.rpc`, is a thin
rendering of these methods) and holds the pools the quote service reads
(`simulator.quote_api`). Tests call it directly.

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

from collections.abc import Callable
from typing import cast

import msgspec
from solders.transaction import VersionedTransaction

from simulator.blocks import run_slot
from simulator.catalog import Catalog
from simulator.chain import Chain
from simulator.config import SimulatorConfig
from simulator.cpmm import CpmmPool
from simulator.errors import (
    PREFLIGHT_FAILURE,
    SIGNATURE_FAILURE,
    InvalidRequest,
    RpcError,
    invalid_params,
)
from simulator.execution import execute
from simulator.journal import Journal
from simulator.landing import Landing
from simulator.launches import Launch, LaunchSpec
from simulator.launchpad import Launchpad
from simulator.ledger import Executed, Ledger, TxError, TxRecord
from simulator.ledger_modes import universe
from simulator.market import Market
from simulator.pool_keys import PoolKeys, pool_keys
from simulator.streams import stream
from simulator.swap import Pool
from simulator.swap_decoder import Decoder
from simulator.tx_intake import (
    Malformed,
    Refused,
    deserialize,
    last_valid_block_height,
    verify,
)
from simulator.wallets import Wallets

MAX_SIGNATURES = 256
MAX_ADVANCE = 100_000
MAX_MOVE_BPS = 9_000


class Simulator:
    """A seeded simulated Solana with the default Raydium and Meteora pools."""

    def __init__(self, config: SimulatorConfig | None = None, *, seed: int | None = None) -> None:
        config = config or SimulatorConfig()
        if seed is not None:
            config = msgspec.structs.replace(config, seed=seed)
        self.config = config
        self.catalog = Catalog(universe(config))
        self.chain = Chain(config)
        self.market = Market(self.catalog.listings, config)
        self.ledger = Ledger()
        self.wallets = Wallets(self.catalog.tokens)
        self.keys: dict[str, PoolKeys] = {
            listing.pool.info.address: pool_keys(
                listing.pool.info, config_index=_config_index(listing.pool)
            )
            for listing in self.catalog.listings
        }
        self._decoder = Decoder(self.catalog, self.keys, self.wallets)
        self._landing = Landing(config)
        self.launchpad = Launchpad(
            config,
            catalog=self.catalog,
            chain=self.chain,
            keys=self.keys,
            wallets=self.wallets,
            ledger=self.ledger,
        )
        self.quote_times = stream(config.seed, "quotes")
        # Where accepted sends and advances are written (simulator.durable); None keeps
        # the chain in memory only.
        self.journal: Journal | None = None
        # Called after the slot moves or a pool launches (simulator.subscriptions).
        self.on_change: Callable[[], None] | None = None

    def __getstate__(self) -> dict[str, object]:
        # A snapshot holds the chain, not the open journal it is written into.
        return {**self.__dict__, "journal": None, "on_change": None}

    def close(self) -> None:
        """Let go of the journal and the archive (the files and the lock)."""
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self.ledger.archive is not None:
            self.ledger.archive.close()
            self.ledger.archive = None

    def send_transaction(self, raw: bytes, skip_preflight: bool = False) -> str:
        """`sendTransaction`: the signature. A signature seen before is never queued
        again; without `skip_preflight` the transaction is first simulated, and a
        failure is Solana's -32002 (-32003 for a bad signature), nothing queued. With
        it, what a leader would drop (a bad signature, an unknown blockhash) is dropped."""
        tx = _deserialize(raw)
        signature = str(tx.signatures[0])
        existing = self.ledger.get(signature)
        if existing is not None:
            if not skip_preflight and existing.executed is not None:
                raise _preflight("AlreadyProcessed", "This transaction has already been processed")
            return signature
        try:
            verify(tx)
            decoded = self._decoder.transaction(tx, raw, last_valid_block_height(tx, self.chain))
        except Refused as refusal:
            if skip_preflight:
                return signature  # a leader drops it; it never lands
            if refusal.err == "SignatureFailure":
                raise RpcError(SIGNATURE_FAILURE, refusal.message) from refusal
            raise _preflight(refusal.err, refusal.message) from refusal
        except Malformed as error:
            raise invalid_params(str(error)) from error
        if not skip_preflight:
            run = self.simulate(decoded.wire)
            if run.err is not None:
                raise _preflight(run.err, _describe(run.err), run)
        slot = self.chain.slot
        self.ledger.add(TxRecord(tx=decoded, submitted_slot=slot, seen_slot=slot))
        if self.journal is not None:
            self.journal.record_send(raw)
        return signature

    def simulate(self, raw: bytes, sig_verify: bool = False) -> Executed:
        """`simulateTransaction`: what the transaction would do now, changing nothing."""
        tx = _deserialize(raw)
        try:
            if sig_verify:
                verify(tx)
            decoded = self._decoder.transaction(tx, raw, last_valid_block_height(tx, self.chain))
        except Refused as refusal:
            return Executed(refusal.err, 0, [], 0)
        except Malformed as error:
            raise invalid_params(str(error)) from error
        fee = decoded.fee_lamports()
        if self.wallets.lamports(decoded.payer) < fee:
            return Executed("InsufficientFundsForFee", 0, [], 0)
        return execute(decoded, self.chain.unix_time(), self.wallets, apply=False)

    def signature_statuses(self, signatures: list[str]) -> list[TxRecord | None]:
        """`getSignatureStatuses`: each signature's record (None: never seen)."""
        if len(signatures) > MAX_SIGNATURES:
            raise invalid_params(f"Too many inputs provided; max {MAX_SIGNATURES}")
        records = [self.ledger.get(signature) for signature in signatures]
        slot, height = self.chain.slot, self.chain.block_height
        settling = [r for r in records if r is not None and r.is_settling(slot, height)]
        if self.config.advance_on_poll and any(r.seen_slot >= self.chain.slot for r in settling):
            self.advance_slots(1)
        for record in settling:
            record.seen_slot = self.chain.slot
        return records

    def advance_slots(self, count: int = 1) -> int:
        """Run `count` slots of chain and market; the new slot."""
        if not 0 <= count <= MAX_ADVANCE:
            raise InvalidRequest("slots", f"must be between 0 and {MAX_ADVANCE}")
        launchpad = self.launchpad
        for _ in range(count):
            args = (self.chain, self.market, self.ledger, self._landing, self.wallets)
            if run_slot(*args, launchpad.crowd):
                spec = launchpad.schedule.draw()
                if spec is not None:
                    launchpad.launch(spec)
            self.ledger.archive_settled(self.chain.slot, self.chain.block_height)
        if self.journal is not None and count:
            self.journal.record_advance(count, self.chain.blockhash)
        if self.on_change is not None and count:
            self.on_change()
        return self.chain.slot

    def launch_pool(self, spec: LaunchSpec) -> Launch:
        """`simulator_launchPool`: a new pool created in the current slot."""
        launch = self.launchpad.launch(spec)
        if self.journal is not None:
            self.journal.record_launch(spec)
        if self.on_change is not None:
            self.on_change()
        return launch

    def move_price(self, pair: str, bps: int) -> float:
        """Move a pair's reference price by `bps`; arbitrage pulls the pools after it."""
        if pair not in self.market.prices:
            raise InvalidRequest(
                "pair", f"unknown pair {pair!r}; pairs: {list(self.market.prices)}"
            )
        if not -MAX_MOVE_BPS <= bps <= MAX_MOVE_BPS:
            raise InvalidRequest("bps", f"must be between -{MAX_MOVE_BPS} and {MAX_MOVE_BPS}")
        self.market.prices[pair] *= 1 + bps / 10_000
        if self.journal is not None:
            self.journal.record_move(pair, bps)
        return self.market.prices[pair]


def _config_index(pool: Pool) -> int:
    return pool.config.index if isinstance(pool, CpmmPool) else 0


def _deserialize(raw: bytes) -> VersionedTransaction:
    try:
        return deserialize(raw)
    except Malformed as error:
        raise invalid_params(str(error)) from error


def _describe(err: TxError) -> str:
    if isinstance(err, dict) and "InstructionError" in err:
        index, detail = cast(list[object], err["InstructionError"])
        if isinstance(detail, dict) and "Custom" in detail:
            return (
                f"Error processing Instruction {index}: custom program error: {detail['Custom']:#x}"
            )
        return f"Error processing Instruction {index}: {detail}"
    return str(err)


def _preflight(err: TxError, message: str, run: Executed | None = None) -> RpcError:
    data = {
        "err": err,
        "logs": run.logs if run is not None else [],
        "accounts": None,
        "unitsConsumed": run.units_consumed if run is not None else 0,
        "returnData": None,
    }
    return RpcError(PREFLIGHT_FAILURE, f"Transaction simulation failed: {message}", data)
