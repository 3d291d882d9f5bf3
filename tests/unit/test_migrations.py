"""Each migration has a number of its own: `schema_migrations` records numbers, so a
second file of one number (two branches each adding "the next one") would be skipped
silently on every database."""

from __future__ import annotations

from pathlib import Path

import pytest

from db import migrate


def test_every_migration_has_a_number_of_its_own() -> None:
    numbers = [number for number, _ in migrate.migration_files()]
    assert numbers == sorted(set(numbers))
    assert numbers == list(range(1, len(numbers) + 1)), "numbered 1, 2, 3, ... without gaps"


def test_two_migrations_of_one_number_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("0001_a.sql", "0002_b.sql", "0002_c.sql"):
        (tmp_path / name).write_text("SELECT 1;")
    monkeypatch.setattr(migrate, "MIGRATIONS", tmp_path)
    with pytest.raises(RuntimeError, match="two migrations numbered 2"):
        migrate.migration_files()
