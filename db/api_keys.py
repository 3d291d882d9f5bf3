"""API keys in the `api_keys` table: made, listed, revoked, looked up.

A key is `oe_<key_id>_<secret>`. Only `key_id` (public, it finds the row) and an
HMAC-SHA256 of the whole key under the server's secret are stored: keys are long random
strings, so a fast keyed hash is right (no password stretching needed), and without the
server's secret a copy of the table is useless. Digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import msgspec
import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

KEY_PREFIX = "oe_"
_KEY = re.compile(r"^oe_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Actors the engine itself writes in event metadata: a key may not take their names.
RESERVED_NAMES = frozenset({"api", "engine", "pool-watcher"})


class KeyRefused(Exception):
    """A key cannot be made or revoked as asked (the message says why)."""


class KeyRecord(msgspec.Struct, frozen=True):
    name: str
    key_id: str
    key_hash: str
    admin: bool
    created_at: datetime
    revoked_at: datetime | None


def key_digest(secret: bytes, key: str) -> str:
    """HMAC-SHA256 of `key` under the server's `secret`, hex."""
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def key_id_of(key: str) -> str | None:
    """The public id inside a well-formed key; None for anything else."""
    match = _KEY.match(key)
    return match.group(1) if match else None


def digest_matches(secret: bytes, key: str, stored: str) -> bool:
    return hmac.compare_digest(key_digest(secret, key), stored)


def new_key() -> tuple[str, str]:
    """A fresh (key, key_id)."""
    key_id = secrets.token_hex(8)
    return f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}", key_id


def create_key(conn: psycopg.Connection, secret: bytes, name: str, *, admin: bool) -> str:
    """Store a new key named `name`; the key itself, which is stored nowhere."""
    if not _NAME.match(name):
        raise KeyRefused(
            f"NAME: {name[:70]!r} must be 1-64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    if name in RESERVED_NAMES:
        raise KeyRefused(f"NAME: {name!r} is the engine's own actor name; choose another")
    key, key_id = new_key()
    try:
        conn.execute(
            "INSERT INTO api_keys (name, key_id, key_hash, admin) VALUES (%s, %s, %s, %s)",
            (name, key_id, key_digest(secret, key), admin),
        )
    except psycopg.errors.UniqueViolation:
        raise KeyRefused(
            f"NAME: a key named {name!r} exists (or existed); names are never reused"
        ) from None
    return key


def list_keys(conn: psycopg.Connection) -> list[KeyRecord]:
    cursor = conn.execute(
        "SELECT name, key_id, key_hash, admin, created_at, revoked_at FROM api_keys"
        " ORDER BY created_at, name"
    )
    return [KeyRecord(*row) for row in cursor.fetchall()]


def revoke_key(conn: psycopg.Connection, name: str) -> None:
    row = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL"
        " RETURNING name",
        (name,),
    ).fetchone()
    if row is None:
        known = conn.execute("SELECT 1 FROM api_keys WHERE name = %s", (name,)).fetchone()
        raise KeyRefused(f"NAME: {name!r} is {'already revoked' if known else 'no key'}")


def has_keys(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None


class KeyTable:
    """What an API process reads: one key by id, and which keys are revoked."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def by_id(self, key_id: str) -> KeyRecord | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT name, key_id, key_hash, admin, created_at, revoked_at FROM api_keys"
                " WHERE key_id = %s",
                (key_id,),
            )
            row = await cursor.fetchone()
        return KeyRecord(*row) if row else None

    async def revoked_names(self) -> frozenset[str]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute("SELECT name FROM api_keys WHERE revoked_at IS NOT NULL")
            return frozenset(row[0] for row in await cursor.fetchall())
