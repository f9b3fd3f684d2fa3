"""Streaming inference: pipeline configs with live stats, and event intake into streams."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import Counter

from domain.types.errors import InvalidSpec
from domain.types.pipelines import PipelineConfig
from entrypoints.api.errors import read_json
from entrypoints.api.keys import CONTAINER, SETTINGS

ACCEPTED = Counter("mlplane_stream_events_accepted_total", "Events accepted into streams", ["stream"])
routes = web.RouteTableDef()


@routes.put("/v1/pipelines/{name}")
async def put_pipeline(request: web.Request) -> web.Response:
    """Validated against the model the alias serves: mismatched features are a 422."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidSpec("the pipeline must be a JSON object")
    # A GET answer sent back edited carries its live stats: read-only, so ignored rather than refused.
    editable = {key: value for key, value in body.items() if key != "stats"}
    name = request.match_info["name"]
    if editable.get("name", name) != name:  # saving it under the path's name would be a silent rename
        raise InvalidSpec(f"the body names pipeline {editable['name']!r} but the path {name!r}; send the same name "
                          "or leave it out", {"field": "name"})
    config = PipelineConfig.from_dict({**editable, "name": name})
    # Checked against this process's MLPLANE_ACTIONS_TIMEOUT_S: give every process the same one.
    settings = request.app[SETTINGS]
    saved = await request.app[CONTAINER].pipelines().save(config, settings.actions_timeout_s,
                                                           api_token_secret=settings.api_token_secret)
    return web.json_response(saved.to_dict())


@routes.get("/v1/pipelines/{name}")
async def get_pipeline(request: web.Request) -> web.Response:
    return web.json_response(await request.app[CONTAINER].pipelines().get(request.match_info["name"]))


@routes.delete("/v1/pipelines/{name}")
async def delete_pipeline(request: web.Request) -> web.Response:
    """Its consumers stop within seconds; its consumer group goes with it (see PipelineService.delete)."""
    await request.app[CONTAINER].pipelines().delete(request.match_info["name"])
    return web.Response(status=204)


@routes.get("/v1/pipelines")
async def list_pipelines(request: web.Request) -> web.Response:
    return web.json_response({"pipelines": await request.app[CONTAINER].pipelines().list()})


@routes.post("/v1/streams/{name}/events")
async def post_events(request: web.Request) -> web.Response:
    stream = request.match_info["name"]
    body = await read_json(request)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise InvalidSpec('send {"events": [{...}, ...]}', {"field": "events"})
    done = await request.app[CONTAINER].pipelines().ingest(stream, events)
    ACCEPTED.labels(stream).inc(len(done.ids))
    return web.json_response({"accepted": len(done.ids), "ids": done.ids, "warnings": done.warnings}, status=202)
