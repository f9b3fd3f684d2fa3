"""The aiohttp application: one catch-all dispatcher, admin endpoints, error mapping."""

from __future__ import annotations

import logging

from aiohttp import web

from .backends import Backend
from .context import FAULTS, SESSIONS, STORE
from .errors import GcsError, error_body, error_response
from .faults import FaultConfig, FaultInjector
from .resumable import Sessions
from .routes import resolve
from .store import Store

log = logging.getLogger("emulators.gcs")

# Resumable chunks default to 100 MiB in the client; allow well beyond that.
MAX_REQUEST_BYTES = 1 << 30


async def dispatch(request: web.Request) -> web.StreamResponse:
    found = resolve(request.method, request.raw_path)
    if found is None:
        return web.json_response(
            error_body(404, f"No such endpoint: {request.method} {request.path}"), status=404)
    route, params = found
    faulty = await request.app[FAULTS].apply(request, route.operation)
    if faulty is not None:
        return faulty
    try:
        return await route.handler(request, params)
    except GcsError as err:
        return error_response(err)
    except (KeyError, TypeError, ValueError) as exc:
        # Malformed input we did not anticipate: a 400, never a retryable 5xx.
        log.warning("bad request %s %s: %r", request.method, request.path, exc)
        return error_response(GcsError(400, f"Invalid request: {exc!r}"))


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULTS].snapshot())


async def set_faults(request: web.Request) -> web.Response:
    try:
        config = FaultConfig.from_json(await request.json())
    except GcsError as err:
        return error_response(err)
    except (ValueError, TypeError) as exc:
        return error_response(GcsError(400, f"Invalid fault settings: {exc}"))
    request.app[FAULTS].configure(config)
    return web.json_response(request.app[FAULTS].snapshot())


async def clear_faults(request: web.Request) -> web.Response:
    request.app[FAULTS].clear()
    return web.json_response(request.app[FAULTS].snapshot())


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(backend: Backend | None = None, faults: FaultConfig | None = None) -> web.Application:
    """Build the emulator app over ``backend`` (memory when None)."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[STORE] = Store(backend)
    app[SESSIONS] = Sessions()
    app[FAULTS] = FaultInjector(faults)
    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_post("/_emulator/faults", set_faults)
    app.router.add_delete("/_emulator/faults", clear_faults)
    app.router.add_get("/_emulator/health", health)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
