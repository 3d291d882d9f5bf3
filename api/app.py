"""The Litestar application factory: routes, dependencies, errors, OpenAPI."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from api.audit import list_events
from api.errors import EXCEPTION_HANDLERS
from api.health import health, ready
from api.metrics import metrics
from api.order_reads import get_order, list_orders
from api.order_stream import execute_order, stream_order
from api.orders import order_events, submit
from api.quote import quote
from api.services import SERVICES_STATE_KEY, ApiServices, EventLog


def create_app(services: ApiServices) -> Litestar:
    """An API bound to `services`; their start-up and shutdown run with the app's."""

    def provide_store() -> EventLog:
        return services.store

    def provide_services() -> ApiServices:
        return services

    return Litestar(
        state=State({SERVICES_STATE_KEY: services}),
        route_handlers=[
            *(submit, order_events, list_events, health, ready, quote),
            *(get_order, list_orders, stream_order, execute_order, metrics),
        ],
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False, use_cache=True),
            "services": Provide(provide_services, sync_to_thread=False, use_cache=True),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=list(services.on_startup),
        on_shutdown=list(services.on_shutdown),
        request_max_body_size=services.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Order execution engine",
            version="0.1.0",
            description="Market orders routed across Raydium and Meteora on a simulated "
            "Solana chain. Errors are application/problem+json naming the field at fault.",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        debug=False,
        logging_config=None,  # the composition root configures structured logging
    )
