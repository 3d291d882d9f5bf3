"""The README's settings table lists every setting with its real default."""

from __future__ import annotations

from orderengine.settings import PROJECT_ROOT, SETTINGS


def test_every_setting_is_documented_with_its_default() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[2].strip().strip("`")
        for line in readme.splitlines()
        if line.startswith("| `") and line.count("|") == 4
    }
    for setting in SETTINGS:
        assert setting.env in rows, f"{setting.env} is missing from the README"
        assert rows[setting.env] == (setting.default or "(empty)"), setting.env


def settings_table() -> str:
    """The table rows, for pasting into the README after adding a setting."""
    return "\n".join(f"| `{s.env}` | `{s.default or '(empty)'}` | {s.meaning} |" for s in SETTINGS)
