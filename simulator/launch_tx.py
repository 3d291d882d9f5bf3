"""A launch's creation transaction, as the chain records it and a bot reads it back.

The creation is a signed v0 transaction calling the Raydium CPMM program's `initialize`
(Anchor discriminator, `init_amount_0`, `init_amount_1`, `open_time`, as raydium-cp-swap
`instructions/initialize.rs`), naming the program's create-pool fee receiver, as every
real CPMM pool creation does: that account is what bots watch
(`getSignaturesForAddress`), since only creations touch it. Its logs carry the creation
(`Program log: Instruction: Initialize`, then a `pool_created` line with the pool, the
mints, the creator, the reserves, the open time and the token's properties), which is
what `getTransaction` shows. The signer is the creator's key, drawn from the seed; a
launch naming its own `creator` is signed by a key derived from that address (the
simulator holds no one's real key), and its log names the creator asked for.
"""

from __future__ import annotations

import hashlib
import struct

import msgspec
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from simulator.config import BASE_FEE_LAMPORTS
from simulator.launches import Launch
from simulator.ledger import Executed, Transaction, TxRecord
from simulator.pool_keys import PoolKeys
from simulator.program_layouts import (
    CPMM_PROGRAM,
    SYSTEM_PROGRAM,
    TOKEN_PROGRAM,
    anchor_discriminator,
)

CREATE_POOL_FEE = "DNXgeM9EiiaAbaWvwjHj9fQQLAX5ZsfHyvmYUNRAdNC8"  # CPMM's fee receiver
CREATE_POOL_FEE_LAMPORTS = 150_000_000  # 0.15 SOL, what Raydium charges a creation
INITIALIZE_UNITS = 68_000
POOL_CREATED = "Program log: pool_created "


class PoolCreated(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The creation as its log line carries it (amounts atomic, as strings)."""

    pool: str
    base_mint: str
    quote_mint: str
    creator: str
    base_reserve: str
    quote_reserve: str
    base_decimals: int
    open_time: int
    mint_authority: str | None
    freeze_authority: str | None
    lp_burned_pct: int
    top_holder_pct: int


_encoder = msgspec.json.Encoder()


def creator_key(seed: bytes, creator: str | None) -> Keypair:
    """The key that signs a creation: drawn, or derived from the creator named."""
    if creator is None:
        return Keypair.from_seed(seed)
    return Keypair.from_seed(hashlib.sha256(f"creator:{creator}".encode()).digest())


def creation_record(
    launch: Launch,
    signer: Keypair,
    keys: PoolKeys,
    blockhash: str,
    last_valid_block_height: int,
    lamports_before: int,
    block_time: int,
) -> TxRecord:
    """The creation, landed in `launch.slot` and confirmed in the next one."""
    spec = launch.spec
    data = anchor_discriminator("initialize") + struct.pack(
        "<QQQ", spec.base_reserve, spec.quote_reserve, launch.open_time
    )
    accounts = [
        AccountMeta(signer.pubkey(), is_signer=True, is_writable=True),
        *(_meta(keys.accounts[role], writable=False) for role in ("ammConfig", "authority")),
        _meta(launch.pool, writable=True),
        _meta(launch.base_mint, writable=False),
        _meta(launch.quote_mint, writable=False),
        *(_meta(keys.accounts[role], writable=True) for role in ("vaultX", "vaultY")),
        _meta(CREATE_POOL_FEE, writable=True),
        _meta(TOKEN_PROGRAM, writable=False),
        _meta(SYSTEM_PROGRAM, writable=False),
    ]
    if launch.creator != str(signer.pubkey()):
        accounts.append(_meta(launch.creator, writable=False))
    instruction = Instruction(Pubkey.from_string(CPMM_PROGRAM), data, accounts)
    message = MessageV0.try_compile(signer.pubkey(), [instruction], [], Hash.from_string(blockhash))
    tx = VersionedTransaction(message, [signer])
    wire = bytes(tx)
    fee = BASE_FEE_LAMPORTS
    decoded = Transaction(
        signature=str(tx.signatures[0]),
        payer=str(signer.pubkey()),
        wire=wire,
        blockhash=blockhash,
        last_valid_block_height=last_valid_block_height,
        legs=(),
        compute_unit_price=0,
        compute_unit_limit=200_000,
        instruction_count=1,
    )
    executed = Executed(
        err=None,
        fee=fee,
        logs=creation_logs(launch),
        units_consumed=INITIALIZE_UNITS,
        pre_lamports=lamports_before,
        post_lamports=lamports_before - fee - CREATE_POOL_FEE_LAMPORTS,
        block_time=block_time,
    )
    return TxRecord(
        tx=decoded,
        submitted_slot=launch.slot,
        seen_slot=launch.slot,
        landed_slot=launch.slot,
        confirm_slot=launch.slot + 1,
        executed=executed,
    )


def creation_logs(launch: Launch) -> list[str]:
    spec = launch.spec
    created = PoolCreated(
        pool=launch.pool,
        base_mint=launch.base_mint,
        quote_mint=launch.quote_mint,
        creator=launch.creator,
        base_reserve=str(spec.base_reserve),
        quote_reserve=str(spec.quote_reserve),
        base_decimals=spec.base_decimals,
        open_time=launch.open_time,
        mint_authority=None if spec.mint_renounced else launch.creator,
        freeze_authority=launch.creator if spec.freezable else None,
        lp_burned_pct=spec.lp_burned_pct,
        top_holder_pct=spec.top_holder_pct,
    )
    return [
        f"Program {CPMM_PROGRAM} invoke [1]",
        "Program log: Instruction: Initialize",
        POOL_CREATED + _encoder.encode(created).decode(),
        f"Program {CPMM_PROGRAM} consumed {INITIALIZE_UNITS} of 200000 compute units",
        f"Program {CPMM_PROGRAM} success",
    ]


def _meta(address: str, *, writable: bool) -> AccountMeta:
    return AccountMeta(Pubkey.from_string(address), is_signer=False, is_writable=writable)
