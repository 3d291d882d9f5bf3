"""What the steps learn from the chain and hand to the transaction builder, in the engine's
own terms (the RPC adapter converts Solana's JSON-RPC shapes into these).

Amounts are integers of atomic units.
"""

from __future__ import annotations

import msgspec


class Blockhash(msgspec.Struct, frozen=True, kw_only=True):
    blockhash: str
    last_valid_block_height: int
    slot: int


class SignatureStatus(msgspec.Struct, frozen=True, kw_only=True):
    """`getSignatureStatuses`' entry: the transaction is in a block (null otherwise)."""

    slot: int
    confirmation_status: str | None  # processed | confirmed | finalized
    failed: bool  # `err` is set: it landed and failed


class ProgramFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why a landed transaction failed: the program's error by name and number."""

    name: str  # "ExceededSlippage", "InsufficientFunds", "InvalidAccountData", ...
    code: int | None  # the custom program error number, when there is one
    instruction_index: int | None
    program: str | None  # the program that failed, when the logs name it


class ExecutedLeg(msgspec.Struct, frozen=True, kw_only=True):
    pool: str
    amount_in: int
    amount_out: int


class LandedTransaction(msgspec.Struct, frozen=True, kw_only=True):
    """A transaction in a block, as `getTransaction` shows it."""

    slot: int
    fee_lamports: int
    failure: ProgramFailure | None
    amount_out: int  # what the wallet's output account received
    legs: tuple[ExecutedLeg, ...]


class SwapLeg(msgspec.Struct, frozen=True, kw_only=True):
    """One swap instruction to build: a pool, its input and the least it may return."""

    pool: str
    venue: str
    amount_in: int
    min_amount_out: int


class SwapRequest(msgspec.Struct, frozen=True, kw_only=True):
    input_mint: str
    output_mint: str
    legs: tuple[SwapLeg, ...]
    compute_unit_price: int  # micro-lamports per compute unit
    # A memo instruction of the order's own: two orders alike (pair, amount, minimum)
    # routed on one blockhash would otherwise be one and the same transaction, which
    # the chain runs once while both orders confirm with it.
    memo: str


class SignedTransaction(msgspec.Struct, frozen=True, kw_only=True):
    """A signed transaction: its signature (its id) and its wire bytes, base64."""

    signature: str
    transaction: str


class PoolCreation(msgspec.Struct, frozen=True, kw_only=True):
    """A pool creation as the chain's logs tell it (`workers.solana.launch_feed`)."""

    pool: str
    venue: str
    kind: str
    base_mint: str
    quote_mint: str
    creator: str
    base_reserve: int
    quote_reserve: int
    base_decimals: int
    open_time: int
    slot: int
    signature: str
    mint_authority: str | None
    freeze_authority: str | None
    lp_burned_pct: int
    top_holder_pct: int


class Creations(msgspec.Struct, frozen=True, kw_only=True):
    """What a batch of creation signatures held: the creations, in the order asked, and
    the signatures the node could not show yet (any other transaction is left out)."""

    found: list[PoolCreation]
    unreadable: list[str]
