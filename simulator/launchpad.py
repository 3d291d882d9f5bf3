"""Where launches meet the chain: the new pool, its token, its creation transaction, and
the index `getSignaturesForAddress` reads.

`Launchpad.launch` lists the pool (it quotes and trades like the universe's own, by its
mint), opens its vaults to the decoder, records the creation transaction as landed in
the current slot, indexes its signature under every account it names, and draws its
crowd and rug. The index holds creations only: the simulator does not index swaps, so
`getSignaturesForAddress` on a program shows its pool creations (on mainnet a bot asks
for the create-pool fee receiver's, which only creations touch).
"""

from __future__ import annotations

from fractions import Fraction

import msgspec
from solders.transaction import VersionedTransaction

from simulator.base58 import b58encode
from simulator.catalog import Catalog
from simulator.chain import Chain
from simulator.config import SimulatorConfig
from simulator.cpmm import CONFIG_025, CpmmPool
from simulator.errors import InvalidRequest
from simulator.launch_tx import creation_record, creator_key
from simulator.launches import MAX_OPEN_IN_SLOTS, Crowd, Launch, LaunchSpec, Schedule
from simulator.ledger import Ledger
from simulator.pool_keys import PoolKeys, pool_keys
from simulator.streams import pubkey, stream
from simulator.swap import PoolInfo
from simulator.universe import SOL, USDC, Listing, Pair, Token
from simulator.wallets import Wallets


class Launchpad:
    """Every launch so far, the crowd still to buy, and the creations by account."""

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        catalog: Catalog,
        chain: Chain,
        keys: dict[str, PoolKeys],
        wallets: Wallets,
        ledger: Ledger,
    ) -> None:
        self._catalog, self._chain, self._keys = catalog, chain, keys
        self._wallets, self._ledger = wallets, ledger
        self._ids = stream(config.seed, "launch_keys")
        self.schedule = Schedule(config, (SOL.mint, USDC.mint))
        self.crowd = Crowd(config)
        self.launched: dict[str, Launch] = {}  # by pool address
        self.mints: dict[str, Launch] = {}  # by the new token's mint
        self.signatures: dict[str, list[str]] = {}  # account -> creations, oldest first

    def launch(self, spec: LaunchSpec) -> Launch:
        """Create the pool of `spec` in the current slot; what the creation says."""
        _check(spec)
        quote = self._catalog.token(spec.quote_mint, "quoteToken")
        if quote not in (SOL, USDC):
            raise InvalidRequest("quoteToken", "must be SOL or USDC")
        chain = self._chain
        seed = self._ids.randbytes(32)
        mint, address = b58encode(pubkey(self._ids)), b58encode(pubkey(self._ids))
        signer = creator_key(seed, spec.creator)
        creator = spec.creator or str(signer.pubkey())
        slot = chain.slot
        open_time = chain.unix_time_at(slot + spec.open_in_slots)
        if (
            spec.open_in_slots > 0
            and chain.unix_time_at(slot + spec.open_in_slots - 1) == open_time
        ):
            open_time += 1  # the clock is in seconds: open from the first slot of the next one
        token = Token(mint[:6], spec.base_decimals, mint)
        pair = Pair(token, quote, _price(spec, quote), 0.0, 0.0, 0.0)
        info = PoolInfo(
            address=address,
            venue="raydium",
            label="Raydium CPMM",
            kind="cpmm",
            mint_x=mint,
            mint_y=quote.mint,
        )
        pool = CpmmPool(info, spec.base_reserve, spec.quote_reserve, CONFIG_025, open_time)
        self._catalog.add_launched(Listing(pair, pool))
        self._keys[address] = keys = pool_keys(info, config_index=CONFIG_025.index)
        self._wallets.decimals[mint] = spec.base_decimals
        launch = Launch(
            pool=address,
            base_mint=mint,
            quote_mint=quote.mint,
            creator=creator,
            slot=slot,
            open_slot=chain.first_slot_at(open_time),
            open_time=open_time,
            signature="",
            spec=spec,
        )
        payer = str(signer.pubkey())
        record = creation_record(
            launch,
            signer,
            keys,
            chain.blockhash,
            chain.last_valid_block_height(),
            self._wallets.lamports(payer),
            chain.unix_time(),
        )
        self._wallets.charge(payer, record.tx.fee_lamports())
        self._ledger.records[record.tx.signature] = record
        launch = msgspec.structs.replace(launch, signature=record.tx.signature)
        self._index(record.tx.wire, record.tx.signature)
        self.launched[address] = self.mints[mint] = launch
        self.crowd.arrive(pool, spec, launch.open_slot)
        return launch

    def _index(self, wire: bytes, signature: str) -> None:
        message = VersionedTransaction.from_bytes(wire).message
        for key in message.account_keys:
            self.signatures.setdefault(str(key), []).append(signature)


def _check(spec: LaunchSpec) -> None:
    if not 0 <= spec.open_in_slots <= MAX_OPEN_IN_SLOTS:
        raise InvalidRequest("openInSlots", f"must be between 0 and {MAX_OPEN_IN_SLOTS}")
    if not 0 <= spec.base_decimals <= 9:
        raise InvalidRequest("baseDecimals", "must be between 0 and 9")
    for field, pct in (("lpBurnedPct", spec.lp_burned_pct), ("topHolderPct", spec.top_holder_pct)):
        if not 0 <= pct <= 100:
            raise InvalidRequest(field, "must be between 0 and 100")
    for field, amount in (("quoteReserve", spec.quote_reserve), ("baseReserve", spec.base_reserve)):
        if not 0 < amount < 2**64:
            raise InvalidRequest(field, "must be more than 0 and fit a u64 of atomic units")
    if spec.rug_after_slots is not None and not 0 < spec.rug_after_slots <= MAX_OPEN_IN_SLOTS:
        raise InvalidRequest("rugAfterSlots", f"must be between 1 and {MAX_OPEN_IN_SLOTS}")


def _price(spec: LaunchSpec, quote: Token) -> Fraction:
    """The opening price in UI units: quote per base."""
    return Fraction(
        spec.quote_reserve * 10**spec.base_decimals, spec.base_reserve * 10**quote.decimals
    )
