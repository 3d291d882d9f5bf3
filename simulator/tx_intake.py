"""Taking a wire transaction in: decode, size, deserialize, verify its signatures and
its blockhash (its instructions: `simulator.swap_decoder`).

What is not a transaction at all (bad encoding, too large, bytes that do not
deserialize) is `Malformed`, an invalid-params answer; what a validator refuses (a
forged signature, a blockhash it does not know, a program it does not run) is a
`Refused` with Solana's error.
"""

from __future__ import annotations

import base64
import binascii

from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from simulator.base58 import b58decode
from simulator.chain import Chain
from simulator.config import BLOCKHASH_VALIDITY
from simulator.ledger import TxError


class Refused(Exception):
    """Not a transaction this cluster would process; `err` as Solana reports it."""

    def __init__(self, err: TxError, message: str) -> None:
        super().__init__(message)
        self.err = err
        self.message = message


class Malformed(Exception):
    """The bytes are not a transaction at all, or too long for one (an invalid-params
    answer)."""


PACKET_DATA_SIZE = 1_232  # bytes: a transaction must fit one packet (IPv6 MTU less headers)
MAX_BASE64_SIZE = 1_644  # base64 of PACKET_DATA_SIZE bytes
MAX_BASE58_SIZE = 1_683
_TX = "solana_sdk::transaction::versioned::VersionedTransaction"


def decode_wire(encoded: str, encoding: str) -> bytes:
    """The raw bytes of an encoded transaction, refused as Solana's nodes refuse them:
    by the encoded size first, then by the decoded size."""
    limit = MAX_BASE64_SIZE if encoding == "base64" else MAX_BASE58_SIZE
    if encoding in ("base64", "base58") and len(encoded) > limit:
        raise Malformed(
            f"{encoding} encoded {_TX} too large: {len(encoded)} bytes"
            f" (max: encoded/raw {limit}/{PACKET_DATA_SIZE})"
        )
    try:
        if encoding == "base64":
            return base64.b64decode(encoded, validate=True)
        if encoding == "base58":
            return b58decode(encoded)
    except (binascii.Error, ValueError) as error:
        raise Malformed(f"invalid {encoding} encoding: {error}") from error
    raise Malformed(f"unsupported encoding: {encoding}; use base64")


def deserialize(raw: bytes) -> VersionedTransaction:
    if len(raw) > PACKET_DATA_SIZE:
        raise Malformed(
            f"decoded {_TX} too large: {len(raw)} bytes (max: {PACKET_DATA_SIZE} bytes)"
        )
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except ValueError as error:
        raise Malformed(f"failed to deserialize VersionedTransaction: {error}") from error
    message = tx.message
    if isinstance(message, MessageV0) and message.address_table_lookups:
        raise Malformed("address lookup tables are not supported by this cluster")
    if len(tx.signatures) != message.header.num_required_signatures:
        raise Malformed("the number of signatures does not match the message header")
    return tx


def verify(tx: VersionedTransaction) -> None:
    if not all(tx.verify_with_results()):
        raise Refused("SignatureFailure", "Transaction signature verification failure")


def last_valid_block_height(tx: VersionedTransaction, chain: Chain) -> int:
    """The blockhash's last valid block height; Refused when it is not in the window."""
    height = chain.height_of(str(tx.message.recent_blockhash))
    if height is None or chain.block_height > height + BLOCKHASH_VALIDITY:
        raise Refused("BlockhashNotFound", "Blockhash not found")
    return height + BLOCKHASH_VALIDITY
