"""`GET /`: the dashboard page, and `/static/...`: its pinned assets (API.md, "Dashboard").

Plain HTML, CSS and JavaScript modules from `api/static/`, served by the API itself, so a
user starts nothing else and the page loads nothing from elsewhere. The page talks to the
same `/api/...` routes as any client.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.router import Router
from litestar.static_files import create_static_files_router

STATIC_DIR = Path(__file__).parent / "static"
# The page and its modules change together; a browser revalidates both on each load.
_REVALIDATE = CacheControlHeader(no_cache=True)
# Everything from this origin and nothing else: no CDN, no inline script, no framing.
_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@get(
    "/",
    operation_id="dashboard",
    summary="The dashboard: submit, watch and cancel orders from a browser",
    media_type="text/html",
    cache_control=_REVALIDATE,
)
async def dashboard() -> Response[bytes]:
    page = (STATIC_DIR / "index.html").read_bytes()
    return Response(
        page,
        media_type="text/html",
        headers={"content-security-policy": _POLICY, "x-content-type-options": "nosniff"},
    )


def static_assets() -> Router:
    """`/static/...`, the page's own files (not part of the API's OpenAPI document)."""
    return create_static_files_router(
        path="/static", directories=[STATIC_DIR], cache_control=_REVALIDATE
    )
