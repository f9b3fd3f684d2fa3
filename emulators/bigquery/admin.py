"""Admin endpoints under ``/_emulator`` (never subject to fault injection)."""

from __future__ import annotations

from aiohttp import web

from .datasets import delete_dataset
from .engine import META_SCHEMA
from .errors import invalid
from .faults import ADMIN_PREFIX, FaultConfig
from .state import json_body, state_of


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).faults.state())


async def set_faults(request: web.Request) -> web.Response:
    body = await json_body(request)
    try:
        config = FaultConfig.from_json(body)
    except (TypeError, ValueError) as exc:
        raise invalid(f"Invalid fault configuration: {exc}") from exc
    state_of(request).faults.configure(config)
    return web.json_response(state_of(request).faults.state())


async def clear_faults(request: web.Request) -> web.Response:
    state_of(request).faults.configure(FaultConfig())
    return web.json_response(state_of(request).faults.state())


def _drop_everything(con) -> None:
    for project, dataset in con.execute(f"SELECT project, dataset FROM {META_SCHEMA}.datasets").fetchall():
        delete_dataset(con, project, dataset, True)


async def reset(request: web.Request) -> web.Response:
    """Drop every dataset, job and upload session: a clean slate between tests."""
    state = state_of(request)
    await state.engine.call(_drop_everything)
    state.jobs.clear()
    state.request_ids.clear()
    # insertId windows are read under the engine lock, so clear them under it too.
    await state.engine.call(lambda _con: state.insert_ids.clear())
    return web.json_response({"reset": True})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "project": state_of(request).project})


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{ADMIN_PREFIX}/faults", get_faults)
    app.router.add_post(f"{ADMIN_PREFIX}/faults", set_faults)
    app.router.add_delete(f"{ADMIN_PREFIX}/faults", clear_faults)
    app.router.add_post(f"{ADMIN_PREFIX}/reset", reset)
    app.router.add_get(f"{ADMIN_PREFIX}/health", health)
