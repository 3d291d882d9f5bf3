"""`orderengine keys create|list|revoke`, the hashing secret kept in DATA_DIR, and the
admin key the first `up` writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg

from db.api_keys import digest_matches, key_id_of
from orderengine.key_commands import first_admin_key, key_secret
from orderengine.settings import EngineSettings
from tests.support.api_keys import TEST_SECRET


def keys(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "API_KEY_SECRET": TEST_SECRET}
    return subprocess.run(
        [sys.executable, "-m", "orderengine", "keys", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stored(database_url: str, name: str) -> tuple[str, str, bool, object]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT key_id, key_hash, admin, revoked_at FROM api_keys WHERE name = %s", (name,)
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def test_a_key_is_printed_once_and_only_its_hash_is_kept(own_database: str) -> None:
    made = keys(own_database, "create", "desk-1", "--admin")
    assert made.returncode == 0, made.stderr
    key = made.stdout.splitlines()[0]
    key_id, digest, admin, revoked = stored(own_database, "desk-1")
    assert key_id_of(key) == key_id
    assert admin
    assert revoked is None
    assert key not in digest
    assert digest_matches(TEST_SECRET.encode(), key, digest)
    listed = keys(own_database, "list")
    assert "desk-1" in listed.stdout
    assert "active" in listed.stdout
    assert key not in listed.stdout


def test_revoked_keys_stay_listed_and_names_are_never_reused(own_database: str) -> None:
    assert keys(own_database, "create", "desk-2").returncode == 0
    assert keys(own_database, "revoke", "desk-2").returncode == 0
    assert stored(own_database, "desk-2")[3] is not None
    assert "revoked" in keys(own_database, "list").stdout
    again = keys(own_database, "revoke", "desk-2")
    assert again.returncode == 2
    assert "already revoked" in again.stdout
    reused = keys(own_database, "create", "desk-2")
    assert reused.returncode == 2
    assert "never reused" in reused.stdout
    reserved = keys(own_database, "create", "engine")
    assert reserved.returncode == 2
    assert "NAME" in reserved.stdout
    assert keys(own_database, "revoke", "nobody").returncode == 2


def test_the_first_up_writes_an_admin_key_readable_by_its_owner_only(
    own_database: str, tmp_path: Path
) -> None:
    settings = EngineSettings.from_environment(
        {"DATABASE_URL": own_database, "DATA_DIR": str(tmp_path)}
    )
    path = first_admin_key(settings)
    assert path == tmp_path / "admin.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret_file = tmp_path / "api_key.secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    key = path.read_text().strip()
    _, digest, admin, _ = stored(own_database, "admin")
    assert admin
    assert digest_matches(key_secret(settings), key, digest)
    assert first_admin_key(settings) is None  # the database has a key now
    assert path.read_text().strip() == key
