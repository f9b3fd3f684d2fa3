"""The aiohttp application factory."""

from __future__ import annotations

import weakref

from aiohttp import WSCloseCode, web

from domain.types.secrets import Secret
from entrypoints.api import (
    routes_catalog,
    routes_dlq,
    routes_ingestion,
    routes_ingestion_schedules,
    routes_pipelines,
    routes_registry,
    routes_retrain,
    routes_stream_ws,
    routes_system,
    routes_training,
)
from entrypoints.api.keys import API_TOKEN, CONTAINER, SETTINGS, SOCKETS
from entrypoints.api.middleware import bearer_auth, request_context
from entrypoints.container import Container


def create_app(container: Container, api_token: Secret | None) -> web.Application:
    settings = container.settings()
    app = web.Application(
        middlewares=[request_context, bearer_auth], client_max_size=settings.max_body_bytes
    )
    app[CONTAINER] = container
    app[SETTINGS] = settings
    app[API_TOKEN] = api_token
    app[SOCKETS] = weakref.WeakSet()
    for table in (routes_system.routes, routes_catalog.routes, routes_training.routes, routes_registry.routes,
                  routes_retrain.routes, routes_ingestion.routes, routes_pipelines.routes, routes_dlq.routes,
                  routes_stream_ws.routes, routes_ingestion_schedules.routes):
        app.add_routes(table)
    app.on_shutdown.append(_close_sockets)
    return app


async def _close_sockets(app: web.Application) -> None:
    for socket in list(app[SOCKETS]):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
