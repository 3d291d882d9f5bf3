"""Liveness (`/health`) and readiness (`/ready`) for load balancers and `up`."""

from __future__ import annotations

import asyncio
import logging

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from api.schemas import Health, Readiness
from api.services import ApiServices

PROBE_TIMEOUT_S = 2.0
log = logging.getLogger("api.health")


@get("/health", operation_id="health", summary="200 while the process runs")
async def health() -> Health:
    return Health(status="ok")


@get(
    "/ready",
    operation_id="ready",
    summary="200 when PostgreSQL, Redis and the live feed are ready, else 503 naming which",
    responses={503: ResponseSpec(data_container=Readiness, description="a service is down")},
)
async def ready(
    services: NamedDependency[ApiServices],
) -> Response[Readiness]:
    names = ("postgres", "redis", *(["live_feed"] if "live_feed" in services.probes else []))
    results = await asyncio.gather(*(_probe(services, name) for name in names))
    state = dict(zip(names, results, strict=True))
    ok = all(result == "ok" for result in results)
    body = Readiness(status="ready" if ok else "unavailable", **state)
    return Response(body, status_code=200 if ok else 503)


async def _probe(services: ApiServices, name: str) -> str:
    probe = services.probes.get(name)
    if probe is None:
        return "not configured"
    try:
        await asyncio.wait_for(probe(), PROBE_TIMEOUT_S)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"; say which
        log.warning("readiness probe failed", extra={"service": name, "error": repr(error)})
        return f"down: {type(error).__name__}"
    return "ok"
