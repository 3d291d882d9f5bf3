"""`orderengine keys create|list|revoke`, the server's hashing secret, and the admin key
the first `orderengine up` writes to `DATA_DIR/admin.key`."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import psycopg

from db.api_keys import KeyRefused, create_key, has_keys, list_keys, revoke_key
from orderengine.settings import EngineSettings

SECRET_FILE = "api_key.secret"  # noqa: S105 - a file name, not a secret
ADMIN_KEY_FILE = "admin.key"
ADMIN_NAME = "admin"


def key_secret(settings: EngineSettings) -> bytes:
    """API_KEY_SECRET, else the secret kept in DATA_DIR (made on first use, owner-only):
    every process on this machine hashes keys alike."""
    if settings.api_key_secret:
        return settings.api_key_secret.encode()
    path = settings.data_dir / SECRET_FILE
    with contextlib.suppress(FileExistsError):
        _write_private(path, secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode()


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (refused if it exists: never replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def first_admin_key(settings: EngineSettings) -> Path | None:
    """On a database with no key yet: make an admin key, write it to DATA_DIR/admin.key
    (owner-only) and return where; None when the database has keys already."""
    path = settings.data_dir / ADMIN_KEY_FILE
    with psycopg.connect(settings.database_url, autocommit=True) as conn, conn.transaction():
        conn.execute("LOCK TABLE api_keys IN EXCLUSIVE MODE")  # two `up`s make one key
        if has_keys(conn):
            return None
        key = create_key(conn, key_secret(settings), ADMIN_NAME, admin=True)
        path.unlink(missing_ok=True)  # a key of an earlier database, now dropped
        _write_private(path, key + "\n")
    return path


def run_keys(settings: EngineSettings, action: str, name: str | None, *, admin: bool) -> int:
    try:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            if action == "create":
                assert name is not None
                key = create_key(conn, key_secret(settings), name, admin=admin)
                print(key)
                print(f"# {name}{' (admin)' if admin else ''}: shown once, only its hash is stored")
            elif action == "revoke":
                assert name is not None
                revoke_key(conn, name)
                print(f"revoked {name} (every API process refuses it within a second)")
            else:
                for record in list_keys(conn):
                    state = (
                        f"revoked {record.revoked_at:%Y-%m-%d %H:%M:%S}"
                        if record.revoked_at
                        else "active"
                    )
                    kind = "admin" if record.admin else "key"
                    print(f"{record.name:<24} {kind:<6} oe_{record.key_id}_…  {state}")
    except KeyRefused as error:
        print(f"orderengine keys: {error}")
        return 2
    return 0
