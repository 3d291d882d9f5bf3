"""Opaque cursors for the global log: clients must not build or edit them."""

from __future__ import annotations

import base64
import binascii
import hashlib

from domain.errors import InvalidField
from domain.records import GlobalPosition

# A checksum, not a secret: it turns a hand-edited cursor into a clear 400 instead of
# a silently different page.
_SALT = b"orderengine-cursor-v1"


def encode_cursor(position: GlobalPosition) -> str:
    body = f"{position.tx_id}.{position.global_position}"
    return base64.urlsafe_b64encode(f"{body}.{_check(body)}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "cursor") -> GlobalPosition:
    """The position a cursor names, or InvalidField when it was not made by us."""
    refusal = InvalidField(field, "is not a cursor this API issued; use nextCursor as given")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        tx_id, position, check = text.split(".")
    except (ValueError, binascii.Error, UnicodeError):
        raise refusal from None
    valid = check == _check(f"{tx_id}.{position}") and tx_id.isdigit() and position.isdigit()
    if not valid:
        raise refusal
    return GlobalPosition(int(tx_id), int(position))


def _check(body: str) -> str:
    return hashlib.blake2b(body.encode(), key=_SALT, digest_size=6).hexdigest()
