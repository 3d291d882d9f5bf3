"""Which browser pages may talk to the API (`ALLOWED_ORIGINS`).

A WebSocket handshake is not covered by CORS: a browser opens one to any site with
the page's `Origin` and the user's credentials. So an upgrade from a page that is
neither the API's own origin, nor on loopback, nor listed, is refused. A client that
sends no `Origin` is not a browser page and is not refused here.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from litestar.config.cors import CORSConfig

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str]) -> bool:
    """Whether a page at `origin` may use the API answering as `host` (its Host header)."""
    if origin is None:
        return True
    if "*" in allowed or origin.rstrip("/") in allowed:
        return True
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return False  # not a URL ("null" from a sandboxed page is none either)
    if parts.scheme not in ("http", "https") or hostname is None:
        return False
    if hostname in LOOPBACK_HOSTS:
        return True
    return host is not None and parts.netloc.lower() == host.lower()


def cors_config(allowed: Sequence[str]) -> CORSConfig | None:
    """CORS answers for the listed origins (None: same-origin only, no CORS headers)."""
    if not allowed:
        return None
    return CORSConfig(
        allow_origins=list(allowed),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Idempotency-Key", "Authorization"],
    )
