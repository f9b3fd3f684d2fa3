"""aiohttp application factory for the BigQuery emulator."""

from __future__ import annotations

from aiohttp import web

from . import admin, routes_catalog, routes_jobs, routes_tabledata, uploads
from .engine import Engine
from .errors import error_middleware
from .faults import FaultConfig, FaultInjector, fault_middleware
from .state import DEFAULT_PROJECT, STATE, EmulatorState

# Resumable load chunks default to 100 MiB; leave head-room above that.
MAX_BODY = 256 * 1024 * 1024


def create_app(project: str = DEFAULT_PROJECT, data_dir: str | None = None,
               gcs_url: str | None = None, faults: FaultConfig | None = None) -> web.Application:
    injector = FaultInjector(faults)
    state = EmulatorState(engine=Engine(data_dir), faults=injector, project=project, gcs_url=gcs_url)
    # error_middleware is outermost so injected faults and crashes share one error shape.
    app = web.Application(client_max_size=MAX_BODY, middlewares=[error_middleware, fault_middleware(injector)])
    app[STATE] = state
    for module in (admin, routes_catalog, routes_tabledata, routes_jobs, uploads):
        module.add_routes(app)
    app.on_cleanup.append(_close)
    return app


async def _close(app: web.Application) -> None:
    state = app[STATE]
    state.engine.close()
    state.tmp.cleanup()
