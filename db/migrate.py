"""Apply the numbered SQL files in `db/migrations/` once each, in order.

Safe to run twice and from several processes at once: an advisory lock serialises
runners, and `schema_migrations` records what is applied.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x0E_0001  # any constant shared by every migrating process

log = logging.getLogger(__name__)


def migration_files() -> list[tuple[int, Path]]:
    """The migrations in order; two files of one number are refused, because
    `schema_migrations` records numbers and would silently skip the second."""
    files: list[tuple[int, Path]] = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        number = int(path.name.split("_", 1)[0])
        if files and files[-1][0] == number:
            raise RuntimeError(
                f"two migrations numbered {number}: {files[-1][1].name}, {path.name}"
            )
        files.append((number, path))
    return files


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; returns the names of those applied now."""
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cursor = conn.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in cursor.fetchall()}
            for number, path in migration_files():
                if number in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (number, path.name),
                    )
                log.info("migration applied", extra={"migration": path.name})
                applied_now.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
