"""The Litestar application factory: routes, dependencies, errors, OpenAPI."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    RedocRenderPlugin,
    StoplightRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.openapi.spec import Components, SecurityScheme

from api.audit import list_events
from api.authentication import authenticate
from api.cancel import cancel
from api.content_type import require_json_body
from api.dashboard import dashboard, static_assets
from api.errors import PROBLEM_DETAILS
from api.health import health, ready
from api.launches import list_launches
from api.metrics import TELEMETRY_STATE_KEY, metrics
from api.order_reads import get_order, list_orders
from api.order_stream import execute_order, stream_order
from api.orders import order_events, submit
from api.origins import cors_config
from api.quote import quote
from api.read_side import ReadSide
from api.services import SERVICES_STATE_KEY, ApiServices, EventLog
from api.telemetry import ApiTelemetry
from api.tokens import list_tokens
from api.wallet import get_wallet


async def _before_request(request: Request[Any, Any, Any]) -> Response[Any] | None:
    # A key first: a caller without one learns nothing else (not even a 415 or a 400).
    if request.scope["path"].startswith("/api/"):
        await authenticate(request, socket=False)
    return await require_json_body(request)


def create_app(services: ApiServices) -> Litestar:
    """An API bound to `services`; their start-up and shutdown run with the app's."""

    def provide_store() -> EventLog:
        return services.store

    def open_sockets() -> int:
        return (
            services.read_side.feed.open_sockets if isinstance(services.read_side, ReadSide) else 0
        )

    telemetry = ApiTelemetry(services.pool_stats, open_sockets, services.metrics_dir)

    def provide_services() -> ApiServices:
        return services

    return Litestar(
        state=State({SERVICES_STATE_KEY: services, TELEMETRY_STATE_KEY: telemetry}),
        route_handlers=[
            health,
            ready,
            metrics,
            # The page is open (API.md): it asks for a key, then calls `/api` with it.
            dashboard,
            static_assets(),
            Router(
                "/",
                route_handlers=[
                    *(submit, order_events, list_events, quote, get_order, list_orders),
                    *(stream_order, execute_order, cancel, list_tokens, get_wallet, list_launches),
                ],
                security=[{"bearerKey": []}],
            ),
        ],
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False, use_cache=True),
            "services": Provide(provide_services, sync_to_thread=False, use_cache=True),
        },
        plugins=[PROBLEM_DETAILS],
        before_request=_before_request,
        cors_config=cors_config(services.allowed_origins),
        middleware=[telemetry.middleware],
        on_startup=[*services.on_startup, services.keys.start, telemetry.start],
        on_shutdown=[telemetry.stop, services.keys.stop, *services.on_shutdown],
        request_max_body_size=services.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Order execution engine",
            version="0.1.0",
            description="Market orders routed across Raydium and Meteora on a simulated "
            "Solana chain. Errors are application/problem+json naming the field at fault.",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearerKey": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="an API key (`orderengine keys create NAME`); on a "
                        "WebSocket also as the `access_token` query parameter",
                    )
                }
            ),
            # /schema is Swagger UI (try a request from the page); the same document
            # under ReDoc and Stoplight Elements; the raw JSON at /schema/openapi.json.
            render_plugins=[
                SwaggerRenderPlugin(path=["/", "/swagger"]),
                RedocRenderPlugin(),
                StoplightRenderPlugin(),
                JsonRenderPlugin(),
            ],
        ),
        debug=False,
        logging_config=None,  # the composition root configures structured logging
    )
