"""API keys for tests: the secret in-process apps hash with, and keys made straight in
a test database (what `orderengine keys create` does)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.keys import KeyRing
from db.api_keys import KeyRecord, KeyTable, create_key, key_digest, new_key

# In-process apps and `orderengine` processes started by tests (API_KEY_SECRET) alike.
TEST_SECRET = "test-api-key-secret"


def key_ring(pool: AsyncConnectionPool[AsyncConnection], **options: float) -> KeyRing:
    return KeyRing(KeyTable(pool), TEST_SECRET.encode(), **options)  # type: ignore[arg-type]


def pool_url(pool: AsyncConnectionPool[AsyncConnection]) -> str:
    return str(pool.conninfo)


class InMemoryKeys:
    """The key table of apps that run without PostgreSQL."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}

    def add(self, name: str, *, admin: bool = False) -> str:
        key, key_id = new_key()
        digest = key_digest(TEST_SECRET.encode(), key)
        self._records[key_id] = KeyRecord(name, key_id, digest, admin, datetime.now(UTC), None)
        return key

    def revoke(self, name: str) -> None:
        for key_id, record in self._records.items():
            if record.name == name:
                self._records[key_id] = msgspec.structs.replace(
                    record, revoked_at=datetime.now(UTC)
                )

    def ring(self) -> KeyRing:
        return KeyRing(self, TEST_SECRET.encode())

    async def by_id(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    async def revoked_names(self) -> frozenset[str]:
        return frozenset(r.name for r in self._records.values() if r.revoked_at is not None)


def make_key(database_url: str, name: str | None = None, *, admin: bool = False) -> str:
    """A new key in the database at `database_url` (a unique name unless given)."""
    name = name or f"{'admin' if admin else 'key'}-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        return create_key(conn, TEST_SECRET.encode(), name, admin=admin)


def revoke(database_url: str, key_name: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE name = %s", (key_name,))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def in_memory_admin() -> tuple[KeyRing, dict[str, str]]:
    """A key ring without PostgreSQL and the headers of an admin key in it."""
    keys = InMemoryKeys()
    return keys.ring(), bearer(keys.add("admin", admin=True))
