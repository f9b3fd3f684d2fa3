"""Registry: aliases (compare-and-swap) and their audit trail, version deletion and artifacts,
retention policies, plans and their application."""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import datetime

from aiohttp import web

from domain.services.aliases import UNCONDITIONAL
from domain.types.errors import InvalidSpec, MlplaneError
from domain.types.identifiers import model_name
from domain.types.lifecycle import RetentionPolicy
from entrypoints.api.errors import parse_body
from entrypoints.api.keys import CONTAINER
from entrypoints.api.routes_catalog import version_param
from entrypoints.api.schemas import AliasMoveIn, RetentionPolicyIn

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.get("/v1/models/{name}/aliases")
async def list_aliases(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    await request.app[CONTAINER].registry().require_model(name)  # a misspelt name is a 404, not "no aliases"
    return web.json_response({"model": name, "aliases": await request.app[CONTAINER].aliases().aliases(name)})


@routes.put("/v1/models/{name}/aliases/{alias}")
async def move_alias(request: web.Request) -> web.Response:
    body = await parse_body(request, AliasMoveIn)
    # An absent expected_version moves unconditionally; an explicit null requires no alias yet.
    expected = body.expected_version if "expected_version" in body.model_fields_set else UNCONDITIONAL
    name, alias = model_name(request.match_info["name"]), model_name(request.match_info["alias"], "alias")
    move = await request.app[CONTAINER].aliases().move(name, alias, body.version, reason=body.reason, by=body.by,
                                                       expected_version=expected)
    # The move stands (a pipeline's features can only be changed to a new model's after it), but the
    # pipelines that will refuse the version are named, as they are in the log.
    try:
        warnings = await request.app[CONTAINER].pipelines().refusing(name, alias, move.to_version)
    except MlplaneError as exc:  # the move is stored: an error now would have a client retry a done move
        warnings = [f"the pipelines serving {name}@{alias} could not be checked against v{move.to_version}: "
                    f"{exc.message}"]
    for warning in warnings:
        log.warning("alias %s@%s moved to v%d: %s", name, alias, move.to_version, warning)
    return web.json_response({**move.to_dict(), "warnings": warnings})


@routes.get("/v1/models/{name}/aliases/{alias}/history")
async def alias_history(request: web.Request) -> web.Response:
    name, alias = model_name(request.match_info["name"]), model_name(request.match_info["alias"], "alias")
    await request.app[CONTAINER].registry().require_model(name)
    aliases = request.app[CONTAINER].aliases()
    if "at" in request.query:
        move = await aliases.serving_at(name, alias, _moment(request.query["at"]))
        return web.json_response({"at": request.query["at"], "version": move and move.to_version,
                                  "move": move and move.to_dict()})
    return web.json_response({"model": name, "alias": alias,
                              "history": [m.to_dict() for m in await aliases.history(name, alias)]})


@routes.delete("/v1/models/{name}/versions/{version}")
async def delete_version(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    manifest = await request.app[CONTAINER].retention().delete_version(name, version_param(request))
    return web.json_response({"deleted": {"model": name, "version": manifest.version}})


@routes.get("/v1/models/{name}/versions/{version}/artifact")
async def download_artifact(request: web.Request) -> web.Response:
    """One file with ?file=NAME (only that file is read and checked, so a corrupt neighbour does not
    block it), else a zip of every file; checksums are verified first."""
    name, version = model_name(request.match_info["name"]), version_param(request)
    registry = request.app[CONTAINER].registry()
    wanted = request.query.get("file")
    if wanted is not None:
        data = await registry.load_file(name, version, wanted)
        return web.Response(body=data, content_type="application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="{wanted}"'})
    _manifest, files = await registry.load_files(name, version)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for file_name, data in sorted(files.items()):
            bundle.writestr(file_name, data)
    return web.Response(body=archive.getvalue(), content_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}-v{version}.zip"'})


@routes.put("/v1/models/{name}/retention")
async def set_retention(request: web.Request) -> web.Response:
    body = await parse_body(request, RetentionPolicyIn)
    policy = RetentionPolicy(body.keep_last, body.keep_days, body.alias_days)
    await request.app[CONTAINER].retention().set_policy(model_name(request.match_info["name"]), policy)
    return web.json_response(body.model_dump())


@routes.get("/v1/models/{name}/retention")
async def get_retention(request: web.Request) -> web.Response:
    """The stored policy, or the daemon's defaults when none was set ("source" says which)."""
    name = model_name(request.match_info["name"])
    await request.app[CONTAINER].registry().require_model(name)
    policy, source = await request.app[CONTAINER].retention().policy_and_source(name)
    return web.json_response({"model": name, "source": source, "policy": {
        "keep_last": policy.keep_last, "keep_days": policy.keep_days, "alias_days": policy.alias_days}})


@routes.get("/v1/models/{name}/retention/plan")
async def retention_plan(request: web.Request) -> web.Response:
    plan = await request.app[CONTAINER].retention().plan(model_name(request.match_info["name"]))
    return web.json_response(plan.to_dict())


@routes.post("/v1/models/{name}/retention/apply")
async def retention_apply(request: web.Request) -> web.Response:
    plan, orphans = await request.app[CONTAINER].retention().apply(model_name(request.match_info["name"]))
    return web.json_response({**plan.to_dict(), "orphans_removed": orphans})


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidSpec(f"'at' must be an RFC 3339 time such as 2026-11-26T12:00:00Z, got {text!r}") from exc
    if moment.tzinfo is None:
        raise InvalidSpec("'at' needs a time zone (e.g. a trailing Z)", {"field": "at"})
    return moment
