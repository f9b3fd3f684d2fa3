"""Read-only catalog: warehouse tables, algorithms, models and their versions."""

from __future__ import annotations

from aiohttp import web

from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name, sql_identifier
from domain.types.models import MAX_VERSION
from entrypoints.api.keys import CONTAINER

routes = web.RouteTableDef()


@routes.get("/v1/tables")
async def list_tables(request: web.Request) -> web.Response:
    tables = await request.app[CONTAINER].warehouse().list_tables()
    return web.json_response({"tables": [t.to_dict() for t in tables]})


@routes.get("/v1/tables/{name}")
async def describe_table(request: web.Request) -> web.Response:
    name = sql_identifier(request.match_info["name"], "table")
    return web.json_response((await request.app[CONTAINER].warehouse().describe(name)).to_dict())


@routes.get("/v1/algorithms")
async def list_algorithms(request: web.Request) -> web.Response:
    algorithms = request.app[CONTAINER].backend().algorithms()
    body = [
        {"name": a.name, "family": a.family, "tasks": [t.value for t in a.tasks],
         "hyperparameters": a.hyperparameters_schema}
        for a in algorithms
    ]
    return web.json_response({"algorithms": body})


@routes.get("/v1/models")
async def list_models(request: web.Request) -> web.Response:
    registry = request.app[CONTAINER].registry()
    models = []
    for name in await registry.list_models():
        versions = await registry.list_versions(name)
        latest = versions[-1] if versions else None
        models.append({"name": name, "versions": len(versions), "latest_version": latest and latest.version,
                       "algorithm": latest and latest.algorithm})
    return web.json_response({"models": models})


@routes.get("/v1/models/{name}/versions")
async def list_versions(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    versions = await request.app[CONTAINER].registry().list_versions(name)
    return web.json_response({"model": name, "versions": [_summary(m.to_dict()) for m in versions]})


@routes.get("/v1/models/{name}/versions/{version}")
async def get_version(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    manifest = await request.app[CONTAINER].registry().get_version(name, version_param(request))
    return web.json_response(manifest.to_dict())


def version_param(request: web.Request) -> int:
    raw = request.match_info["version"]
    # ASCII digits only: isdigit() alone takes superscript two (then int() fails, a 500) and the digits of
    # other scripts (Arabic-Indic one was read as version 1).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and 1 <= int(raw) <= MAX_VERSION):
        raise InvalidSpec(f"version must be an integer in 1..{MAX_VERSION}, got {raw[:40]!r}", {"field": "version"})
    return int(raw)


def _summary(manifest: dict[str, object]) -> dict[str, object]:
    keys = ("version", "algorithm", "job_id", "metrics", "created_at")
    return {k: manifest[k] for k in keys}
