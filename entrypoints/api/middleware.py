"""Middlewares: request id + structured access log + metrics, bearer auth, JSON errors."""

from __future__ import annotations

import logging
import secrets
import time

import structlog
from aiohttp import web
from prometheus_client import Counter, Histogram

from domain.types.secrets import Secret
from entrypoints.api.errors import error_response, from_exception
from entrypoints.api.keys import API_TOKEN

log = structlog.get_logger("mlplane.http")
REQUESTS = Counter("mlplane_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("mlplane_http_request_seconds", "HTTP request latency", ["method", "route"])
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


@web.middleware
async def request_context(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        response = await handler(request)
    except Exception as exc:  # one place maps every error, including aiohttp's own 4xx
        response = from_exception(exc)
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    elapsed = time.perf_counter() - started
    REQUESTS.labels(request.method, route, str(response.status)).inc()
    LATENCY.labels(request.method, route).observe(elapsed)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    level = logging.WARNING if response.status >= 500 else logging.INFO
    log.log(level, "request", method=request.method, path=request.path, status=response.status,
            ms=round(elapsed * 1000, 2))
    return response


@web.middleware
async def bearer_auth(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    token = request.app[API_TOKEN]
    if token is None or request.path in OPEN_PATHS:
        return await handler(request)
    assert isinstance(token, Secret)
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.matches(presented.strip()):
        response = error_response(401, "unauthorized", "send 'Authorization: Bearer <token>'")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return await handler(request)
