"""Transaction signatures, fixed by the order and the attempt.

A real signature signs the message; ours only needs to be unique per attempt and the
same every time the step runs again, so a re-sent transaction is recognised by the
chain (which deduplicates by signature) instead of executing twice.
"""

from __future__ import annotations

import hashlib

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def transaction_signature(order_id: str, attempt: int) -> str:
    """Base58 of 64 bytes derived from the order id and attempt number."""
    digest = hashlib.sha512(f"orderengine:{order_id}:{attempt}".encode()).digest()
    return b58encode(digest)


def b58encode(raw: bytes) -> str:
    """Bitcoin-alphabet base58, leading zero bytes as '1' (as Solana encodes keys)."""
    number = int.from_bytes(raw, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_ALPHABET[remainder])
    zeros = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))
